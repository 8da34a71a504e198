// API.md "Organizations, users, keys" and "Auth": signup, login, sessions, short-lived scoped
// tokens, API keys shown once and revoked at once, the sandbox bootstrap key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { MAX_EPHEMERAL_TOKEN_TTL_SECONDS } from '../../src/modules/organizations/organizations.schemas.ts';
import { MAX_TOKEN_CHAIN_DEPTH } from '../../src/modules/organizations/organizations.service.ts';
import { onPostgres, startHarness, type Harness, type Response } from '../support/api.ts';
import { createAccount } from '../support/fixtures.ts';

let api: Harness;
before(async () => { api = await startHarness(); });
after(async () => { await api.checkLedger(); await api.close(); });

const PASSWORD = 'correct horse battery';
const newEmail = () => `auth-${randomBytes(6).toString('hex')}@example.com`;

function assertError(res: Response, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.statusCode, status);
  assert.equal(res.body.data, null);
  assert.equal(res.body.error.code, code, res.text);
  assert.match(res.body.requestId, /^req_/);
}

async function signup(email = newEmail(), organizationName = 'Auth org') {
  const res = await api.request('POST', '/auth/signup', { key: null, body: { email, password: PASSWORD, organizationName } });
  assert.equal(res.status, 201, res.text);
  return { email, ...res.body.data };
}

describe('signup and login', () => {
  test('signup creates a user, an organization and a bearer token that works', async () => {
    const email = newEmail();
    const session = await signup(email, 'Acme Issuing');
    assert.equal(session.user.email, email);
    assert.match(session.user.id, /^usr_/);
    assert.match(session.organization.id, /^org_/);
    assert.equal(session.organization.name, 'Acme Issuing');
    assert.equal(session.user.organizationId, session.organization.id);
    assert.ok(Date.parse(session.expiresAt) > Date.now());
    assert.equal(JSON.stringify(session).includes(PASSWORD), false, 'the password is never echoed');

    const me = await api.request('GET', '/auth/me', { bearer: session.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.organization.id, session.organization.id);
    assert.equal(me.body.data.user.id, session.user.id);
    assert.equal(me.body.data.credential.type, 'session');
  });

  test('a new organization starts empty: it cannot see the harness organization', async () => {
    const session = await signup();
    await createAccount(api);
    const list = await api.request('GET', '/accounts', { bearer: session.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data, []);
  });

  test('a duplicate email is a 409 email_taken, case-insensitively, and creates no organization', async () => {
    const email = newEmail();
    await signup(email);
    assertError(await api.request('POST', '/auth/signup', { key: null, body: { email, password: PASSWORD, organizationName: 'Again' } }), 409, 'email_taken');
    assertError(await api.request('POST', '/auth/signup', { key: null, body: { email: email.toUpperCase(), password: PASSWORD, organizationName: 'Again' } }), 409, 'email_taken');
    const [row] = await api.app.ctx.db.query<{ count: number }>("SELECT count(*)::int AS count FROM organizations WHERE name = 'Again'");
    assert.equal(row.count, 0);
  });

  test('signup validates email, password length and organization name', async () => {
    const res = await api.request('POST', '/auth/signup', { key: null, body: { email: 'not-an-email', password: 'short', organizationName: '' } });
    assertError(res, 422, 'validation_failed');
    const fields = res.body.error.details.map((d: any) => d.field).sort();
    assert.deepEqual(fields, ['email', 'organizationName', 'password']);
  });

  test('login with the right password gives a new token; a wrong password or unknown email is a 401 invalid_credentials', async () => {
    const session = await signup();
    const login = await api.request('POST', '/auth/login', { key: null, body: { email: session.email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    assert.match(login.body.data.token, /^pgt_/);
    assert.notEqual(login.body.data.token, session.token);
    assert.ok(Date.parse(login.body.data.expiresAt) > Date.now());
    const me = await api.request('GET', '/auth/me', { bearer: login.body.data.token });
    assert.equal(me.body.data.user.id, session.user.id);

    assertError(await api.request('POST', '/auth/login', { key: null, body: { email: session.email, password: 'wrong password' } }), 401, 'invalid_credentials');
    assertError(await api.request('POST', '/auth/login', { key: null, body: { email: newEmail(), password: PASSWORD } }), 401, 'invalid_credentials');
  });

  test('logout revokes the bearer token at once; other sessions stay valid', async () => {
    const session = await signup();
    const second = await api.request('POST', '/auth/login', { key: null, body: { email: session.email, password: PASSWORD } });
    const out = await api.request('POST', '/auth/logout', { bearer: session.token });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.body.data.loggedOut, true);
    assertError(await api.request('GET', '/auth/me', { bearer: session.token }), 401, 'unauthorized');
    assertError(await api.request('POST', '/auth/logout', { bearer: session.token }), 401, 'unauthorized');
    assert.equal((await api.request('GET', '/auth/me', { bearer: second.body.data.token })).status, 200);
  });

  test('logout with an API key is refused (API keys are revoked with DELETE /api-keys/:id)', async () => {
    const res = await api.request('POST', '/auth/logout');
    assert.equal(res.status, 422, res.text);
    assert.equal((await api.request('GET', '/auth/me')).status, 200, 'the key still works');
  });
});

describe('credentials', () => {
  test('GET /auth/me works with an API key', async () => {
    const me = await api.request('GET', '/auth/me');
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.organization.id, api.organizationId);
    assert.equal(me.body.data.credential.type, 'api_key');
    assert.match(me.body.data.credential.id, /^key_/);
    assert.equal(me.body.data.user, null);
  });

  test('no credential, an unknown key or a garbage bearer is a 401 unauthorized', async () => {
    assertError(await api.request('GET', '/auth/me', { key: null }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: null }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: 'sk_sbx_not_a_real_key' }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: null, bearer: 'pgt_not_a_real_token' }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: 'x'.repeat(600) }), 401, 'unauthorized');
  });

  test('a 401 leaves nothing behind: an unauthenticated POST creates no account', async () => {
    const ownerId = `owner-${randomBytes(6).toString('hex')}`;
    const body = { ownerType: 'business', ownerId, name: 'x', type: 'checking', category: 'fiat', currency: 'USD' };
    assertError(await api.request('POST', '/accounts', { key: null, body }), 401, 'unauthorized');
    assertError(await api.request('POST', '/accounts', { key: 'sk_sbx_not_a_real_key', body }), 401, 'unauthorized');
    const [row] = await api.app.ctx.db.query<{ count: number }>('SELECT count(*)::int AS count FROM accounts WHERE owner_id = $1', [ownerId]);
    assert.equal(row.count, 0);
  });
});

