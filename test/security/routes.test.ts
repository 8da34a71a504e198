// The shared security suite (DESIGN §7): it enumerates every route the app registered (from
// Fastify's route tree, not a list) and proves that
//   1. every route but the public ones answers 401 without a valid credential, before it reads
//      the body, so a new route without auth fails this suite the day it is added;
//   2. another organization's ids answer 404 not_found on every route with a path id, exactly
//      like ids that do not exist, and nothing of the owner's changes;
//   3. lists and body references never cross organizations.
// A new resource with `:id` routes needs a fixture in FIXTURES (and, for mutations with a body, a
// valid body in BODIES): the coverage test below names what is missing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness, type RequestOptions } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { isPublic, registeredRoutes, type RouteEntry } from './route-table.ts';

let api: Harness;
let routes: RouteEntry[];
let other: { apiKey: string; organizationId: string };
/** Org A's ids by the path segment that precedes the parameter (`/accounts/:id` → accounts). */
const ids: Record<string, string> = {};

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
const pngForm = (field = 'idDocumentFront') => {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'front.png');
  return form;
};
const hasRoute = (method: string, url: string) => routes.some((r) => r.method === method && r.url === url);

/** How to make one of each resource in org A, keyed by the segment before its id parameter. */
const FIXTURES: Record<string, () => Promise<void>> = {
  async accounts() { ids.accounts = (await createAccount(api)).id; },
  async 'card-programs'() { ids['card-programs'] = (await createProgram(api)).id; },
  async cards() {
    const card = await issueNameOnlyCard(api, { id: ids.accounts }, { id: ids['card-programs'] }, 500);
    assert.equal(card.status, 201, card.text);
    ids.cards = card.body.data.id;
  },
  async 'api-keys'() { ids['api-keys'] = (await api.request('POST', '/api-keys', { body: { name: 'owned by A' } })).body.data.id; },
  async 'card-holders'() {
    if (!hasRoute('POST', '/card-holders')) return;
    const form = pngForm();
    for (const [name, value] of Object.entries({ firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', phoneNumber: '+14155550100', dateOfBirth: '1990-07-14', nationality: 'US', addressLine1: '123 Main St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' })) form.append(name, value);
    const holder = await api.request('POST', '/card-holders', { form });
    assert.equal(holder.status, 201, holder.text);
    ids['card-holders'] = holder.body.data.id;
    if (holder.body.data.documents?.length) ids.documents = holder.body.data.documents[0].id;
  },
  async budgets() {
    const budget = await api.request('POST', '/budgets', { body: { accountId: ids.accounts, name: 'Owned by A', currency: 'USD', limit: { amount: 1_000, interval: 'monthly' } } });
    assert.equal(budget.status, 201, budget.text);
    ids.budgets = budget.body.data.id;
  },
  async authorizations() {
    const auth = await api.request('POST', '/simulator/authorizations', { body: { cardId: ids.cards, amount: 100, currency: 'USD', merchant: { name: 'Shop', mcc: '5411', country: 'US' }, entryMode: 'chip' } });
    assert.equal(auth.status, 201, auth.text);
    ids.authorizations = auth.body.data.id;
  },
  async transactions() {
    const txn = await api.request('POST', '/simulator/force-captures', { body: { cardId: ids.cards, amount: 50, merchant: { name: 'Shop', mcc: '5411', country: 'US' } } });
    assert.equal(txn.status, 201, txn.text);
    ids.transactions = txn.body.data.id;
  },
  async disputes() {
    const dispute = await api.request('POST', '/disputes', { body: { transactionId: ids.transactions, reason: 'fraudulent', explanation: 'Not me.' } });
    assert.equal(dispute.status, 201, dispute.text);
    ids.disputes = dispute.body.data.id;
    const evidence = await api.request('POST', `/disputes/${ids.disputes}/evidence`, { form: pngForm('receipt') });
    assert.equal(evidence.status, 200, evidence.text);
    ids.evidence = evidence.body.data.evidence.files[0].id;
  },
  async 'signing-keys'() {
    const key = await api.request('POST', '/signing-keys', { body: { keyId: 'routes-test', algorithm: 'hmac-sha256' } });
    assert.equal(key.status, 201, key.text);
    ids['signing-keys'] = key.body.data.id;
  },
  async webhooks() {
    const hook = await api.request('POST', '/webhooks', { body: { url: 'http://127.0.0.1:9/hooks', events: ['*'] } });
    assert.equal(hook.status, 201, hook.text);
    ids.webhooks = hook.body.data.id;
  },
  // Last: events of everything above exist by now.
  async events() { ids.events = (await api.request('GET', '/events?limit=1')).body.data[0].id; },
};

/** A valid request body per mutation route with a path id, so the 404 is reached past validation. */
const BODIES: Record<string, () => RequestOptions> = {
  'PATCH /accounts/:id': () => ({ body: { name: 'Hijacked' } }),
  'PATCH /card-programs/:id': () => ({ body: { name: 'Hijacked' } }),
  'POST /simulator/accounts/:id/deposits': () => ({ body: { amount: 100 } }),
  'PATCH /card-holders/:id': () => ({ body: { firstName: 'Hijacked' } }),
  'POST /card-holders/:id/documents': () => ({ form: pngForm('proofOfAddress') }),
  'POST /simulator/card-holders/:id/kyc': () => ({ body: { status: 'rejected', reason: 'hijacked' } }),
  'PATCH /budgets/:id': () => ({ body: { name: 'Hijacked' } }),
  'PATCH /cards/:id': () => ({ body: { label: 'Hijacked' } }),
  'POST /cards/:id/top-up': () => ({ body: { amount: 100 } }),
  'POST /cards/:id/withdraw': () => ({ body: { amount: 100 } }),
  'POST /cards/:id/replace': () => ({ body: { reason: 'stolen' } }),
  'POST /accounts/:id/cards': () => ({ body: { firstName: 'Ada', lastName: 'Lovelace', type: 'virtual', currency: 'USD', typeId: ids['card-programs'], amount: 100 } }),
  'PUT /cards/:id/pin': () => ({ body: { pin: '4826' } }),
  'PATCH /webhooks/:id': () => ({ body: { description: 'Hijacked' } }),
  'POST /webhooks/:id/replay': () => ({ body: { since: '2020-01-01T00:00:00.000Z' } }),
  'POST /simulator/cards/:id/tokenizations': () => ({ body: { walletType: 'apple_pay' } }),
  'POST /simulator/authorizations/:id/increment': () => ({ body: { amount: 1 } }),
  'POST /disputes/:id/evidence': () => ({ body: { trackingNumber: 'HIJACKED-1' } }),
  'POST /simulator/disputes/:id/resolve': () => ({ body: { outcome: 'won' } }),
};

const paramsOf = (url: string) => [...url.matchAll(/\/([^/]+)\/:([A-Za-z]+)/g)].map((m) => ({ segment: m[1], name: m[2] }));
/** A well-formed id of the same kind that does not exist. */
const absent = (id: string) => `${id.slice(0, -8)}00000000`;

function fill(url: string, pick: (segment: string) => string) {
  return url.replace(/\/([^/]+)\/:([A-Za-z]+)/g, (_all, segment: string) => `/${segment}/${pick(segment)}`).replace(/:([A-Za-z]+)/g, 'x').replace(/\*$/, 'x');
}

function optionsFor(route: RouteEntry): RequestOptions {
  const make = BODIES[`${route.method} ${route.url}`];
  if (make) return make();
  return ['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {};
}

/** What org A sees of each fixture: must be identical before and after org B's attempts. */
async function snapshot() {
  const shots: Record<string, string> = {};
  for (const [segment, id] of Object.entries(ids)) {
    if (['accounts', 'cards', 'card-programs', 'card-holders', 'events', 'budgets', 'disputes'].includes(segment)) {
      const res = await api.request('GET', `/${segment}/${id}`);
      assert.equal(res.status, 200, `${segment}: ${res.text}`);
      shots[segment] = JSON.stringify(res.body.data);
    }
  }
  shots.apiKey = JSON.stringify((await api.request('GET', '/api-keys?limit=100')).body.data.find((k: any) => k.id === ids['api-keys']));
  shots.eventCount = String((await api.request('GET', '/events?limit=100')).body.data.length);
  return shots;
}

before(async () => {
  api = await startHarness();
  routes = registeredRoutes(api.app);
  other = await api.otherOrganization();
  for (const make of Object.values(FIXTURES)) await make();
});
after(async () => { await api.checkLedger(); await api.close(); });

describe('authentication on every route', () => {
  test('the route table is read from the app', () => {
    const names = routes.map((r) => `${r.method} ${r.url}`);
    for (const known of ['POST /accounts', 'GET /accounts/:id', 'POST /cards', 'DELETE /api-keys/:id', 'GET /health']) {
      assert.ok(names.includes(known), `${known} in ${names.join(', ')}`);
    }
    assert.ok(routes.filter((r) => !isPublic(r)).length >= 20);
  });

  test('every route but the public ones answers 401 unauthorized without a credential, whatever the body', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => !isPublic(r))) {
      const path = fill(route.url, () => 'x');
      for (const credential of [{ key: null }, { key: 'sk_sbx_not_a_key' }, { key: null, bearer: 'pgt_not_a_token' }] as RequestOptions[]) {
        const res = await api.request(route.method, path, { ...optionsFor(route), ...credential });
        if (res.status !== 401 || res.body?.error?.code !== 'unauthorized') {
          failures.push(`${route.method} ${route.url} with ${JSON.stringify(credential)} → ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
    }
    assert.deepEqual(failures, [], 'routes reachable without a valid credential (add auth, or list them in PUBLIC_ROUTES if API.md says so)');
  });

  test('with the owner\'s ids in the path, a missing credential is still a 401 (no existence oracle)', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => !isPublic(r) && paramsOf(r.url).length)) {
      if (!paramsOf(route.url).every((p) => ids[p.segment])) continue;
      const res = await api.request(route.method, fill(route.url, (segment) => ids[segment]), { ...optionsFor(route), key: null });
      if (res.status !== 401) failures.push(`${route.method} ${route.url} → ${res.status}`);
    }
    assert.deepEqual(failures, []);
  });

  test('public routes answer without a credential', async () => {
    for (const route of routes.filter(isPublic)) {
      const res = await api.request(route.method, fill(route.url, () => 'x'), { ...optionsFor(route), key: null });
      assert.notEqual(res.status, 401, `${route.method} ${route.url}: ${res.text.slice(0, 200)}`);
      assert.ok(res.status < 500, `${route.method} ${route.url}: ${res.status}`);
    }
  });
});

describe('tenancy on every route with a path id', () => {
  test('every resource with an id route has a fixture and every mutation a valid body', () => {
    const missing: string[] = [];
    for (const route of routes.filter((r) => !isPublic(r))) {
      for (const { segment } of paramsOf(route.url)) {
        if (!ids[segment]) missing.push(`${route.method} ${route.url}: no fixture for "${segment}" (add it to FIXTURES)`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('another organization\'s ids answer 404 not_found, exactly like ids that do not exist, and change nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes.filter((r) => !isPublic(r) && paramsOf(r.url).length)) {
      if (!paramsOf(route.url).every((p) => ids[p.segment])) continue;
      const name = `${route.method} ${route.url}`;
      const theirs = await api.request(route.method, fill(route.url, (segment) => ids[segment]), { ...optionsFor(route), key: other.apiKey });
      const nobody = await api.request(route.method, fill(route.url, (segment) => absent(ids[segment])), { ...optionsFor(route), key: other.apiKey });
      checked++;
      if (theirs.status === 422 && theirs.body?.error?.code === 'validation_failed') {
        failures.push(`${name}: the body did not validate, add a valid body to BODIES (${theirs.text.slice(0, 160)})`);
        continue;
      }
      if (theirs.status !== 404 || theirs.body?.error?.code !== 'not_found') failures.push(`${name} → ${theirs.status} ${theirs.text.slice(0, 160)}`);
      // The message may name the id: compare it with the absent ids swapped back to the owner's.
      const expected = Object.values(ids).reduce((text, id) => text.replaceAll(absent(id), id), String(nobody.body?.message ?? ''));
      if (theirs.status !== nobody.status || theirs.body?.error?.code !== nobody.body?.error?.code || theirs.body?.message !== expected) {
        failures.push(`${name}: another org's id (${theirs.status} ${theirs.body?.message}) differs from an absent id (${nobody.status} ${nobody.body?.message})`);
      }
    }
    assert.ok(checked >= 8, `only ${checked} id routes checked`);
    assert.deepEqual(failures, []);
    assert.deepEqual(await snapshot(), before, 'the owner\'s resources did not change');
    assert.equal((await api.request('GET', '/auth/me', { key: other.apiKey })).status, 200);
  });
});

describe('lists and references across organizations', () => {
  test('no list of another organization contains any of the owner\'s ids', async () => {
    const owned = Object.values(ids);
    const lists = routes.filter((r) => r.method === 'GET' && !isPublic(r) && !r.url.includes(':'));
    assert.ok(lists.length >= 5);
    for (const route of lists) {
      const res = await api.request('GET', route.url, { key: other.apiKey });
      assert.equal(res.status, 200, `${route.url}: ${res.text.slice(0, 200)}`);
      for (const id of owned) assert.equal(res.text.includes(id), false, `${route.url} shows ${id}`);
    }
  });

  test('filters naming the owner\'s ids find nothing for another organization', async () => {
    for (const path of [`/events?resourceId=${ids.accounts}`, `/cards?accountId=${ids.accounts}`, `/cards?programId=${ids['card-programs']}`]) {
      const res = await api.request('GET', path, { key: other.apiKey });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.deepEqual(res.body.data, [], path);
    }
  });

  test('bodies that reference the owner\'s resources are refused like unknown ones, and move no money', async () => {
    const before = await snapshot();
    const mine = await createAccount(api, {}, other.apiKey);
    const transfer = await api.request('POST', '/transfers', { key: other.apiKey, body: { fromAccountId: ids.accounts, toAccountId: mine.id, amount: 100, currency: 'USD' } });
    assert.equal(transfer.status, 422, transfer.text);
    assert.equal(transfer.body.error.code, 'account_not_found');
    const into = await api.request('POST', '/transfers', { key: other.apiKey, body: { fromAccountId: mine.id, toAccountId: ids.accounts, amount: 100, currency: 'USD' } });
    assert.equal(into.status, 422, into.text);
    assert.equal(into.body.error.code, 'account_not_found');

    const card = await api.request('POST', '/cards', { key: other.apiKey, body: { debitAccountId: ids.accounts, firstName: 'Eve', lastName: 'Mallory', type: 'virtual', currency: 'USD', amount: 100 } });
    assert.equal(card.status, 422, card.text);
    const program = await api.request('POST', '/cards', { key: other.apiKey, body: { debitAccountId: mine.id, firstName: 'Eve', lastName: 'Mallory', type: 'virtual', currency: 'USD', typeId: ids['card-programs'], amount: 100 } });
    assert.ok([404, 422].includes(program.status), program.text);
    assert.notEqual(program.status, 201);
    if (ids['card-holders']) {
      const holder = await api.request('POST', '/cards', { key: other.apiKey, body: { debitAccountId: mine.id, cardHolderId: ids['card-holders'], type: 'virtual', brand: 'Visa', currency: 'USD', amount: 100 } });
      assert.equal(holder.status, 422, holder.text);
      assert.equal(holder.body.error.code, 'card_holder_not_found');
    }
    assert.deepEqual(await snapshot(), before);
  });
});
