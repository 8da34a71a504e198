// Card reveal: POST /cards/:id/reveal-sessions makes a single-use token (TTL ≤ 300 s) stored only
// as a keyed hash; GET /card-reveal/:token shows PAN, CVV and expiry on a page framed only by the
// session's allowedOrigin; GET /card-reveal/:token/data is the same as JSON with CORS for that
// origin only. One token reveals once across both, also under racing requests; each reveal emits
// card.revealed without the data; the CVV is derived, stable and stored nowhere.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { groupPan } from '../../src/modules/cards/card-reveal-page.ts';
import { DEFAULT_REVEAL_TTL_SECONDS, MAX_REVEAL_TTL_SECONDS } from '../../src/modules/cards/card-reveal.schemas.ts';
import type { Response } from '../support/api.ts';
import { startPinHarness, type PinHarness } from '../card-pins/support.ts';

let h: PinHarness;
before(async () => { h = await startPinHarness(); });
after(async () => { await h.api.checkLedger(); await h.api.close(); });

const ORIGIN = 'https://app.example.com';
const HTML = { accept: 'text/html' };

interface Session { id: string; cardId: string; token: string; url: string; dataUrl: string; allowedOrigin: string | null; expiresAt: string }

async function newSession(cardId: string, body: Record<string, unknown> = {}, key?: string): Promise<Session> {
  const res = await h.call('POST', `/cards/${cardId}/reveal-sessions`, { body, key });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}

const openPage = (token: string, headers: Record<string, string> = HTML) => h.call('GET', `/card-reveal/${token}`, { key: null, headers });
const openData = (token: string, headers: Record<string, string> = {}) => h.call('GET', `/card-reveal/${token}/data`, { key: null, headers });

/** Every table's rows as one text, to search for a value that must be stored nowhere. */
async function wholeDatabase(): Promise<string> {
  const tables = await h.api.app.ctx.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  let text = '';
  for (const { tablename } of tables) {
    text += JSON.stringify(await h.api.app.ctx.db.query(`SELECT * FROM "${tablename}"`));
  }
  return text;
}

function cspOf(res: Response) {
  return res.headers.get('content-security-policy') ?? '';
}

async function revealedEvents(cardId: string) {
  const res = await h.call('GET', '/events?type=card.revealed&limit=100');
  assert.equal(res.status, 200, res.text);
  return (res.body.data as Array<{ data: Record<string, unknown> }>).filter((e) => e.data.cardId === cardId);
}