describe('short-lived tokens', () => {
  test('POST /auth/tokens gives a bearer token that expires within the asked ttl', async () => {
    const started = Date.now();
    const res = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 600 } });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.data.token, /^pgt_/);
    const expiresAt = Date.parse(res.body.data.expiresAt);
    assert.ok(expiresAt >= started + 599_000 && expiresAt <= Date.now() + 601_000, res.body.data.expiresAt);
    const me = await api.request('GET', '/auth/me', { key: null, bearer: res.body.data.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.credential.type, 'ephemeral');
    assert.equal(me.body.data.organization.id, api.organizationId);
  });

  test(`ttlSeconds above ${MAX_EPHEMERAL_TOKEN_TTL_SECONDS} or below 1 is a 422`, async () => {
    for (const ttlSeconds of [MAX_EPHEMERAL_TOKEN_TTL_SECONDS + 1, 0, -5]) {
      const res = await api.request('POST', '/auth/tokens', { body: { ttlSeconds } });
      assertError(res, 422, 'validation_failed');
      assert.equal(res.body.error.details[0].field, 'ttlSeconds');
    }
    assert.equal((await api.request('POST', '/auth/tokens', { body: { ttlSeconds: MAX_EPHEMERAL_TOKEN_TTL_SECONDS } })).status, 201);
  });

  test('a cards:read token may GET /cards but gets a 403 forbidden on POST /cards and on other resources', async () => {
    const res = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 300, scopes: ['cards:read'] } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.data.scopes, ['cards:read']);
    const token = res.body.data.token;
    assert.equal((await api.request('GET', '/cards', { key: null, bearer: token })).status, 200);
    assertError(await api.request('POST', '/cards', { key: null, bearer: token, body: { type: 'virtual' } }), 403, 'forbidden');
    assertError(await api.request('GET', '/accounts', { key: null, bearer: token }), 403, 'forbidden');
    // A scoped token cannot mint a broader one, nor create API keys.
    assertError(await api.request('POST', '/auth/tokens', { key: null, bearer: token, body: { ttlSeconds: 60 } }), 403, 'forbidden');
    assertError(await api.request('POST', '/api-keys', { key: null, bearer: token, body: { name: 'escalate' } }), 403, 'forbidden');
  });

  test('a token made by a scoped token never grants more, nor lives longer, than its maker', async () => {
    const maker = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 120, scopes: ['auth:write', 'cards:read'] } });
    assert.equal(maker.status, 201, maker.text);
    const bearer = maker.body.data.token;
    // No scopes asked: the maker's own are passed on, not "every scope".
    const inherited = await api.request('POST', '/auth/tokens', { key: null, bearer, body: { ttlSeconds: 3600 } });
    assert.equal(inherited.status, 201, inherited.text);
    assert.deepEqual(inherited.body.data.scopes, ['auth:write', 'cards:read']);
    assert.ok(Date.parse(inherited.body.data.expiresAt) <= Date.parse(maker.body.data.expiresAt), 'capped at the maker\'s expiry');
    const narrower = await api.request('POST', '/auth/tokens', { key: null, bearer, body: { ttlSeconds: 60, scopes: ['cards:read'] } });
    assert.equal(narrower.status, 201, narrower.text);
    assertError(await api.request('POST', '/auth/tokens', { key: null, bearer, body: { ttlSeconds: 60, scopes: ['cards:write'] } }), 403, 'forbidden');
    assertError(await api.request('POST', '/auth/tokens', { key: null, bearer, body: { ttlSeconds: 60, scopes: ['*'] } }), 403, 'forbidden');
    assertError(await api.request('POST', '/api-keys', { key: null, bearer: inherited.body.data.token, body: { name: 'escalate' } }), 403, 'forbidden');
  });

  test('any token may read /auth/me and log itself out, whatever its scopes; an empty body asks for the defaults', async () => {
    const res = await api.request('POST', '/auth/tokens', { headers: { 'content-type': 'application/json' }, raw: '' });
    assert.equal(res.status, 201, res.text);
    const scoped = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 60, scopes: ['cards:read'] } });
    const bearer = scoped.body.data.token;
    assert.equal((await api.request('GET', '/auth/me', { key: null, bearer })).status, 200);
    assert.equal((await api.request('POST', '/auth/logout', { key: null, bearer })).status, 200);
    assertError(await api.request('GET', '/auth/me', { key: null, bearer }), 401, 'unauthorized');
  });

  test('an unknown scope syntax is a 422', async () => {
    assertError(await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 60, scopes: ['cards:delete-everything'] } }), 422, 'validation_failed');
  });

  test('an expired token is a 401', async () => {
    const res = await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 1 } });
    assert.equal(res.status, 201);
    const token = res.body.data.token;
    assert.equal((await api.request('GET', '/auth/me', { key: null, bearer: token })).status, 200);
    await sleep(Math.max(0, Date.parse(res.body.data.expiresAt) - Date.now()) + 100);
    assertError(await api.request('GET', '/auth/me', { key: null, bearer: token }), 401, 'unauthorized');
  });
});

