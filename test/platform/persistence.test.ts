// The embedded database on disk (PAYGEN_DATA_DIR): a restart keeps the data, the API keys and the
// master key, so sealed card numbers still open. Migrations run once and are recorded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { send } from '../support/api.ts';
import * as ledger from '../../src/modules/ledger/ledger.service.ts';
import type { CardRow } from '../../src/modules/cards/cards.repo.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'paygen-persist-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(apiKey: string) {
  const app = await buildApp({ logger: false, config: { databaseUrl: undefined, dataDir, sandboxApiKey: apiKey, masterKey: undefined, workers: false } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

test('a restart on the same data dir keeps accounts, keys, cards and the master key', async () => {
  const key = 'sk_sbx_persistence_test_key';
  const first = await start(key);
  const account = await send(first.baseUrl, 'POST', '/accounts', { body: { ownerType: 'business', ownerId: 'o', name: 'Kept', type: 'checking', category: 'fiat', currency: 'USD' } }, key);
  assert.equal(account.status, 201, account.text);
  const program = await send(first.baseUrl, 'POST', '/card-programs', { body: { name: 'Name only', brand: 'Visa', bin: '45990000', currency: 'USD', allowNameOnlyIssuance: true } }, key);
  const card = await send(first.baseUrl, 'POST', '/cards', { body: { debitAccountId: account.body.data.id, firstName: 'A', lastName: 'B', type: 'virtual', currency: 'USD', typeId: program.body.data.id, amount: 100 } }, key);
  assert.equal(card.status, 201, card.text);
  const [row] = await first.app.ctx.db.query<CardRow>('SELECT * FROM cards WHERE id = $1', [card.body.data.id]);
  const sealed = ({ ciphertext: row.pan_ciphertext, wrappedKey: row.pan_data_key, keyId: row.pan_key_id });
  const pan = first.app.ctx.vault.openRecord(sealed);
  await first.app.close();
  assert.ok(existsSync(join(dataDir, 'master.key')));

  const second = await start(key);
  try {
    const again = await send(second.baseUrl, 'GET', `/accounts/${account.body.data.id}`, {}, key);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.data.balance.available, 10_000_000 - 100);
    assert.equal(second.app.ctx.vault.openRecord(sealed), pan, 'the same master key opens the PAN');
    const migrations = await second.app.ctx.db.query<{ version: string }>('SELECT version FROM schema_migrations');
    assert.equal(new Set(migrations.map((m) => m.version)).size, migrations.length);
    const organizations = await second.app.ctx.db.query('SELECT id FROM organizations');
    assert.equal(organizations.length, 1, 'bootstrap ran once');
    assert.deepEqual(await ledger.check(second.app.ctx.db), { ok: true, problems: [] });
  } finally {
    await second.app.close();
  }
});
