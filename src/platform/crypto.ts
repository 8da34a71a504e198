// The crypto vault: one master key (PAYGEN_MASTER_KEY or a key file in the data dir) from which
// purpose-bound subkeys are derived with HKDF. PANs are sealed with AES-256-GCM and the key id is
// stored beside the ciphertext so that keys can rotate; lookups use keyed hashes.
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

type Purpose = 'pan-encryption' | 'pan-lookup' | 'cvv' | 'credential-hash' | 'pin' | 'idempotency';

export interface Vault {
  readonly keyId: string;
  /**
   * AES-256-GCM. `context` (optional) is authenticated but not stored: a ciphertext opens only
   * with the same context, so a sealed value copied to another row does not open there.
   */
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
  /** Keyed hash for lookups (PAN uniqueness, API keys, tokens): hex. */
  hash(purpose: Purpose, value: string): string;
  /** Raw purpose-bound key bytes (e.g. to derive a CVV like a network CVK). */
  subkey(purpose: Purpose): Buffer;
}

export function createVault(masterKey: Buffer): Vault {
  if (masterKey.length !== MASTER_KEY_BYTES) throw new Error('The master key must be 32 bytes.');
  const derive = (purpose: Purpose) =>
    Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `paygen:${purpose}`, 32));
  const keys = new Map<Purpose, Buffer>();
  const subkey = (purpose: Purpose) => {
    let key = keys.get(purpose);
    if (!key) keys.set(purpose, (key = derive(purpose)));
    return key;
  };
  const keyId = createHash('sha256').update(subkey('pan-encryption')).digest('hex').slice(0, 12);
  return {
    keyId,
    subkey,
    seal(plaintext, context) {
      const iv = randomBytes(GCM_IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', subkey('pan-encryption'), iv);
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed, context) {
      const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', subkey('pan-encryption'), iv);
      decipher.setAuthTag(tag);
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    },
    hash(purpose, value) {
      return createHmac('sha256', subkey(purpose)).update(value).digest('hex');
    },
  };
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
