// Master-key rotation for card numbers: every card's data key is re-wrapped under the vault's
// current master key, in small batches, each row with a guarded UPDATE, so that the app keeps
// serving (it opens either key id from its keyring) while this runs. The PAN ciphertext itself
// does not change, except for rows sealed before envelope encryption (pan_data_key NULL), which
// get a data key of their own once.
import type { Vault } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db.ts';

/** Cards re-wrapped per batch: small enough to keep each statement short under load. */
export const DEFAULT_ROTATION_BATCH_SIZE = 500;

interface SealedColumns {
  id: string;
  pan_ciphertext: string;
  pan_data_key: string | null;
  pan_key_id: string;
}

/** Re-wraps every card not yet under `vault.keyId`; returns how many rows it changed. */
export async function rotateCardKeys(db: Queryable, vault: Vault, batchSize = DEFAULT_ROTATION_BATCH_SIZE): Promise<number> {
  let rotated = 0;
  let after = '';
  for (;;) {
    // Keyset pagination by id: a row changed concurrently (and so skipped below) is not re-read
    // forever; a later run picks it up.
    const rows = await db.query<SealedColumns>(
      `SELECT id, pan_ciphertext, pan_data_key, pan_key_id FROM cards
        WHERE (pan_key_id <> $1 OR pan_data_key IS NULL) AND id > $2 ORDER BY id LIMIT $3`,
      [vault.keyId, after, batchSize],
    );
    if (rows.length === 0) return rotated;
    for (const row of rows) {
      const next = vault.rewrapRecord({ ciphertext: row.pan_ciphertext, wrappedKey: row.pan_data_key, keyId: row.pan_key_id });
      const changed = await db.query(
        `UPDATE cards SET pan_ciphertext = $2, pan_data_key = $3, pan_key_id = $4
          WHERE id = $1 AND pan_ciphertext = $5 AND pan_key_id = $6 RETURNING id`,
        [row.id, next.ciphertext, next.wrappedKey, next.keyId, row.pan_ciphertext, row.pan_key_id],
      );
      rotated += changed.length;
    }
    after = rows[rows.length - 1].id;
  }
}
