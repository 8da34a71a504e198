// With REDIS_URL the rate-limit counters live in Redis, so several API processes share one budget
// per credential. Skipped (with the reason) where no Redis listens on 127.0.0.1:6379, as on a
// laptop with only Node.js; CI's machine has one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { onPostgres, send, startHarness, type Harness } from '../support/api.ts';

const REDIS_URL = process.env.PAYGEN_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
// High enough that the harness's own unauthenticated signups (counted per IP, shared through Redis
// by every run on this machine within the minute) never hit it; each test counts on a fresh key.
const PER_MINUTE = 1_000;
const FAILED_LOGINS_PER_ACCOUNT = 3;

async function redisListens(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 500 }, () => { socket.end(); resolve(true); });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => { socket.destroy(); resolve(false); });
  });
}

const skip = (await redisListens()) ? false : `no Redis at ${REDIS_URL}`;

describe('rate limits in Redis', { skip }, () => {
  const apps: Harness[] = [];
  after(async () => {
    for (const app of apps) {
      await app.checkLedger();
      await app.close();
    }
  });

  test('the counter is kept in Redis under the credential', async () => {
    const api = await startHarness({ config: { rateLimitPerMinute: PER_MINUTE, redisUrl: REDIS_URL } });
    apps.push(api);
    const me = await api.request('GET', '/auth/me');
    assert.equal(me.status, 200, me.text);
    const credentialId = me.body.data.credential.id;
    for (let i = 0; i < 4; i++) assert.equal((await api.request('GET', '/auth/me')).status, 200);
    const last = await api.request('GET', '/auth/me');
    assert.equal(last.headers.get('x-ratelimit-remaining'), String(PER_MINUTE - 6));
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`paygen-rate-limit:*${credentialId}*`);
      assert.equal(keys.length, 1, JSON.stringify(keys));
      assert.equal(Number(await redis.get(keys[0])), 6);
    } finally {
      redis.disconnect();
    }
  });

  test('failed logins are counted in Redis: an account locked through one process is locked on another, and the email is not stored', async () => {
    const config = { redisUrl: REDIS_URL, failedLoginsPerAccountPerMinute: FAILED_LOGINS_PER_ACCOUNT };
    const first = await startHarness({ config });
    const second = await startHarness({ config });
    apps.push(first, second);
    // A fresh address per run: the per-account counter of an email no earlier run used.
    const email = `redis-${randomBytes(6).toString('hex')}@example.com`;
    const login = (target: Harness) => target.request('POST', '/auth/login', { key: null, body: { email, password: 'wrong password' } });
    for (let i = 0; i < FAILED_LOGINS_PER_ACCOUNT; i++) assert.equal((await login(i % 2 ? second : first)).status, 401);
    const limited = await login(second);
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys('paygen-failed-auth:account:*');
      assert.ok(keys.length >= 1);
      assert.equal(keys.some((key) => key.includes(email) || key.includes(email.split('@')[0])), false, 'emails are kept hashed');
    } finally {
      redis.disconnect();
    }
  });

  test('two API processes on one PostgreSQL share the budget of a credential', { skip: onPostgres() ? false : 'needs a shared database (npm run test:pg)' }, async () => {
    const first = await startHarness({ config: { rateLimitPerMinute: PER_MINUTE, redisUrl: REDIS_URL } });
    const second = await startHarness({ config: { rateLimitPerMinute: PER_MINUTE, redisUrl: REDIS_URL } });
    apps.push(first, second);
    // The first app's key works on both (one database); its budget is one, whichever process counts.
    const remaining: string[] = [];
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? first.baseUrl : second.baseUrl;
      const res = await send(target, 'GET', '/auth/me', {}, first.apiKey);
      assert.equal(res.status, 200, res.text);
      remaining.push(res.headers.get('x-ratelimit-remaining') ?? '');
    }
    const counted = remaining.map(Number);
    assert.deepEqual(counted, counted.map((_, i) => counted[0] - i), `one shared counter: ${remaining.join(', ')}`);
  });
});