describe('POST /cards/:id/reveal-sessions', () => {
  test('201 with a single-use token, the page and data URLs, a default TTL; only the keyed hash is stored', async () => {
    const card = await h.issueCard();
    const res = await h.call('POST', `/cards/${card.id}/reveal-sessions`, { body: {} });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const session = res.body.data as Session;
    assert.match(session.id, /^revses_[0-9a-z]{26}$/);
    assert.match(session.token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(session.url, `${h.api.baseUrl}/card-reveal/${session.token}`);
    assert.equal(session.dataUrl, `${session.url}/data`);
    assert.equal(session.allowedOrigin, null);
    assert.equal(session.expiresAt, new Date(h.clock.now().getTime() + DEFAULT_REVEAL_TTL_SECONDS * 1000).toISOString());
    const rows = await h.api.app.ctx.db.query<Record<string, unknown>>('SELECT * FROM card_reveal_sessions WHERE id = $1', [session.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].token_hash, h.api.app.ctx.vault.hash('credential-hash', session.token));
    assert.equal(JSON.stringify(rows[0]).includes(session.token), false);
  });

  test('ttlSeconds up to 300 is kept; 301 or 0 is 422 validation_failed', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id, { ttlSeconds: MAX_REVEAL_TTL_SECONDS });
    assert.equal(session.expiresAt, new Date(h.clock.now().getTime() + MAX_REVEAL_TTL_SECONDS * 1000).toISOString());
    for (const ttlSeconds of [MAX_REVEAL_TTL_SECONDS + 1, 0]) {
      const res = await h.call('POST', `/cards/${card.id}/reveal-sessions`, { body: { ttlSeconds } });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.code, 'validation_failed');
    }
  });

  test('allowedOrigin must be an https origin (http only for localhost) without path: else 422 invalid_origin', async () => {
    const card = await h.issueCard();
    for (const allowedOrigin of ['https://app.example.com:8443', 'http://localhost:5173', 'http://127.0.0.1:8080']) {
      assert.equal((await newSession(card.id, { allowedOrigin })).allowedOrigin, allowedOrigin);
    }
    for (const allowedOrigin of ['http://app.example.com', 'https://app.example.com/', 'https://app.example.com/reveal',
      'https://app.example.com?x=1', 'https://user:pw@app.example.com', 'javascript:alert(1)', 'app.example.com', '*', "https://a.com 'unsafe-inline'"]) {
      const res = await h.call('POST', `/cards/${card.id}/reveal-sessions`, { body: { allowedOrigin } });
      assert.equal(res.status, 422, `${allowedOrigin}: ${res.text}`);
      assert.equal(res.body.error.code, 'invalid_origin', allowedOrigin);
    }
  });

  test('a locked card reveals; cancelled or suspended is 409 card_not_usable; another organization\'s card is 404', async () => {
    const locked = await h.issueCard();
    assert.equal((await h.call('POST', `/cards/${locked.id}/freeze`)).status, 200);
    assert.equal((await openData((await newSession(locked.id)).token)).status, 200);

    const suspended = await h.issueCard();
    assert.equal((await h.call('POST', `/simulator/cards/${suspended.id}/suspend`, { body: { reason: 'risk review' } })).status, 200);
    const cancelled = await h.issueCard();
    assert.equal((await h.call('DELETE', `/cards/${cancelled.id}`)).status, 200);
    for (const card of [suspended, cancelled]) {
      const res = await h.call('POST', `/cards/${card.id}/reveal-sessions`, { body: {} });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error.code, 'card_not_usable');
    }

    const other = await h.api.otherOrganization();
    const theirs = await h.call('POST', `/cards/${locked.id}/reveal-sessions`, { body: {}, key: other.apiKey });
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.body.error.code, 'not_found');
  });

  test('a card cancelled after the session was made reveals nothing (409) and the token is not spent', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id);
    assert.equal((await h.call('DELETE', `/cards/${card.id}`)).status, 200);
    const res = await openData(session.token);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'card_not_usable');
    assert.equal(res.text.includes('"pan"'), false);
    const [row] = await h.api.app.ctx.db.query<{ used_at: Date | null }>('SELECT used_at FROM card_reveal_sessions WHERE id = $1', [session.id]);
    assert.equal(row.used_at, null);
  });
});

