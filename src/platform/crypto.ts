// The crypto vault: a keyring of master keys (PAYGEN_MASTER_KEY, the current one, plus
// PAYGEN_PREVIOUS_MASTER_KEYS, oldest first) from which purpose-bound subkeys are derived with HKDF.
//
// Card numbers use envelope encryption: each PAN is sealed with its own random data key
// (AES-256-GCM), and that data key is wrapped (AES-256-GCM) by the current master key's
// key-encryption key; the master key id is stored beside every ciphertext. Rotating the master
// key (npm run rotate-master-key) re-wraps the data keys only, card by card, while the app keeps
// opening ciphertexts under any key of the keyring: no downtime, no PAN re-encrypted. Other sealed
// values (webhook secrets, idempotent answers) use the current key directly and open under any
// key of the keyring.
//
// Keyed hashes (API-key and token hashes, the PAN lookup hash, idempotency fingerprints, PIN
// hashes) and the CVV key must NOT change when the master key rotates, or every API key would stop
// working and every CVV would change. They derive from the keyring's *root*: its oldest key (the
// first previous key, or the current key when there is none). That root key must therefore stay
// in PAYGEN_PREVIOUS_MASTER_KEYS, first, after any number of rotations; it protects hashes only,
// no ciphertext, once every card was re-wrapped.
import {
  createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MASTER_KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const SCRYPT_KEY_BYTES = 32;
const SCRYPT_SALT_BYTES = 16;
const SCRYPT_COST = 16384;
/** A card's own data key (AES-256). */
const DATA_KEY_BYTES = 32;
/** Hex characters of a master key id: enough to tell keys apart, too few to matter. */
const KEY_ID_HEX_CHARS = 12;

type Purpose = 'pan-encryption' | 'pan-lookup' | 'cvv' | 'credential-hash' | 'pin' | 'idempotency';

export interface Vault {
  /** The current master key's id: new ciphertexts are sealed under it. */
  readonly keyId: string;
  /** Ids of every master key the vault can open under, current first. */
  readonly keyIds: readonly string[];
  /**
   * AES-256-GCM. `context` (optional) is authenticated but not stored: a ciphertext opens only
   * with the same context, so a sealed value copied to another row does not open there.
   */
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
  /** Envelope encryption: a fresh data key seals the value; the current master key wraps it. */
  sealRecord(plaintext: string): SealedRecord;
  /** Opens an envelope record, or a legacy value sealed directly (wrappedKey null). */
  openRecord(record: SealedRecord): string;
  /** The same data key wrapped under the current master key (rotation): the data is unchanged. */
  rewrapRecord(record: SealedRecord): SealedRecord;
  /** Keyed hash for lookups (PAN uniqueness, API keys, tokens): hex. Stable across rotations. */
  hash(purpose: Purpose, value: string): string;
  /** Raw purpose-bound key bytes (e.g. to derive a CVV like a network CVK). Stable across rotations. */
  subkey(purpose: Purpose): Buffer;
}

/** A value sealed by envelope encryption; a legacy value (sealed directly) has no wrapped key. */
export interface SealedRecord {
  ciphertext: string;
  wrappedKey: string | null;
  keyId: string;
}

function gcmSeal(key: Buffer, plaintext: Buffer, context?: string): string {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
}

function gcmOpen(key: Buffer, sealed: string, context?: string): Buffer {
  const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

const deriveKey = (masterKey: Buffer, purpose: Purpose) =>
  Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `paygen:${purpose}`, 32));

/** A master key's id: a digest of its encryption subkey, so the id reveals nothing usable. */
export const masterKeyId = (masterKey: Buffer) =>
  createHash('sha256').update(deriveKey(masterKey, 'pan-encryption')).digest('hex').slice(0, KEY_ID_HEX_CHARS);

/** Binds a wrapped data key to its purpose, so a wrapped key cannot be replayed as another secret. */
const WRAP_CONTEXT = 'paygen:data-key';