describe('API keys', () => {
  test('a new key is shown once; the list shows prefix and last four, never the key', async () => {
    const created = await api.request('POST', '/api-keys', { body: { name: 'ci' } });
    assert.equal(created.status, 201, created.text);
    const key = created.body.data.key as string;
    assert.match(key, /^sk_/);
    assert.ok(key.length >= 30);
    assert.ok(key.startsWith(created.body.data.prefix));
    assert.equal(key.slice(-4), created.body.data.lastFour);
    assert.equal(created.body.data.revokedAt, null);

    const me = await api.request('GET', '/auth/me', { key });
    assert.equal(me.body.data.organization.id, api.organizationId);

    const list = await api.request('GET', '/api-keys?limit=100');
    assert.equal(list.status, 200);
    assert.equal(list.text.includes(key), false, 'the list never contains a key in clear');
    const listed = list.body.data.find((k: any) => k.id === created.body.data.id);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'id', 'lastFour', 'name', 'prefix', 'revokedAt', 'scopes']);
    assert.deepEqual(listed.scopes, [], 'no scopes asked: every scope');
    assert.ok(listed.prefix.length < key.length - 8);

    // Nor can the key be read back from its event.
    const events = await api.request('GET', `/events?resourceId=${created.body.data.id}`);
    assert.equal(events.text.includes(key), false);
  });

  test('DELETE /api-keys/:id revokes the key at once, with the tokens it minted', async () => {
    const created = await api.request('POST', '/api-keys', { body: { name: 'short-lived' } });
    const key = created.body.data.key as string;
    const token = (await api.request('POST', '/auth/tokens', { key, body: { ttlSeconds: 600 } })).body.data.token;
    assert.equal((await api.request('GET', '/accounts', { key })).status, 200);
    assert.equal((await api.request('GET', '/accounts', { key: null, bearer: token })).status, 200);

    const revoked = await api.request('DELETE', `/api-keys/${created.body.data.id}`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.ok(revoked.body.data.revokedAt);
    assert.equal(revoked.body.data.key, undefined);
    assertError(await api.request('GET', '/accounts', { key }), 401, 'unauthorized');
    assertError(await api.request('GET', '/accounts', { key: null, bearer: token }), 401, 'unauthorized');
    const listed = (await api.request('GET', '/api-keys?limit=100')).body.data.find((k: any) => k.id === created.body.data.id);
    assert.ok(listed.revokedAt);
  });

  test('revoking an unknown or another organization\'s key is a 404', async () => {
    assertError(await api.request('DELETE', '/api-keys/key_doesnotexist'), 404, 'not_found');
    const other = await api.otherOrganization();
    const own = await api.request('POST', '/api-keys', { body: { name: 'mine' } });
    assertError(await api.request('DELETE', `/api-keys/${own.body.data.id}`, { key: other.apiKey }), 404, 'not_found');
    assert.equal((await api.request('GET', '/accounts', { key: own.body.data.key })).status, 200);
  });

  test('an API key name is required', async () => {
    assertError(await api.request('POST', '/api-keys', { body: {} }), 422, 'validation_failed');
  });
});

