// SSRF: without PAYGEN_WEBHOOK_ALLOW_PRIVATE, no spelling of localhost, no private IPv4 address in
// any notation and no IPv6 form that leads to one (mapped, compatible, NAT64, 6to4, Teredo) is
// accepted as a webhook or decision-hook URL, and a host name resolving to one is refused at
// delivery, after DNS resolution.
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { after, before, describe, test, type TestContext } from 'node:test';
import { createDeliveryJob } from '../../src/modules/webhooks/delivery.job.ts';
import { isNonPublicAddress, OutboundError, sendOutbound } from '../../src/platform/outbound-http.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram } from '../support/fixtures.ts';

let strict: Harness;
let open: Harness;
before(async () => {
  strict = await startHarness({ config: { workers: false, webhookAllowPrivate: false } });
  open = await startHarness({ config: { workers: false, webhookAllowPrivate: true } });
});
after(async () => {
  await strict.checkLedger();
  await open.checkLedger();
  await strict.close();
  await open.close();
});

/** Hosts that all lead to this machine or a private network, however they are written. */
const REFUSED_HOSTS = [
  'localhost', 'LOCALHOST', 'localhost.', 'localhost..', 'api.localhost', 'Deep.Api.LocalHost.', '%6cocalhost',
  '127.1', '127.0.0.1.', '0x7f.0.0.1', '0x7f000001', '2130706433', '017700000001', '0177.0.0.1', '0', '0.0.0.0',
  '10.0.0.1', '169.254.169.254', '[::1]', '[::]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]',
  '[::ffff:10.0.0.1]', '[::127.0.0.1]', '[::ffff:0:127.0.0.1]', '[64:ff9b::127.0.0.1]', '[64:ff9b::8.8.8.8]',
  '[64:ff9b:1::a00:1]', '[2002:7f00:1::]', '[2002:a9fe:a9fe::1]', '[2001:0:4136:e378:8000:63bf:3fff:fdd2]',
  '[fe80::1]', '[fd00::1]',
];

const refusedAt = (res: { status: number; body: any; text: string }, what: string) => {
  assert.equal(res.status, 422, `${what}: ${res.text}`);
  assert.equal(res.body.error.code, 'webhook_url_not_allowed', what);
};

describe('at creation', () => {
  test('every spelling is refused by POST and PATCH /webhooks and by card programs', async () => {
    const hook = await strict.request('POST', '/webhooks', { body: { url: 'https://hooks.example.com/paygen', events: ['*'] } });
    assert.equal(hook.status, 201, hook.text);
    const existing = await createProgram(strict);
    for (const host of REFUSED_HOSTS) {
      const url = `http://${host}:8080/hooks`;
      refusedAt(await strict.request('POST', '/webhooks', { body: { url, events: ['*'] } }), `POST /webhooks ${url}`);
      refusedAt(await strict.request('PATCH', `/webhooks/${hook.body.data.id}`, { body: { url } }), `PATCH /webhooks ${url}`);
      const authorizationWebhook = { url, timeoutMs: 1_000, fallback: 'decline' };
      const program = { name: `ssrf ${host}`, brand: 'Visa', bin: '45990000', currency: 'USD', authorizationWebhook };
      refusedAt(await strict.request('POST', '/card-programs', { body: program }), `POST /card-programs ${url}`);
      const patch = { authorizationWebhook };
      refusedAt(await strict.request('PATCH', `/card-programs/${existing.id}`, { body: patch }), `PATCH /card-programs ${url}`);
    }
    const unchanged = await strict.request('GET', `/webhooks/${hook.body.data.id}`);
    assert.equal(unchanged.body.data.url, 'https://hooks.example.com/paygen');
    await strict.request('DELETE', `/webhooks/${hook.body.data.id}`);
  });

  test('public addresses, including the IPv6 forms of public IPv4 addresses, stay allowed', async () => {
    const publicHosts = [
      'hooks.example.com', '93.184.216.34', '[2606:4700:4700::1111]', '[::ffff:8.8.8.8]', '[2002:808:808::1]', 'localhost.example.com',
    ];
    for (const host of publicHosts) {
      const res = await strict.request('POST', '/webhooks', { body: { url: `https://${host}/hooks`, events: ['*'] } });
      assert.equal(res.status, 201, `${host}: ${res.text}`);
      await strict.request('DELETE', `/webhooks/${res.body.data.id}`);
    }
  });

  test('with private targets allowed (the sandbox default) the same URLs are accepted', async () => {
    for (const host of ['localhost.', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]', '0x7f.0.0.1']) {
      const res = await open.request('POST', '/webhooks', { body: { url: `http://${host}:9/hooks`, events: ['*'] } });
      assert.equal(res.status, 201, `${host}: ${res.text}`);
      await open.request('DELETE', `/webhooks/${res.body.data.id}`);
    }
  });

  test('the address checks on the IPv6 translation forms', () => {
    const translated = [
      '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b:1::1', '::ffff:0:7f00:1', '::7f00:1', '2002:7f00:1::', '2002:c0a8:101::1',
      '2001:0:4136:e378::1',
    ];
    for (const address of translated) {
      assert.equal(isNonPublicAddress(address), true, address);
    }
    for (const address of ['2002:808:808::1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001:80b::200e']) {
      assert.equal(isNonPublicAddress(address), false, address);
    }
  });
});

/** Makes every DNS query answer `address` (as a resolver an attacker controls would). */
function resolveEverythingTo(t: TestContext, address: string) {
  return t.mock.method(dns, 'lookup', (_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const family = address.includes(':') ? 6 : 4;
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  });
}

describe('at delivery, after DNS resolution', () => {
  for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1', '10.1.2.3']) {
    test(`a host name that resolves to ${address} is refused and nothing is sent`, async (t) => {
      const body = { url: 'http://rebinding.example.com:8080/hooks', events: ['account.created'] };
      const created = await strict.request('POST', '/webhooks', { body });
      assert.equal(created.status, 201, created.text);
      const lookup = resolveEverythingTo(t, address);
      await createAccount(strict);
      assert.ok(await createDeliveryJob({ organizationId: strict.organizationId }).run(strict.app.ctx) >= 1);
      const [delivery] = (await strict.request('GET', `/webhooks/${created.body.data.id}/deliveries`)).body.data;
      assert.equal(delivery.status, 'pending');
      const { error } = delivery.attempts[0];
      assert.equal(error.startsWith(`refused_address: rebinding.example.com resolves to ${address}, a private`), true, error);
      assert.ok(lookup.mock.callCount() >= 1, 'the name went through DNS');
      await strict.request('DELETE', `/webhooks/${created.body.data.id}`);
    });
  }

  test('localhost names are refused at call time without asking DNS', async (t) => {
    const lookup = resolveEverythingTo(t, '93.184.216.34');
    for (const host of ['localhost', 'LOCALHOST.', 'api.localhost', 'localhost..']) {
      await assert.rejects(
        sendOutbound({ url: `http://${host}:9/hooks`, headers: {}, body: '{}', timeoutMs: 1_000, maxResponseBytes: 100, allowPrivate: false }),
        (e: unknown) => e instanceof OutboundError && e.kind === 'refused_address' && /resolves to 127\.0\.0\.1, a private/.test(e.message),
        host,
      );
    }
    assert.equal(lookup.mock.callCount(), 0);
  });
});
