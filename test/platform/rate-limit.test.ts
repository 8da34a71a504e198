// API.md "Rate limits": per credential, X-RateLimit-Limit/Remaining/Reset headers, 429 beyond
// with Retry-After, in the envelope.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';

const PER_MINUTE = 5;
let api: Harness;
let secondKey: string;
let otherOrgKey: string;
/** A key spent by the first test. */
let spentKey: string;
const freshKey = async () => (await api.request('POST', '/api-keys', { key: secondKey, body: { name: 'fresh' } })).body.data.key as string;

before(async () => {
  api = await startHarness({ config: { rateLimitPerMinute: PER_MINUTE } });
  // Made before the harness key spends its budget: a second key of the same organization, and another organization.
  secondKey = (await api.request('POST', '/api-keys', { body: { name: 'second' } })).body.data.key;
  otherOrgKey = (await api.otherOrganization()).apiKey;
});
after(async () => { await api.checkLedger(); await api.close(); });

describe('rate limits', () => {
  test(`a credential gets ${PER_MINUTE} requests a minute with X-RateLimit headers, then a 429 rate_limited with Retry-After`, async () => {
    const key = spentKey = await freshKey();
    for (let i = 1; i <= PER_MINUTE; i++) {
      const res = await api.request('GET', '/auth/me', { key });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('x-ratelimit-limit'), String(PER_MINUTE));
      assert.equal(res.headers.get('x-ratelimit-remaining'), String(PER_MINUTE - i));
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      assert.ok(Number.isInteger(reset) && reset >= 0 && reset <= 60, `reset ${reset}`);
    }
    const limited = await api.request('GET', '/auth/me', { key });
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.body.statusCode, 429);
    assert.equal(limited.body.data, null);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.match(limited.body.requestId, /^req_/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${limited.headers.get('retry-after')}`);
    assert.equal(limited.headers.get('x-ratelimit-limit'), String(PER_MINUTE));
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  });

  test('a limited request executes nothing', async () => {
    const key = await freshKey();
    let created = 0;
    for (let i = 0; i < PER_MINUTE + 2; i++) {
      const res = await api.request('POST', '/accounts', {
        key,
        body: { ownerType: 'business', ownerId: 'owner-limited', name: 'Limited', type: 'checking', category: 'fiat', currency: 'USD' },
      });
      if (res.status === 201) created++;
      else assert.equal(res.body.error.code, 'rate_limited', res.text);
    }
    assert.equal(created, PER_MINUTE);
    const [row] = await api.app.ctx.db.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM accounts WHERE organization_id = $1 AND owner_id = 'owner-limited'", [api.organizationId]);
    assert.equal(row.count, PER_MINUTE);
  });

  test('limits are per credential: another key of the same organization, and another organization, still pass', async () => {
    assert.equal((await api.request('GET', '/auth/me', { key: spentKey })).status, 429, 'the first key is spent');
    assert.equal((await api.request('GET', '/auth/me', { key: secondKey })).status, 200);
    assert.equal((await api.request('GET', '/auth/me', { key: otherOrgKey })).status, 200);
  });

  test('a bearer token minted by a key has its own budget', async () => {
    const token = (await api.request('POST', '/auth/tokens', { key: otherOrgKey, body: { ttlSeconds: 60 } })).body.data.token;
    const res = await api.request('GET', '/auth/me', { key: null, bearer: token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-ratelimit-remaining'), String(PER_MINUTE - 1));
  });
});