export function createVault(masterKey: Buffer, previousKeys: readonly Buffer[] = []): Vault {
  for (const key of [masterKey, ...previousKeys]) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error('The master key must be 32 bytes.');
  }
  const root = previousKeys[0] ?? masterKey;
  const keyId = masterKeyId(masterKey);
  // Key-encryption keys by master key id, current first (the order open() tries them in).
  const keks = new Map<string, Buffer>();
  for (const key of [masterKey, ...previousKeys]) {
    if (!keks.has(masterKeyId(key))) keks.set(masterKeyId(key), deriveKey(key, 'pan-encryption'));
  }
  const kekOf = (id: string) => {
    const kek = keks.get(id);
    if (!kek) throw new Error(`Master key ${id} is not in the keyring (PAYGEN_PREVIOUS_MASTER_KEYS).`);
    return kek;
  };
  const keys = new Map<Purpose, Buffer>();
  const subkey = (purpose: Purpose) => {
    let key = keys.get(purpose);
    if (!key) keys.set(purpose, (key = deriveKey(root, purpose)));
    return key;
  };
  const open = (sealed: string, context?: string) => {
    let failure: unknown;
    for (const kek of keks.values()) {
      try {
        return gcmOpen(kek, sealed, context).toString('utf8');
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };
  const wrap = (dataKey: Buffer) => gcmSeal(kekOf(keyId), dataKey, WRAP_CONTEXT);
  const unwrap = (record: SealedRecord) => gcmOpen(kekOf(record.keyId), record.wrappedKey!, WRAP_CONTEXT);
  const sealRecord = (plaintext: string): SealedRecord => {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    return { ciphertext: gcmSeal(dataKey, Buffer.from(plaintext, 'utf8')), wrappedKey: wrap(dataKey), keyId };
  };
  const openRecord = (record: SealedRecord) => (record.wrappedKey === null
    ? gcmOpen(kekOf(record.keyId), record.ciphertext)
    : gcmOpen(unwrap(record), record.ciphertext)).toString('utf8');
  return {
    keyId,
    keyIds: [...keks.keys()],
    subkey,
    seal: (plaintext, context) => gcmSeal(kekOf(keyId), Buffer.from(plaintext, 'utf8'), context),
    open,
    sealRecord,
    openRecord,
    rewrapRecord(record) {
      // A legacy record gets a data key of its own: it is sealed again once, under the envelope.
      if (record.wrappedKey === null) return sealRecord(openRecord(record));
      return { ...record, wrappedKey: wrap(unwrap(record)), keyId };
    },
    hash(purpose, value) {
      return createHmac('sha256', subkey(purpose)).update(value).digest('hex');
    },
  };
}

/** Master keys given as comma-separated base64 (PAYGEN_PREVIOUS_MASTER_KEYS), oldest first. */
export function parseMasterKeys(value: string | undefined): Buffer[] {
  return (value ?? '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => {
    const key = Buffer.from(k, 'base64');
    if (key.length !== MASTER_KEY_BYTES) throw new Error('Every master key must be base64 of 32 bytes.');
    return key;
  });
}

/**
 * The master key: from configuration, or a key file in the data dir (created on first start,
 * with a warning), or a throw-away key for the in-memory database used by tests.
 */
export function loadMasterKey(options: { masterKey?: string; dataDir: string; persistent: boolean },
  warn: (message: string) => void): Buffer {
  if (options.masterKey) {
    const key = Buffer.from(options.masterKey, 'base64');
    if (key.length !== MASTER_KEY_BYTES) throw new Error('PAYGEN_MASTER_KEY must be base64 of 32 bytes.');
    return key;
  }
  if (!options.persistent) return randomBytes(MASTER_KEY_BYTES);
  const file = join(options.dataDir, 'master.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(MASTER_KEY_BYTES);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  warn(`No PAYGEN_MASTER_KEY set: generated one into ${file}. Set PAYGEN_MASTER_KEY in production.`);
  return key;
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT_KEY_BYTES, { N: SCRYPT_COST }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT_COST}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [, , salt, key] = stored.split('$');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'));
  const expected = Buffer.from(key, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
