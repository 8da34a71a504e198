// npm run rotate-master-key: re-wraps every card's data key under a new master key.
//
//   1. Restart the app with PAYGEN_MASTER_KEY=<new> and PAYGEN_PREVIOUS_MASTER_KEYS=<old keys,
//      oldest first, then the one being replaced>: it seals new cards under the new key and opens
//      both. (With PostgreSQL there is no downtime; embedded PGlite is single-process, so stop the
//      app while this script runs.)
//   2. Run this script with the same database settings and
//      PAYGEN_MASTER_KEY=<old> PAYGEN_NEW_MASTER_KEY=<new> (PAYGEN_PREVIOUS_MASTER_KEYS as before
//      the rotation). It can run again safely: cards already under the new key are left alone.
//   3. Keep the old keys in PAYGEN_PREVIOUS_MASTER_KEYS: the oldest one keys the API-key, token
//      and PAN-lookup hashes and the CVV, and the others still open older webhook secrets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { createVault, loadMasterKey, parseMasterKeys } from '../platform/crypto.ts';
import { openDb } from '../platform/db.ts';
import { rotateCardKeys } from '../modules/cards/card-key-rotation.ts';

async function main() {
  const config = loadConfig();
  const [newKey] = parseMasterKeys(process.env.PAYGEN_NEW_MASTER_KEY);
  if (!newKey) throw new Error('Set PAYGEN_NEW_MASTER_KEY to the new master key (base64 of 32 bytes).');
  // Never generate a key here: a missing current key is a mistake, not a first start.
  if (!config.masterKey && !existsSync(join(config.dataDir, 'master.key'))) {
    throw new Error('No current master key: set PAYGEN_MASTER_KEY (or PAYGEN_DATA_DIR with its master.key).');
  }
  const current = loadMasterKey({ masterKey: config.masterKey, dataDir: config.dataDir, persistent: true }, () => {});
  const vault = createVault(newKey, [...parseMasterKeys(config.previousMasterKeys), current]);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const rotated = await rotateCardKeys(db, vault);
    console.log(`Re-wrapped ${rotated} card(s) under master key ${vault.keyId}.`);
    console.log('Keep PAYGEN_PREVIOUS_MASTER_KEYS listing every earlier key, oldest first.');
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
