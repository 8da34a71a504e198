// Standard Webhooks signing (https://www.standardwebhooks.com) with the `standardwebhooks`
// package: `webhook-signature` carries one `v1,<base64 HMAC-SHA256>` per valid secret, separated
// by spaces, so that a receiver holding either secret verifies during a rotation.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks secrets are 24 to 64 random bytes, base64, after the `whsec_` prefix. */
const SECRET_BYTES = 32;

export function newSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The three headers of a delivery. `messageId` is the event id (stable across retries, so
 * receivers can drop duplicates); `signedAt` is the wall-clock time of the attempt, which
 * receivers compare with their own clock (5 minutes of tolerance in the reference libraries).
 */
export function signatureHeaders(secrets: string[], messageId: string, signedAt: Date, payload: string): Record<string, string> {
  if (!secrets.length) throw new Error('a delivery needs at least one signing secret');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, signedAt, payload)).join(' '),
  };
}
