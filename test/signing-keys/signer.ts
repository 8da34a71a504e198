// A small RFC 9421 signer for the tests, written apart from src/platform/signatures.ts so that the
// server's base builder is not checked against itself. It covers @method, @target-uri and, with
// a body, content-type and content-digest (sha-256).
import { constants, createHash, createHmac, sign, type KeyObject } from 'node:crypto';

export type TestKey = { algorithm: 'hmac-sha256'; secret: Buffer } |
  { algorithm: 'ed25519' | 'ecdsa-p256-sha256' | 'rsa-pss-sha512'; privateKey: KeyObject };

export interface SignOptions {
  method: string;
  url: string;
  body?: string;
  keyId: string;
  key: TestKey;
  created: number;
  nonce?: string;
  /** Components to cover instead of the default ones. */
  components?: string[];
  extraParams?: string;
}

export const contentDigest = (body: string) => `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;

function signBytes(key: TestKey, data: Buffer): Buffer {
  switch (key.algorithm) {
    case 'hmac-sha256': return createHmac('sha256', key.secret).update(data).digest();
    case 'ed25519': return sign(null, data, key.privateKey);
    case 'ecdsa-p256-sha256': return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'rsa-pss-sha512': return sign('sha512', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
  }
}

/** The headers to send: Signature, Signature-Input and, with a body, content-type and Content-Digest. */
export function signedHeaders(options: SignOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-digest'] = contentDigest(options.body);
  }
  const components = options.components ??
    ['@method', '@target-uri', ...(options.body !== undefined ? ['content-type', 'content-digest'] : [])];
  const url = new URL(options.url);
  const value = (name: string) => {
    if (name === '@method') return options.method;
    if (name === '@target-uri') return url.href;
    if (name === '@authority') return url.host;
    if (name === '@path') return url.pathname;
    return headers[name];
  };
  const nonce = options.nonce === undefined ? '' : `;nonce="${options.nonce}"`;
  const params = `(${components.map((c) => `"${c}"`).join(' ')});created=${options.created};keyid="${options.keyId}"${nonce}${options.extraParams ?? ''}`;
  const base = [...components.map((c) => `"${c}": ${value(c)}`), `"@signature-params": ${params}`].join('\n');
  headers['signature-input'] = `sig1=${params}`;
  headers.signature = `sig1=:${signBytes(options.key, Buffer.from(base)).toString('base64')}:`;
  return headers;
}
