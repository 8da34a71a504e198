// Master-key rotation: cards sealed under the old key (and a legacy row sealed before envelope
// encryption) still reveal after the app restarts with the new key and the old one in its keyring,
// before and after rotateCardKeys re-wraps them; the PAN ciphertext is not re-encrypted, API keys
// keep working, and every CVV stays the same.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rotateCardKeys } from '../../src/modules/cards/card-key-rotation.ts';
import type { CardRow } from '../../src/modules/cards/cards.repo.ts';
import { masterKeyId } from '../../src/platform/crypto.ts';
import { send, startHarness, TEST_MASTER_KEY, type Harness } from '../support/api.ts';
import { createAccount, createCardHolder } from '../support/fixtures.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'paygen-rotation-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const OLD_KEY = TEST_MASTER_KEY;
const NEW_KEY = randomBytes(32).toString('base64');

const start = (config: Record<string, string>) =>
  startHarness({ config: { databaseUrl: undefined, dataDir, ...config } });

async function issueCard(api: Harness, apiKey: string) {
  const account = await createAccount(api);
  const holder = await createCardHolder(api);
  const res = await send(api.baseUrl, 'POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: holder.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 0 } }, apiKey);
  assert.equal(res.status, 201, res.text);
  return res.body.data.id as string;
}

async function reveal(api: Harness, apiKey: string, cardId: string): Promise<{ pan: string; cvv: string }> {
  const session = await send(api.baseUrl, 'POST', `/cards/${cardId}/reveal-sessions`, { body: {} }, apiKey);
  assert.equal(session.status, 201, session.text);
  const res = await send(api.baseUrl, 'GET', `/card-reveal/${session.body.data.token}/data`, { key: null }, '');
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

const cardRows = (api: Harness) => api.app.ctx.db.query<CardRow>('SELECT * FROM cards ORDER BY id');

test('cards issued before a rotation reveal the same PAN and CVV after it; API keys keep working', async () => {
  const first = await start({ masterKey: OLD_KEY });
  const apiKey = first.apiKey;
  const enveloped = await issueCard(first, apiKey);
  const legacy = await issueCard(first, apiKey);
  // A row as sealed before migration 014: the PAN under the master key itself, no data key.
  const before = { enveloped: await reveal(first, apiKey, enveloped), legacy: await reveal(first, apiKey, legacy) };
  await first.app.ctx.db.query('UPDATE cards SET pan_ciphertext = $2, pan_data_key = NULL WHERE id = $1',
    [legacy, first.app.ctx.vault.seal(before.legacy.pan)]);
  assert.deepEqual(await reveal(first, apiKey, legacy), before.legacy, 'a legacy row opens');
  await first.app.close();

  // Step 1: the app restarts with the new key, the old one kept in its keyring.
  const second = await start({ masterKey: NEW_KEY, previousMasterKeys: OLD_KEY });
  try {
    assert.equal(second.app.ctx.vault.keyId, masterKeyId(Buffer.from(NEW_KEY, 'base64')));
    const card = await send(second.baseUrl, 'GET', `/cards/${enveloped}`, {}, apiKey);
    assert.equal(card.status, 200, `the API key made under the old key still works: ${card.text}`);
    assert.deepEqual(await reveal(second, apiKey, enveloped), before.enveloped, 'opens under the old key id');
    // A card of the new app's own organization, sealed under the new key.
    const fresh = await issueCard(second, second.apiKey);
    const freshBefore = await reveal(second, second.apiKey, fresh);

    // Step 2: the rotation re-wraps every card not yet under the new key, in batches.
    const rowsBefore = await cardRows(second);
    assert.equal(await rotateCardKeys(second.app.ctx.db, second.app.ctx.vault, 1), 2);
    const rowsAfter = await cardRows(second);
    for (const row of rowsAfter) {
      assert.equal(row.pan_key_id, second.app.ctx.vault.keyId, row.id);
      assert.ok(row.pan_data_key, `${row.id} has a wrapped data key`);
    }
    const was = (id: string) => rowsBefore.find((r) => r.id === id)!;
    const now = (id: string) => rowsAfter.find((r) => r.id === id)!;
    assert.equal(now(enveloped).pan_ciphertext, was(enveloped).pan_ciphertext, 'the PAN is not re-encrypted');
    assert.notEqual(now(enveloped).pan_data_key, was(enveloped).pan_data_key, 'its data key is re-wrapped');
    assert.deepEqual(now(fresh), was(fresh), 'a card already under the new key is left alone');
    assert.equal(now(enveloped).pan_hash, was(enveloped).pan_hash, 'the PAN lookup hash does not change');
    assert.equal(await rotateCardKeys(second.app.ctx.db, second.app.ctx.vault), 0, 'a second run has nothing to do');

    assert.deepEqual(await reveal(second, apiKey, enveloped), before.enveloped);
    assert.deepEqual(await reveal(second, apiKey, legacy), before.legacy);
    assert.deepEqual(await reveal(second, second.apiKey, fresh), freshBefore);
    await second.checkLedger();
  } finally {
    await second.app.close();
  }
});

test('without the old key in the keyring, a card sealed under it does not open (the keyring is what makes rotation safe)', async () => {
  const third = await start({ masterKey: NEW_KEY });
  try {
    const [row] = await third.app.ctx.db.query<CardRow>('SELECT * FROM cards LIMIT 1');
    const oldVault = masterKeyId(Buffer.from(OLD_KEY, 'base64'));
    assert.throws(() => third.app.ctx.vault.openRecord({ ciphertext: row.pan_ciphertext, wrappedKey: row.pan_data_key, keyId: oldVault }));
  } finally {
    await third.app.close();
  }
});
