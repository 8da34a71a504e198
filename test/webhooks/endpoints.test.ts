// Webhook endpoints: validation, the secret shown once, SSRF refusals and tenancy.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { createDeliveryJob } from '../../src/modules/webhooks/delivery.job.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let api: Harness;
let strict: Harness;
let receiver: Receiver;

before(async () => {
  api = await startHarness({ config: { workers: false } });
  strict = await startHarness({ config: { workers: false, webhookAllowPrivate: false } });
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
  await api.checkLedger();
  await strict.checkLedger();
  await api.close();
  await strict.close();
});

test('create, read, list, update and delete an endpoint; the secret is shown once', async () => {
  const created = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['card.created', 'card.created', 'account.created'] } });
  assert.equal(created.status, 201, created.text);
  const hook = created.body.data;
  assert.match(hook.id, /^whk_/);
  assert.deepEqual(hook.events, ['card.created', 'account.created'], 'duplicates dropped');
  assert.equal(hook.enabled, true);
  assert.equal(hook.description, null);
  assert.match(hook.secret, /^whsec_/);
  const read = await api.request('GET', `/webhooks/${hook.id}`);
  assert.equal(read.status, 200);
  assert.equal('secret' in read.body.data, false);
  assert.ok(!read.text.includes(hook.secret.slice(6)), 'the secret never shows again');
  const list = await api.request('GET', '/webhooks');
  assert.ok(list.body.data.some((w: any) => w.id === hook.id));
  assert.ok(!list.text.includes(hook.secret.slice(6)));

  const patched = await api.request('PATCH', `/webhooks/${hook.id}`, { body: { events: ['*', 'card.created'], description: 'all of them' } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.data.events, ['*']);
  assert.equal(patched.body.data.description, 'all of them');

  const deleted = await api.request('DELETE', `/webhooks/${hook.id}`);
  assert.equal(deleted.status, 200);
  assert.equal((await api.request('GET', `/webhooks/${hook.id}`)).status, 404);
  assert.ok(!(await api.request('GET', '/webhooks')).body.data.some((w: any) => w.id === hook.id));
});

test('unknown event types, bad URLs and empty lists are refused', async () => {
  const unknown = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['card.created', 'card.exploded'] } });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.error.code, 'unknown_event_type');
  assert.match(unknown.body.message, /card\.exploded/);
  for (const url of ['ftp://example.com/hooks', 'not a url', 'https://user:pass@example.com/hooks']) {
    const res = await api.request('POST', '/webhooks', { body: { url, events: ['*'] } });
    assert.equal(res.status, 422, url);
    assert.equal(res.body.error.code, 'invalid_webhook_url', url);
  }
  const empty = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: [] } });
  assert.equal(empty.status, 422);
  assert.equal(empty.body.error.code, 'validation_failed');
  const { body } = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['*'] } });
  const patch = await api.request('PATCH', `/webhooks/${body.data.id}`, { body: { events: ['nope'] } });
  assert.equal(patch.body.error.code, 'unknown_event_type');
  await api.request('DELETE', `/webhooks/${body.data.id}`);
});

test('without PAYGEN_WEBHOOK_ALLOW_PRIVATE, private targets are refused at creation and at delivery', async () => {
  for (const url of ['http://127.0.0.1:9/hooks', 'http://10.1.2.3/hooks', 'http://169.254.169.254/latest', 'http://[::1]:9/hooks', 'http://localhost:9/hooks']) {
    const res = await strict.request('POST', '/webhooks', { body: { url, events: ['*'] } });
    assert.equal(res.status, 422, url);
    assert.equal(res.body.error.code, 'webhook_url_not_allowed', url);
  }
  // A host name passes creation and is refused after DNS resolution: the machine's own name
  // resolves to a loopback or private address (127.0.1.1 on Debian, the bridge address in a container).
  const byName = await strict.request('POST', '/webhooks', { body: { url: receiver.url.replace('127.0.0.1', hostname()), events: ['account.created'] } });
  assert.equal(byName.status, 201, byName.text);
  await createAccount(strict);
  assert.equal(await createDeliveryJob({ organizationId: strict.organizationId }).run(strict.app.ctx), 1);
  const [delivery] = (await strict.request('GET', `/webhooks/${byName.body.data.id}/deliveries`)).body.data;
  assert.equal(delivery.status, 'pending');
  assert.match(delivery.attempts[0].error, /^refused_address: .* resolves to .*private/);
  assert.equal(receiver.received.length, 0, 'nothing reached the receiver');

  // An IP literal allowed when it was saved is refused once the setting changes.
  const saved = await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['account.created'] } });
  api.app.ctx.config.webhookAllowPrivate = false;
  try {
    await createAccount(api);
    await createDeliveryJob({ organizationId: api.organizationId }).run(api.app.ctx);
  } finally {
    api.app.ctx.config.webhookAllowPrivate = true;
  }
  const [refused] = (await api.request('GET', `/webhooks/${saved.body.data.id}/deliveries`)).body.data;
  assert.match(refused.attempts[0].error, /^refused_address: 127\.0\.0\.1/);
  assert.equal(receiver.received.length, 0);
  await api.request('DELETE', `/webhooks/${saved.body.data.id}`);
});

test('another organization\'s endpoints and deliveries answer 404', async () => {
  const hook = (await api.request('POST', '/webhooks', { body: { url: receiver.url, events: ['account.created'] } })).body.data;
  const account = await createAccount(api);
  const event = (await api.request('GET', `/events?resourceId=${account.id}&type=account.created`)).body.data[0];
  const other = await api.otherOrganization();
  const as = { key: other.apiKey };
  for (const [method, path, body] of [
    ['GET', `/webhooks/${hook.id}`], ['PATCH', `/webhooks/${hook.id}`, { enabled: false }], ['DELETE', `/webhooks/${hook.id}`],
    ['POST', `/webhooks/${hook.id}/rotate-secret`], ['POST', `/webhooks/${hook.id}/test`], ['GET', `/webhooks/${hook.id}/deliveries`],
    ['POST', `/webhooks/${hook.id}/replay`, { since: '2020-01-01T00:00:00Z' }], ['GET', `/events/${event.id}/deliveries`], ['POST', `/events/${event.id}/resend`],
  ] as const) {
    const res = await api.request(method, path, { ...as, body });
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
  }
  const theirs = (await api.request('POST', '/webhooks', { ...as, body: { url: receiver.url, events: ['*'] } })).body.data;
  const cross = await api.request('POST', `/events/${event.id}/resend`, { body: { webhookId: theirs.id } });
  assert.equal(cross.status, 422);
  assert.equal(cross.body.error.code, 'webhook_not_found');
  assert.ok(!(await api.request('GET', '/webhooks', as)).body.data.some((w: any) => w.id === hook.id));
  // Their "*" endpoint never receives our events.
  const before = receiver.received.length;
  await createDeliveryJob({ organizationId: api.organizationId }).run(api.app.ctx);
  assert.ok(receiver.received.slice(before).every((r) => r.payload.type === 'account.created' && r.payload.resourceId === account.id));
  assert.equal((await api.request('GET', `/webhooks/${theirs.id}/deliveries`, as)).body.data.length, 0);
  assert.equal((await api.request('GET', `/webhooks/${hook.id}`)).body.data.enabled, true, 'unchanged by their attempts');
});