type Credential = { key?: string; bearer?: string };
/** Request options that send exactly this credential (the harness key when it is empty). */
const sendAs = (credential: Credential) => ({ key: credential.bearer ? null : credential.key, bearer: credential.bearer });
const token = async (credential: Credential, scopes?: string[]) => {
  const res = await api.request('POST', '/auth/tokens', { ...sendAs(credential), body: { ttlSeconds: 600, scopes } });
  assert.equal(res.status, 201, res.text);
  return res.body.data.token as string;
};
const newKey = async (credential: Credential, scopes?: string[]) => {
  const res = await api.request('POST', '/api-keys', { ...sendAs(credential), body: { name: 'scoped', scopes } });
  assert.equal(res.status, 201, res.text);
  return res.body.data as { id: string; key: string; scopes: string[] };
};
const works = async (credential: Credential) => (await api.request('GET', '/auth/me', sendAs(credential))).status;

describe('scoped API keys: a narrow credential stays narrow', () => {
  test('a key may carry scopes: shown in responses and in /auth/me, and enforced like a token\'s', async () => {
    const created = await newKey({}, ['cards:read', 'accounts:*']);
    assert.deepEqual(created.scopes, ['cards:read', 'accounts:*']);
    const listed = (await api.request('GET', '/api-keys?limit=100')).body.data.find((k: any) => k.id === created.id);
    assert.deepEqual(listed.scopes, ['cards:read', 'accounts:*']);
    const me = await api.request('GET', '/auth/me', { key: created.key });
    assert.deepEqual(me.body.data.credential.scopes, ['cards:read', 'accounts:*']);
    assert.equal((await api.request('GET', '/cards', { key: created.key })).status, 200);
    assert.equal((await api.request('GET', '/accounts', { key: created.key })).status, 200);
    assertError(await api.request('POST', '/cards', { key: created.key, body: { type: 'virtual' } }), 403, 'forbidden');
    assertError(await api.request('GET', '/webhooks', { key: created.key }), 403, 'forbidden');
  });

  test('an api-keys:write token can create neither an unrestricted key nor a wider one, only keys within its scopes', async () => {
    const bearer = await token({}, ['api-keys:write']);
    const unrestricted = await api.request('POST', '/api-keys', { key: null, bearer, body: { name: 'escalate' } });
    assertError(unrestricted, 403, 'forbidden');
    assert.match(unrestricted.body.message, /unrestricted API key/);
    for (const scopes of [['*'], ['cards:write'], ['api-keys:*'], ['api-keys:write', 'accounts:read']]) {
      assertError(await api.request('POST', '/api-keys', { key: null, bearer, body: { name: 'escalate', scopes } }), 403, 'forbidden');
    }
    const narrow = await newKey({ bearer }, ['api-keys:write']);
    assert.deepEqual(narrow.scopes, ['api-keys:write']);
    // Nothing wider was left behind by the refused attempts.
    const keys = (await api.request('GET', '/api-keys?limit=100')).body.data;
    assert.equal(keys.some((k: any) => k.name === 'escalate'), false);
  });

  test('a scoped key passes its scopes on to tokens and keys, never more', async () => {
    const scoped = await newKey({}, ['auth:write', 'api-keys:write', 'cards:*']);
    assertError(await api.request('POST', '/auth/tokens', { key: scoped.key, body: { ttlSeconds: 60, scopes: ['accounts:read'] } }), 403, 'forbidden');
    assertError(await api.request('POST', '/auth/tokens', { key: scoped.key, body: { ttlSeconds: 60, scopes: [] } }), 403, 'forbidden');
    const inherited = await api.request('POST', '/auth/tokens', { key: scoped.key, body: { ttlSeconds: 60 } });
    assert.deepEqual(inherited.body.data.scopes, ['auth:write', 'api-keys:write', 'cards:*']);
    assert.deepEqual((await newKey({ key: scoped.key }, ['cards:read', 'cards:write'])).scopes, ['cards:read', 'cards:write']);
    assert.deepEqual((await newKey({ key: scoped.key }, ['cards:*'])).scopes, ['cards:*']);
    assertError(await api.request('POST', '/api-keys', { key: scoped.key, body: { name: 'escalate' } }), 403, 'forbidden');
  });

  test('a scoped credential revokes only keys within its scopes; an unrestricted key only an unrestricted credential revokes', async () => {
    const bearer = await token({}, ['api-keys:write']);
    const unrestricted = await newKey({});
    const wider = await newKey({}, ['api-keys:write', 'cards:read']);
    const within = await newKey({}, ['api-keys:write']);
    for (const target of [unrestricted, wider]) {
      const res = await api.request('DELETE', `/api-keys/${target.id}`, { key: null, bearer });
      assertError(res, 403, 'forbidden');
      assert.equal(await works({ key: target.key }), 200, 'the key still works');
    }
    const revoked = await api.request('DELETE', `/api-keys/${within.id}`, { key: null, bearer });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(await works({ key: within.key }), 401);
    // The harness key (every scope) revokes any of them; another organization's key stays a 404.
    assert.equal((await api.request('DELETE', `/api-keys/${wider.id}`)).status, 200);
    const outsider = await token({ key: (await api.otherOrganization()).apiKey });
    assertError(await api.request('DELETE', `/api-keys/${unrestricted.id}`, { key: null, bearer: outsider }), 404, 'not_found');
  });

  test('a scope naming no resource, or an empty list, is a 422 naming the field', async () => {
    for (const scopes of [['carts:read'], ['cards:read', 'nothing:*'], ['cards:delete'], []]) {
      const body = { name: 'typo', scopes };
      const res = await api.request('POST', '/api-keys', { body });
      assertError(res, 422, 'validation_failed');
      assert.equal(res.body.error.details[0].field.split('.')[0], 'scopes', res.text);
    }
    assertError(await api.request('POST', '/auth/tokens', { body: { ttlSeconds: 60, scopes: ['carts:read'] } }), 422, 'validation_failed');
    // Every resource of the API may be named, including the simulator's.
    const everyKind = { name: 'sim', scopes: ['simulator:write', 'card-holders:read', 'auth:*'] };
    assert.equal((await api.request('POST', '/api-keys', { body: everyKind })).status, 201);
  });
});

