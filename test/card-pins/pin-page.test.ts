// The hosted PIN page: POST /cards/:id/pin-sessions makes a single-use link with a 10-minute
// lifetime whose token is stored hashed; GET /card-pin/:token renders a form with strict security
// headers; POST /card-pin/:token (form or JSON) sets the PIN once, a refused PIN leaving the link
// usable; used, expired and unknown links look alike. No PIN or token in logs, events or answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { escapeHtml } from '../../src/modules/cards/card-pin-page.ts';
import { PIN_SESSION_TTL_MS } from '../../src/modules/cards/card-pins.service.ts';
import { hashPin } from '../../src/modules/cards/pin.ts';
import type { Response } from '../support/api.ts';
import { containsPin, logLeaks, startPinHarness, withoutCardDigits, type PinHarness } from './support.ts';

let h: PinHarness;
const stored = new Set<string>();
const tokens: string[] = [];

before(async () => { h = await startPinHarness(); });
after(async () => { await h.api.checkLedger(); await h.api.close(); });

const HTML = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

async function newSession(cardId: string) {
  const res = await h.call('POST', `/cards/${cardId}/pin-sessions`);
  assert.equal(res.status, 201, res.text);
  tokens.push(res.body.data.token);
  return res.body.data as { id: string; cardId: string; token: string; url: string; expiresAt: string };
}

const openPage = (token: string) => h.call('GET', `/card-pin/${token}`, { key: null, headers: HTML });
const submitForm = (token: string, fields: Record<string, string>) =>
  h.call('POST', `/card-pin/${token}`, { key: null, raw: new URLSearchParams(fields).toString(), headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' } });
const submitJson = (token: string, body: unknown) => h.call('POST', `/card-pin/${token}`, { key: null, body, headers: { accept: 'application/json' } });

function assertPageHeaders(res: Response) {
  assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /form-action 'self'/);
  const nonce = /style-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  assert.ok(nonce, csp);
  assert.ok(res.text.includes(`<style nonce="${nonce}">`), 'the inline style carries the nonce');
  assert.equal(/<script/i.test(res.text), false, 'no script at all');
  assert.equal(/\b(src|href)=/i.test(res.text), false, 'no external asset or link');
  return nonce;
}

async function pinHashOf(cardId: string) {
  const [row] = await h.api.app.ctx.db.query<{ pin_hash: string | null }>('SELECT pin_hash FROM cards WHERE id = $1', [cardId]);
  return row.pin_hash;
}

describe('POST /cards/:id/pin-sessions', () => {
  test('201 with a single-use link that expires in 10 minutes; only the token\'s keyed hash is stored', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id);
    assert.match(session.id, /^pinses_[0-9a-z]{26}$/);
    assert.equal(session.cardId, card.id);
    assert.match(session.token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(session.url, `${h.api.baseUrl}/card-pin/${session.token}`);
    assert.equal(PIN_SESSION_TTL_MS, 10 * 60 * 1000);
    assert.equal(session.expiresAt, new Date(h.clock.now().getTime() + PIN_SESSION_TTL_MS).toISOString());
    const rows = await h.api.app.ctx.db.query<Record<string, unknown>>('SELECT * FROM card_pin_sessions WHERE id = $1', [session.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].token_hash, h.api.app.ctx.vault.hash('credential-hash', session.token));
    assert.equal(JSON.stringify(rows[0]).includes(session.token), false);
  });

  test('a cancelled card gets no link (409 card_not_usable); another organization\'s card is 404; no credential is 401', async () => {
    const card = await h.issueCard();
    const other = await h.api.otherOrganization();
    const theirs = await h.call('POST', `/cards/${card.id}/pin-sessions`, { key: other.apiKey });
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.body.error.code, 'not_found');
    assert.equal((await h.call('POST', `/cards/${card.id}/pin-sessions`, { key: null })).status, 401);
    assert.equal((await h.call('DELETE', `/cards/${card.id}`)).status, 200);
    const cancelled = await h.call('POST', `/cards/${card.id}/pin-sessions`);
    assert.equal(cancelled.status, 409, cancelled.text);
    assert.equal(cancelled.body.error.code, 'card_not_usable');
  });
});