describe('GET /card-reveal/:token (hosted page)', () => {
  test('shows PAN grouped, CVV and expiry with copy buttons, behind strict headers; not framable without allowedOrigin', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id);
    const res = await openPage(session.token);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const csp = cspOf(res);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.ok(res.text.includes(`<script nonce="${nonce}">`), 'the inline script carries the nonce');
    assert.ok(res.text.includes(`<style nonce="${nonce}">`), 'the inline style carries the nonce');
    assert.equal(/\b(src|href)=/i.test(res.text), false, 'no external asset or link');
    assert.equal(res.headers.get('access-control-allow-origin'), null);

    const data = await revealViaDb(card.id);
    assert.ok(res.text.includes(groupPan(data.pan)), 'the PAN, grouped by four');
    assert.match(groupPan(data.pan), /^\d{4} \d{4} \d{4} \d{4}$/);
    assert.ok(res.text.includes(`<dd id="cvv">${data.cvv}</dd>`));
    const expiry = `${String(card.expiry.month).padStart(2, '0')}/${String(card.expiry.year % 100).padStart(2, '0')}`;
    assert.ok(res.text.includes(`<dd id="expiry">${expiry}</dd>`));
    assert.equal((res.text.match(/data-copy=/g) ?? []).length, 3, 'a copy button per value');
  });

  test('with allowedOrigin, frame-ancestors names it and only it; no X-Frame-Options', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id, { allowedOrigin: ORIGIN });
    const res = await openPage(session.token);
    assert.equal(res.status, 200, res.text);
    assert.match(cspOf(res), /frame-ancestors https:\/\/app\.example\.com$/);
    assert.equal(res.headers.get('x-frame-options'), null);
  });

  test('a used link is 410 reveal_token_used, an unknown one 404, as HTML pages that reveal nothing', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id, { allowedOrigin: ORIGIN });
    assert.equal((await openPage(session.token)).status, 200);
    const again = await openPage(session.token);
    assert.equal(again.status, 410, again.text);
    assert.match(again.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(again.headers.get('cache-control'), 'no-store');
    assert.match(again.text, /already used/);
    assert.equal(again.text.includes('data-copy'), false);
    const json = await openData(session.token);
    assert.equal(json.status, 410);
    assert.equal(json.body.error.code, 'reveal_token_used');
    const unknown = await openPage('A'.repeat(32));
    assert.equal(unknown.status, 404, unknown.text);
    assert.match(unknown.headers.get('content-type') ?? '', /text\/html/);
    assert.match(cspOf(unknown), /frame-ancestors 'none'/);
  });
});

describe('GET /card-reveal/:token/data (JSON)', () => {
  test('the same data as JSON, no-store; CORS only for the session\'s origin', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id, { allowedOrigin: ORIGIN });
    const res = await openData(session.token, { origin: ORIGIN });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    const data = res.body.data;
    assert.equal(data.cardId, card.id);
    assert.match(data.pan, /^\d{16}$/);
    assert.equal(data.pan.slice(-4), card.lastFour);
    assert.match(data.cvv, /^\d{3}$/);
    assert.deepEqual([data.expiryMonth, data.expiryYear], [card.expiry.month, card.expiry.year]);

    const elsewhere = await openData((await newSession(card.id, { allowedOrigin: ORIGIN })).token, { origin: 'https://evil.example' });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
    const noOrigin = await openData((await newSession(card.id)).token, { origin: ORIGIN });
    assert.equal(noOrigin.status, 200);
    assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
  });

  test('the preflight allows GET for the session\'s origin only, and does not spend the token', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id, { allowedOrigin: ORIGIN });
    const preflight = (origin: string) => h.call('OPTIONS', `/card-reveal/${session.token}/data`, {
      key: null, headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'accept' },
    });
    const ok = await preflight(ORIGIN);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET');
    const evil = await preflight('https://evil.example');
    assert.equal(evil.status, 200);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
    const unknown = await h.call('OPTIONS', `/card-reveal/${'B'.repeat(32)}/data`, { key: null, headers: { origin: ORIGIN } });
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal((await openData(session.token, { origin: ORIGIN })).status, 200);
  });

  test('ten racing requests across page and JSON: exactly one reveals, the others are 410 reveal_token_used', async () => {
    const card = await h.issueCard();
    const session = await newSession(card.id);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? openPage(session.token) : openData(session.token))));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, ...Array(9).fill(410)], results.map((r) => r.text.slice(0, 80)).join('\n'));
    for (const res of results.filter((r) => r.status === 410)) {
      assert.equal(res.text.includes(card.lastFour + '"') || /\d{4} \d{4} \d{4} \d{4}/.test(res.text), false);
    }
    assert.equal((await revealedEvents(card.id)).length, 1);
  });

  test('expiry follows the injected clock: live until expiresAt, then 410 reveal_token_expired', async () => {
    const card = await h.issueCard();
    const first = await newSession(card.id, { ttlSeconds: 30 });
    const second = await newSession(card.id, { ttlSeconds: 30 });
    h.clock.advance(29_999);
    assert.equal((await openData(first.token)).status, 200);
    h.clock.advance(1);
    const late = await openData(second.token);
    assert.equal(late.status, 410, late.text);
    assert.equal(late.body.error.code, 'reveal_token_expired');
    assert.equal(late.body.data, null);
    const page = await openPage(second.token);
    assert.equal(page.status, 410);
    assert.match(page.text, /expired/);
  });
});