describe('revocation cascades down the chain of tokens', () => {
  test('revoking a key ends its tokens and the tokens made from them (key → token → token); other tokens keep working', async () => {
    const root = await newKey({});
    const child = await token({ key: root.key }, ['auth:write', 'cards:read']);
    const grandchild = await token({ bearer: child }, ['auth:write', 'cards:read']);
    const greatGrandchild = await token({ bearer: grandchild }, ['cards:read']);
    const unrelated = await token({});
    for (const bearer of [child, grandchild, greatGrandchild, unrelated]) assert.equal(await works({ bearer }), 200);
    assert.equal((await api.request('DELETE', `/api-keys/${root.id}`)).status, 200);
    for (const bearer of [child, grandchild, greatGrandchild]) assertError(await api.request('GET', '/cards', { key: null, bearer }), 401, 'unauthorized');
    assert.equal(await works({ bearer: unrelated }), 200);
    assert.equal(await works({}), 200);
    const [row] = await api.app.ctx.db.query<{ live: number }>(
      'SELECT count(*)::int AS live FROM access_tokens WHERE api_key_id = $1 AND revoked_at IS NULL', [root.id]);
    assert.equal(row.live, 0, 'every token of the chain is marked revoked, not only refused');
  });

  test('logging out ends the tokens made from the session, and theirs (session → token → token); another session keeps its own', async () => {
    const session = await signup();
    const other = await api.request('POST', '/auth/login', { key: null, body: { email: session.email, password: PASSWORD } });
    const child = await token({ bearer: session.token }, ['auth:write', 'cards:read']);
    const grandchild = await token({ bearer: child });
    const otherChild = await token({ bearer: other.body.data.token });
    assert.equal((await api.request('POST', '/auth/logout', { key: null, bearer: session.token })).status, 200);
    for (const bearer of [session.token, child, grandchild]) assertError(await api.request('GET', '/auth/me', { key: null, bearer }), 401, 'unauthorized');
    assert.equal(await works({ bearer: other.body.data.token }), 200);
    assert.equal(await works({ bearer: otherChild }), 200);
  });

  test('logging out a token in the middle of a chain ends what it made, not what made it', async () => {
    const parent = await token({});
    const middle = await token({ bearer: parent });
    const leaf = await token({ bearer: middle });
    assert.equal((await api.request('POST', '/auth/logout', { key: null, bearer: middle })).status, 200);
    assertError(await api.request('GET', '/auth/me', { key: null, bearer: leaf }), 401, 'unauthorized');
    assert.equal(await works({ bearer: parent }), 200);
  });

  test('a token revoked while its child was being made still ends the child (the chain is checked at each request)', async () => {
    const parent = await token({});
    const child = await token({ bearer: parent });
    // As if the cascade had missed the child (made concurrently with the revocation).
    const hash = api.app.ctx.vault.hash('credential-hash', parent);
    await api.app.ctx.db.query('UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1', [hash]);
    assertError(await api.request('GET', '/auth/me', { key: null, bearer: child }), 401, 'unauthorized');
  });

  test(`a chain stops at ${MAX_TOKEN_CHAIN_DEPTH} tokens made from tokens`, async () => {
    let bearer = await token({});
    for (let depth = 1; depth <= MAX_TOKEN_CHAIN_DEPTH; depth++) bearer = await token({ bearer });
    assert.equal(await works({ bearer }), 200, 'the deepest allowed token works');
    assertError(await api.request('POST', '/auth/tokens', { key: null, bearer, body: { ttlSeconds: 60 } }), 403, 'forbidden');
  });
});