describe('the hosted PIN page', () => {
  test('GET renders the form, public, with strict headers and nothing external', async () => {
    const card = await h.issueCard();
    const { token } = await newSession(card.id);
    const res = await openPage(token);
    assert.equal(res.status, 200, res.text);
    assertPageHeaders(res);
    assert.ok(res.text.includes(`Card ending in ${card.lastFour}`));
    assert.match(res.text, /<form method="post"/);
    assert.match(res.text, /name="pin" type="password"/);
    assert.match(res.text, /name="pinConfirmation" type="password"/);
    assert.equal(res.text.includes(token), false, 'the page does not write its token out');
    // Opening the page twice is fine: only a successful submission uses the link.
    assert.equal((await openPage(token)).status, 200);
  });

  test('a weak, malformed or unconfirmed PIN shows the form again (422) and leaves the link usable', async () => {
    const card = await h.issueCard({ dateOfBirth: '1988-05-30' });
    const { token } = await newSession(card.id);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ pin: '1234', pinConfirmation: '1234' }, /too easy to guess \(ascending digits\)/],
      [{ pin: '0530', pinConfirmation: '0530' }, /birth date/],
      [{ pin: '2580', pinConfirmation: '2580' }, /keypad/],
      [{ pin: '4826', pinConfirmation: '4827' }, /The two PINs differ/],
      [{ pin: '48a6', pinConfirmation: '48a6' }, /The PIN is 4 digits/],
      [{ pin: '<b>x</b>', pinConfirmation: '' }, /The PIN is 4 digits/],
    ];
    for (const [fields, message] of cases) {
      const res = await submitForm(token, fields);
      assert.equal(res.status, 422, `${JSON.stringify(fields)}: ${res.text}`);
      assertPageHeaders(res);
      assert.match(res.text, message);
      assert.match(res.text, /<form method="post"/, 'the form again');
      assert.equal(res.text.includes('<b>x</b>'), false, 'what was typed is never echoed');
    }
    assert.equal(await pinHashOf(card.id), null);
    assert.equal((await openPage(token)).status, 200, 'the link still works');
  });

  test('a good PIN is set once: success page, keyed hash, event from the hosted page; the link is then dead', async () => {
    const card = await h.issueCard();
    const { token } = await newSession(card.id);
    const pin = card.lastFour === '4826' ? '5017' : '4826';
    const res = await submitForm(token, { pin, pinConfirmation: pin });
    assert.equal(res.status, 200, res.text);
    assertPageHeaders(res);
    assert.match(res.text, /Your PIN is set/);
    stored.add(pin);
    assert.equal(await pinHashOf(card.id), hashPin(h.api.app.ctx.vault, card.id, pin));
    assert.equal((await h.call('GET', `/cards/${card.id}`)).body.data.isPinSet, true);
    const events = await h.call('GET', `/events?resourceId=${card.id}&type=card.pin_updated`);
    assert.equal(events.body.data.length, 1);
    assert.equal(events.body.data[0].data.source, 'hosted_page');

    const again = await submitForm(token, { pin: '7391', pinConfirmation: '7391' });
    assert.equal(again.status, 404, again.text);
    assertPageHeaders(again);
    assert.equal((await openPage(token)).status, 404);
    assert.equal(await pinHashOf(card.id), hashPin(h.api.app.ctx.vault, card.id, pin), 'the used link changed nothing');
  });

  test('two submissions of one link at once: exactly one sets the PIN', async () => {
    const card = await h.issueCard();
    const { token } = await newSession(card.id);
    const results = await Promise.all(['4826', '7391', '5017'].map((pin) => submitForm(token, { pin, pinConfirmation: pin })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 404, 404]);
    const winner = ['4826', '7391', '5017'][results.findIndex((r) => r.status === 200)];
    stored.add(winner);
    assert.equal(await pinHashOf(card.id), hashPin(h.api.app.ctx.vault, card.id, winner));
  });

  test('JSON in, JSON out: the envelope on success and the error envelope on failure', async () => {
    const card = await h.issueCard();
    const { token } = await newSession(card.id);
    const weak = await submitJson(token, { pin: '1111', pinConfirmation: '1111' });
    assert.equal(weak.status, 422, weak.text);
    assert.equal(weak.body.error.code, 'weak_pin');
    const pin = card.lastFour === '5017' ? '7391' : '5017';
    const ok = await submitJson(token, { pin });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.data, { cardId: card.id, isPinSet: true, updatedAt: h.clock.now().toISOString() });
    stored.add(pin);
    const used = await submitJson(token, { pin });
    assert.equal(used.status, 404);
    assert.equal(used.body.error.code, 'not_found');
    const extra = await submitJson(token, { pin, cardId: card.id });
    assert.equal(extra.status, 422);
    assert.equal(extra.body.error.code, 'validation_failed');
  });

  test('expired, used and unknown links answer the same 404 page, with no detail', async () => {
    const card = await h.issueCard();
    const expiring = await newSession(card.id);
    h.clock.advance(PIN_SESSION_TTL_MS - 1);
    assert.equal((await openPage(expiring.token)).status, 200, 'still valid 1 ms before the end');
    h.clock.advance(1);
    const expired = await openPage(expiring.token);
    assert.equal(expired.status, 404);
    const expiredPost = await submitForm(expiring.token, { pin: '4826', pinConfirmation: '4826' });
    assert.equal(expiredPost.status, 404);
    assert.equal(await pinHashOf(card.id), null);

    const unknown = await openPage('A'.repeat(32));
    const tooLong = await openPage('A'.repeat(65));
    const scrub = (text: string) => text.replace(/nonce="[^"]+"/, '');
    assert.equal(unknown.status, 404);
    assert.equal(scrub(unknown.text), scrub(expired.text), 'an unknown link looks like an expired one');
    assert.match(unknown.text, /This link is not valid/);
    assert.ok(tooLong.status === 404 || tooLong.status === 422, `${tooLong.status}`);
    assert.equal(tooLong.text.includes('A'.repeat(65)), false);
  });

  test('a new link replaces the card\'s open one; a card cancelled after the link was made gets a 409 page', async () => {
    const card = await h.issueCard();
    const first = await newSession(card.id);
    const second = await newSession(card.id);
    assert.equal((await openPage(first.token)).status, 404);
    assert.equal((await openPage(second.token)).status, 200);
    assert.equal((await h.call('POST', `/cards/${card.id}/cancel`)).status, 200);
    const page = await openPage(second.token);
    assert.equal(page.status, 409, page.text);
    assert.match(page.text, /can no longer take a PIN/);
    const post = await submitForm(second.token, { pin: '4826', pinConfirmation: '4826' });
    assert.equal(post.status, 409);
    assert.equal(await pinHashOf(card.id), null);
  });

  test('bodies that are not the form: too large is 413, another type is 415, both as pages', async () => {
    const card = await h.issueCard();
    const { token } = await newSession(card.id);
    const large = await h.call('POST', `/card-pin/${token}`, { key: null, raw: `pin=4826&pinConfirmation=${'9'.repeat(2000)}`, headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(large.status, 413, large.text);
    assertPageHeaders(large);
    const text = await h.call('POST', `/card-pin/${token}`, { key: null, raw: 'pin=4826', headers: { ...HTML, 'content-type': 'text/plain' } });
    assert.equal(text.status, 415, text.text);
    assert.equal(await pinHashOf(card.id), null);
    assert.equal((await openPage(token)).status, 200, 'the link still works');
  });

  test('escapeHtml escapes the five HTML specials', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('no PIN and no token leaves', () => {
  test('no response, event or log line holds a PIN that was set; no log line holds a link token', async () => {
    assert.ok(stored.size >= 2, `${stored.size} PINs set`);
    for (const pin of stored) for (const text of h.responses) assert.equal(containsPin(withoutCardDigits(text), pin), false, `${pin} in ${text.slice(0, 200)}`);
    const events = await h.api.app.ctx.db.query('SELECT data FROM events WHERE organization_id = $1', [h.api.organizationId]);
    for (const pin of stored) for (const event of events) assert.equal(containsPin(withoutCardDigits(JSON.stringify(event)), pin), false, `${pin} in an event`);
    for (const token of tokens) for (const event of events) assert.equal(JSON.stringify(event).includes(token), false, 'a link token in an event');
    await new Promise((resolve) => setImmediate(resolve));
    const log = h.log();
    assert.ok(log.includes('/card-pin/[redacted]'), 'the page requests were logged, without their token');
    assert.deepEqual(logLeaks(log, stored), []);
    for (const token of tokens) assert.equal(log.includes(token), false, 'a link token in the log');
  });
});
