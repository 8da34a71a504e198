import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { EVENT_CATALOG } from '../../src/modules/events/events.catalog.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

test('the catalog lists every event type with a description and a sample', async () => {
  const res = await api.request('GET', '/events/catalog');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.data.map((e: any) => e.type).sort(), Object.keys(EVENT_CATALOG).sort());
  for (const entry of res.body.data) {
    assert.ok(entry.description.length > 5, entry.type);
    assert.ok(Object.keys(entry.sample).length > 0, entry.type);
  }
});

test('events are recorded with the change, numbered per resource, filterable and readable by id', async () => {
  const account = await createAccount(api);
  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'One' } });
  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'Two' } });
  const events = await api.request('GET', `/events?resourceId=${account.id}&sort=createdAt`);
  assert.deepEqual(events.body.data.map((e: any) => [e.type, e.sequence]), [
    ['account.created', 1], ['account.deposit_received', 2], ['account.updated', 3], ['account.updated', 4],
  ]);
  const last = events.body.data[3];
  assert.equal(last.data.name, 'Two');
  assert.deepEqual(last.previousAttributes, { name: 'One' });
  assert.equal(last.resource, 'account');
  const byType = await api.request('GET', '/events?type=account.updated');
  assert.ok(byType.body.data.every((e: any) => e.type === 'account.updated'));
  assert.deepEqual(byType.body.meta.filters, { type: 'account.updated' });
  const one = await api.request('GET', `/events/${last.id}`);
  assert.deepEqual(one.body.data, last);
});

test('a failed change records no event', async () => {
  const account = await createAccount(api);
  const before = await api.request('GET', `/events?resourceId=${account.id}`);
  const bad = await api.request('POST', `/accounts/${account.id}/close`);
  assert.equal(bad.status, 422);
  const after = await api.request('GET', `/events?resourceId=${account.id}`);
  assert.equal(after.body.data.length, before.body.data.length);
});

test('another organization cannot read these events', async () => {
  const account = await createAccount(api);
  const events = await api.request('GET', `/events?resourceId=${account.id}`);
  const other = await api.otherOrganization();
  assert.equal((await api.request('GET', `/events/${events.body.data[0].id}`, { key: other.apiKey })).status, 404);
  const theirs = await api.request('GET', `/events?resourceId=${account.id}`, { key: other.apiKey });
  assert.deepEqual(theirs.body.data, []);
});
