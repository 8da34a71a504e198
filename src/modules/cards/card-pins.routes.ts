// PIN routes: PUT /cards/:id/pin and POST /cards/:id/pin-sessions (authenticated), and the hosted
// PIN page GET|POST /card-pin/:token (public: the single-use token is the credential; the app's
// request log hides it, see logUrl in app.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, ErrorBody, IdParams, responses, send } from '../../platform/envelope.ts';
import { toApiError } from '../../platform/errors.ts';
import { messagePage, pinForm, sendPage } from './card-pin-page.ts';
import * as service from './card-pins.service.ts';
import { PinPageBody, PinSession, PinStatus, SetPinBody, TokenParams } from './card-pins.schemas.ts';

/** The hosted form posts two 4-digit fields: anything much larger is not this form. */
export const MAX_PIN_FORM_BYTES = 1024;

export async function cardPinsRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Cards'];

  r.put('/cards/:id/pin', {
    schema: {
      tags, summary: 'Set or change the card PIN (never returned)',
      operationId: 'setCardPin',
      description: 'Sets the 4-digit PIN. Weak PINs (repeated or sequential digits, common PINs, years, the ' +
        'holder\'s birth date) are refused. The PIN is never stored in clear nor returned.',
      errorCodes: { 409: ['card_not_usable'], 422: ['weak_pin'] },
      params: IdParams, body: SetPinBody, response: responses(200, envelope(PinStatus), 'PIN set'),
    },
  }, async (req, reply) => send(reply, 200, 'PIN set successfully.', await service.setPin(ctx, principalOf(req).organizationId, req.params.id, req.body.pin)));

  r.post('/cards/:id/pin-sessions', {
    config: { secretResponse: true },
    schema: {
      tags, summary: 'Create a single-use link to the hosted PIN page (10 minutes)',
      operationId: 'createCardPinSession',
      description: 'Returns a single-use URL of the hosted PIN page, valid 10 minutes, to send to the card ' +
        'holder: the PIN never passes through your servers.',
      errorCodes: { 409: ['card_not_usable'] },
      params: IdParams, response: responses(201, envelope(PinSession), 'PIN session created'),
    },
  }, async (req, reply) => {
    const session = await service.createPinSession(ctx, principalOf(req).organizationId, req.params.id, `${req.protocol}://${req.host}`);
    return send(reply, 201, 'PIN session created successfully.', session);
  });

  await app.register(pinPageRoutes, { ctx });
}

/** JSON for API clients (JSON body or Accept: application/json), HTML for browsers. */
const wantsJson = (req: FastifyRequest) =>
  /application\/json/i.test(req.headers.accept ?? '') || /^application\/json/i.test(req.headers['content-type'] ?? '');

const html = Type.String({ description: 'An HTML page.' });
const pageError = (description: string) => ({ description, content: { 'application/json': { schema: Type.Ref(ErrorBody) }, 'text/html': { schema: html } } });
const pageErrors = {
  404: pageError('Unknown, used or expired link'), 409: pageError('The card can no longer take a PIN'),
  413: pageError('Body too large'), 415: pageError('Not a form or JSON body'), 422: pageError('Weak or malformed PIN: the form again, the link still works'),
  429: pageError('Too many requests'),
};

/** The hosted page, in its own context: its form parser and HTML errors stay out of the API. */
async function pinPageRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Hosted pages'];

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_PIN_FORM_BYTES }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // JSON clients get the API's error envelope (rethrown to the app's handler); browsers a page.
  app.setErrorHandler(async (error, req: FastifyRequest<{ Params: { token?: string } }>, reply) => {
    const apiError = toApiError(error);
    if (wantsJson(req) || apiError.statusCode >= 500) throw error;
    for (const [name, value] of Object.entries(apiError.headers)) reply.header(name, value);
    return renderError(ctx, reply, apiError.statusCode, apiError.message, req.params?.token);
  });

  r.get('/card-pin/:token', {
    config: { public: true },
    schema: {
      tags, summary: 'The hosted PIN page (HTML form)',
      operationId: 'getHostedPinPage',
      description: 'The HTML form the card holder opens from a PIN session link. The token in the path is ' +
        'the credential.',
      errorCodes: { 409: ['card_not_usable'] },
      security: [], params: TokenParams,
      response: { 200: { description: 'The form', content: { 'text/html': { schema: html } } }, ...pageErrors },
    },
  }, async (req, reply) => {
    const { lastFour } = await service.openPinPage(ctx, req.params.token);
    return sendPage(reply, 200, (nonce) => pinForm(nonce, lastFour));
  });

  r.post('/card-pin/:token', {
    config: { public: true },
    schema: {
      tags, summary: 'Submit the hosted PIN form (form-encoded or JSON); the link then stops working',
      operationId: 'submitHostedPinPage',
      description: 'Sets the PIN from the hosted form. A refused PIN shows the form again and the link ' +
        'keeps working; a set PIN ends the link.',
      errorCodes: { 409: ['card_not_usable'], 422: ['weak_pin'] },
      security: [],
      consumes: ['application/x-www-form-urlencoded', 'application/json'], params: TokenParams, body: PinPageBody,
      response: {
        200: { description: 'PIN set', content: { 'application/json': { schema: envelope(PinStatus) }, 'text/html': { schema: html } } },
        ...pageErrors,
      },
    },
  }, async (req, reply) => {
    const status = await service.setPinFromPage(ctx, req.params.token, req.body);
    if (wantsJson(req)) return send(reply, 200, 'PIN set successfully.', status);
    return sendPage(reply, 200, (nonce) => messagePage(nonce, 'Your PIN is set', 'You can close this page. Use the new PIN at ATMs and card terminals.'));
  });
}

async function renderError(ctx: Ctx, reply: FastifyReply, statusCode: number, message: string, token: string | undefined) {
  if (statusCode === 404) {
    return sendPage(reply, 404, (nonce) => messagePage(nonce, 'This link is not valid', 'It is unknown, already used or expired. Ask for a new link.'));
  }
  if (statusCode === 409) {
    return sendPage(reply, 409, (nonce) => messagePage(nonce, 'The PIN cannot be set', 'This card can no longer take a PIN.'));
  }
  if (statusCode === 422 && token) {
    // A refused PIN leaves the link usable: show the form again with the reason.
    try {
      const { lastFour } = await service.openPinPage(ctx, token);
      return sendPage(reply, 422, (nonce) => pinForm(nonce, lastFour, message));
    } catch (error) {
      return renderError(ctx, reply, toApiError(error).statusCode, toApiError(error).message, undefined);
    }
  }
  return sendPage(reply, statusCode, (nonce) => messagePage(nonce, 'The request was refused', message));
}