describe('sandbox bootstrap', () => {
  test('PAYGEN_SANDBOX_API_KEY makes that key work against the bootstrap organization', async () => {
    const sandboxApiKey = `sk_sbx_known_${randomBytes(8).toString('hex')}`;
    const booted: Array<{ apiKey: string; organizationId: string; created: boolean }> = [];
    const sandbox = await startHarness({ config: { sandboxApiKey }, onBootstrap: (result) => booted.push(result) });
    try {
      assert.equal(booted.length, 1);
      assert.equal(booted[0].apiKey, sandboxApiKey);
      assert.equal(booted[0].created, true);
      const me = await sandbox.request('GET', '/auth/me', { key: sandboxApiKey });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.data.organization.id, booted[0].organizationId);
      // On a fresh database the key opens a new "Sandbox" organization; on a shared PostgreSQL
      // database the key joins the first organization (see bootstrap()).
      if (!onPostgres()) assert.equal(me.body.data.organization.name, 'Sandbox');
      // The bootstrap organization has its default programs, so the quickstart works with that key.
      const programs = await sandbox.request('GET', '/card-programs', { key: sandboxApiKey });
      assert.ok(programs.body.data.length >= 4, programs.text);
      assertError(await sandbox.request('GET', '/auth/me', { key: `${sandboxApiKey}x` }), 401, 'unauthorized');
    } finally {
      await sandbox.close();
    }
  });
});