/** The card's PAN and CVV through a fresh JSON reveal. */
async function revealViaDb(cardId: string): Promise<{ pan: string; cvv: string }> {
  const res = await openData((await newSession(cardId)).token);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

describe('card.revealed and the CVV', () => {
  test('each reveal emits card.revealed with who, when and how, never the PAN or CVV', async () => {
    const card = await h.issueCard();
    const page = await newSession(card.id);
    h.clock.advance(1000);
    assert.equal((await openPage(page.token, { ...HTML, 'user-agent': 'RevealTest/1.0' })).status, 200);
    const { pan, cvv } = await revealViaDb(card.id);
    const events = await revealedEvents(card.id);
    assert.equal(events.length, 2);
    const viaPage = events.find((e) => e.data.sessionId === page.id);
    assert.ok(viaPage);
    const keys = await h.call('GET', '/api-keys');
    assert.equal(keys.status, 200, keys.text);
    assert.deepEqual(viaPage.data, {
      cardId: card.id, sessionId: page.id, revealedAt: h.clock.now().toISOString(), via: 'page',
      requestedBy: viaPage.data.requestedBy, ip: viaPage.data.ip, userAgent: 'RevealTest/1.0',
    });
    assert.equal((viaPage.data.requestedBy as { type: string }).type, 'api_key');
    assert.ok((keys.body.data as Array<{ id: string }>).some((k) => k.id === (viaPage.data.requestedBy as { id: string }).id));
    assert.match(String(viaPage.data.ip), /127\.0\.0\.1/);
    assert.deepEqual(events.map((e) => e.data.via).sort(), ['json', 'page']);
    const text = JSON.stringify(events);
    assert.equal(text.includes(pan), false, 'no PAN in the event');
    assert.equal(text.includes(groupPan(pan)), false);
    // A loopback IP is left out of the scan: a CVV of 127 would match it (about one run in 1,000).
    const loopback = (ip: unknown) => /^(::ffff:)?127\.0\.0\.1$/.test(String(ip));
    const scanned = JSON.stringify(events.map((e) => ({ ...e.data, ip: loopback(e.data.ip) ? undefined : e.data.ip })));
    assert.equal(new RegExp(`"cvv"|\\b${cvv}\\b`).test(scanned), false, 'no CVV in the event data');
  });

  test('the CVV is the same on every reveal and is stored in no table; the PAN only sealed', async () => {
    const card = await h.issueCard();
    const first = await revealViaDb(card.id);
    const second = await revealViaDb(card.id);
    assert.equal(second.cvv, first.cvv);
    assert.equal(second.pan, first.pan);
    const other = await revealViaDb((await h.issueCard()).id);
    assert.notEqual(other.pan, first.pan);
    const everything = await wholeDatabase();
    assert.equal(everything.includes(first.pan), false, 'the PAN is stored only sealed');
    assert.equal(new RegExp(`"cvv":|"${first.cvv}"`).test(everything), false, 'no CVV column or value');
  });

  test('the debug log holds neither the token, nor the PAN, nor the CVV', async () => {
    const card = await h.issueCard();
    const page = await newSession(card.id, { allowedOrigin: ORIGIN });
    assert.equal((await openPage(page.token)).status, 200);
    const json = await newSession(card.id);
    const { pan, cvv } = (await openData(json.token)).body.data;
    const log = h.log();
    assert.match(log, /\/card-reveal\/\[redacted\]/, 'the reveal requests are logged, token hidden');
    for (const secret of [page.token, json.token, pan, groupPan(pan)]) assert.equal(log.includes(secret), false, 'a secret in the log');
    assert.equal(new RegExp(`"cvv"|"${cvv}"`).test(log), false, 'no CVV in the log');
  });
});
