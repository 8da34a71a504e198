// Reveal routes: POST /cards/:id/reveal-sessions (authenticated), and the hosted reveal page
// GET /card-reveal/:token with its JSON twin GET /card-reveal/:token/data (public: the single-use
// token is the credential; the app's request log hides it, see logUrl in app.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/auth.ts';
import type { Ctx } from '../../platform/context.ts';
import { envelope, ErrorBody, IdParams, responses, send } from '../../platform/envelope.ts';
import { ApiError, toApiError } from '../../platform/errors.ts';
import { revealMessagePage, revealPage, sendRevealPage } from './card-reveal-page.ts';
import {
  CreateRevealSessionBody, RevealedCard, RevealSession, RevealTokenParams,
} from './card-reveal.schemas.ts';
import * as service from './card-reveal.service.ts';

/** How long a browser may reuse a preflight answer: the token lives at most 5 minutes anyway. */
const PREFLIGHT_MAX_AGE_SECONDS = 300;

export async function cardRevealRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/cards/:id/reveal-sessions', {
    config: { secretResponse: true },
    schema: {
      tags: ['Cards'], summary: 'Create a single-use link that reveals PAN, CVV and expiry once',
      operationId: 'createCardRevealSession',
      description: 'Returns a single-use token and the URL of the hosted reveal page (and of its JSON), ' +
        'valid ttlSeconds (at most 300). Put the page in an iframe on allowedOrigin: the card data goes ' +
        'from Paygen to the card holder\'s browser, never through your servers.',
      errorCodes: { 409: ['card_not_usable'], 422: ['invalid_origin'] },
      params: IdParams, body: CreateRevealSessionBody,
      response: responses(201, envelope(RevealSession), 'Reveal session created'),
    },
  }, async (req, reply) => {
    const baseUrl = `${req.protocol}://${req.host}`;
    const session = await service.createRevealSession(ctx, principalOf(req), req.params.id, req.body, baseUrl);
    return send(reply, 201, 'Reveal session created successfully.', session);
  });

  await app.register(revealPageRoutes, { ctx });
}

const html = Type.String({ description: 'An HTML page.' });
const pageError = (description: string) => ({
  description, content: { 'text/html': { schema: html }, 'application/json': { schema: Type.Ref(ErrorBody) } },
});
const errorRef = Type.Ref(ErrorBody);
const revealErrors = {
  404: ['not_found'], 409: ['card_not_usable'], 410: ['reveal_token_used', 'reveal_token_expired'],
} as const;

/** CORS for the session's own origin only: any other origin gets no CORS header at all. */
function allowOrigin(req: FastifyRequest, reply: FastifyReply, allowedOrigin: string | null | undefined) {
  reply.header('vary', 'Origin');
  if (allowedOrigin && req.headers.origin === allowedOrigin) reply.header('access-control-allow-origin', allowedOrigin);
}

const revealRequest = (req: FastifyRequest, via: service.RevealChannel): service.RevealRequest =>
  ({ via, ip: req.ip, userAgent: req.headers['user-agent'] ?? null });

/** The public routes, in their own context: the page's HTML errors stay out of the API. */
async function revealPageRoutes(app: FastifyInstance, { ctx }: { ctx: Ctx }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['Hosted pages'];

  // The page answers errors as a page (framed like the page would be); the JSON route, a JSON
  // client (Accept: application/json) and any 5xx get the API's envelope from the app's handler.
  app.setErrorHandler(async (error, req: FastifyRequest<{ Params: { token?: string } }>, reply) => {
    const apiError = toApiError(error);
    const wantsJson = /application\/json/i.test(req.headers.accept ?? '');
    if (wantsJson || req.routeOptions.url?.endsWith('/data') || apiError.statusCode >= 500) throw error;
    const token = req.params?.token;
    const session = token ? await service.peekSession(ctx, token).catch(() => undefined) : undefined;
    return sendRevealPage(reply, apiError.statusCode, session?.allowed_origin ?? null,
      (nonce) => revealMessagePage(nonce, 'These card details cannot be shown', apiError.message));
  });

  r.get('/card-reveal/:token', {
    config: { public: true },
    schema: {
      tags, summary: 'The hosted reveal page (HTML): PAN, CVV and expiry, once',
      operationId: 'getHostedRevealPage',
      description: 'Shows the card number, CVV and expiry with copy buttons. The token in the path is the ' +
        'credential and works once (across this page and its JSON). Framed only by the session\'s allowedOrigin.',
      errorCodes: revealErrors, security: [], params: RevealTokenParams,
      response: {
        200: { description: 'The card details', content: { 'text/html': { schema: html } } },
        404: pageError('Unknown link'), 409: pageError('The card can no longer be revealed'),
        410: pageError('Used or expired link'), 422: pageError('Malformed token'), 429: pageError('Too many requests'),
      },
    },
  }, async (req, reply) => {
    const { card, session } = await service.reveal(ctx, req.params.token, revealRequest(req, 'page'));
    return sendRevealPage(reply, 200, session.allowed_origin, (nonce) => revealPage(nonce, card));
  });

  r.get('/card-reveal/:token/data', {
    config: { public: true },
    schema: {
      tags, summary: 'The card details as JSON, once',
      operationId: 'getRevealedCardData',
      description: 'The same as the hosted page, as JSON, for a page on allowedOrigin that draws its own ' +
        'form (Access-Control-Allow-Origin names allowedOrigin only). The token works once.',
      errorCodes: revealErrors, security: [], params: RevealTokenParams,
      response: {
        200: { ...envelope(RevealedCard), description: 'The card details' },
        404: errorRef, 409: errorRef, 410: errorRef, 422: errorRef, 429: errorRef,
      },
    },
  }, async (req, reply) => {
    const origin = (await service.peekSession(ctx, req.params.token))?.allowed_origin;
    allowOrigin(req, reply, origin);
    reply.header('cache-control', 'no-store');
    const { card } = await service.reveal(ctx, req.params.token, revealRequest(req, 'json'));
    return send(reply, 200, 'Card details revealed.', card);
  });

  r.options('/card-reveal/:token/data', {
    config: { public: true },
    schema: {
      tags, summary: 'CORS preflight for the JSON reveal',
      operationId: 'preflightRevealedCardData',
      description: 'Answers a browser\'s preflight: CORS headers only when Origin is the session\'s ' +
        'allowedOrigin. Does not use the token.',
      errorCodes: { 404: ['not_found'] }, security: [], params: RevealTokenParams,
      response: {
        200: { description: 'Empty', content: { 'text/plain': { schema: Type.String({ maxLength: 0 }) } } },
        404: errorRef, 422: errorRef, 429: errorRef,
      },
    },
  }, async (req, reply) => {
    const session = await service.peekSession(ctx, req.params.token);
    if (!session) throw new ApiError(404, 'not_found', 'This reveal link is unknown.');
    allowOrigin(req, reply, session.allowed_origin);
    if (reply.hasHeader('access-control-allow-origin')) {
      reply.header('access-control-allow-methods', 'GET')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
      const asked = req.headers['access-control-request-headers'];
      if (asked) reply.header('access-control-allow-headers', 'accept');
    }
    return reply.code(200).header('content-type', 'text/plain').send('');
  });
}
