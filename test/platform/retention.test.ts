// The retention job (src/platform/retention.job.ts): idempotency keys are deleted once their 24 h
// are over, never before; a key reused after its deletion is a new request; money rows stay.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../src/platform/clock.ts';
import { IDEMPOTENCY_TTL_MS } from '../../src/platform/idempotency.ts';
import { deleteExpired } from '../../src/platform/retention.job.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { balanceOf, createAccount } from '../support/fixtures.ts';

const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
let api: Harness;
before(async () => { api = await startHarness({ clock }); });
after(async () => { await api.checkLedger(); await api.close(); });

async function keyCount(key: string) {
  const rows = await api.app.ctx.db.query(
    'SELECT 1 FROM idempotency_keys WHERE organization_id = $1 AND key = $2', [api.organizationId, key]);
  return rows.length;
}

test('expired idempotency keys are deleted after 24 h, not before, and the key is new again', async () => {
  const account = await createAccount(api);
  const start = (await balanceOf(api, account.id)).available;
  const key = `retention-${randomBytes(6).toString('hex')}`;
  const deposit = () => api.request('POST', `/simulator/accounts/${account.id}/deposits`, {
    body: { amount: 300 }, headers: { 'idempotency-key': key },
  });
  assert.equal((await deposit()).status, 201);
  assert.equal(await keyCount(key), 1);

  clock.advance(IDEMPOTENCY_TTL_MS - 1_000);
  await deleteExpired(api.app.ctx);
  assert.equal(await keyCount(key), 1, 'a key inside its 24 h is kept');
  assert.equal((await deposit()).status, 201, 'the repeat is answered from the stored result');
  assert.equal((await balanceOf(api, account.id)).available, start + 300, 'and moves no money');

  clock.advance(2_000);
  assert.ok(await deleteExpired(api.app.ctx) >= 1);
  assert.equal(await keyCount(key), 0, 'an expired key is deleted');
  assert.equal(await deleteExpired(api.app.ctx), 0, 'nothing left to delete');

  assert.equal((await deposit()).status, 201);
  assert.equal((await balanceOf(api, account.id)).available, start + 600, 'after 24 h the key is a new request');
  assert.equal(await keyCount(key), 1);
});
