// Money is an integer of minor units plus a 3-letter ISO 4217 currency. No floats anywhere.
import { Type } from '@sinclair/typebox';
import { ApiError } from './errors.ts';

/**
 * The largest amount one request may move: 10^12 minor units (ten billion dollars). It keeps every
 * figure Paygen derives from amounts (sums, balances, counters) far inside the exact range of a
 * JavaScript number, so thousands of maximum requests fit before any counter nears its bound.
 */
export const MAX_AMOUNT = 1_000_000_000_000;

/**
 * The largest value a stored counter or accumulated amount may reach (2^53 − 1): beyond it a
 * JavaScript number is no longer exact. Migration 010 enforces it with CHECK constraints named
 * `*_within_limit`, and the ledger refuses an update that would cross it.
 */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

export const Amount = Type.Integer({
  minimum: 1,
  maximum: MAX_AMOUNT,
  description: `Positive integer of minor units (USD 100 = $1.00), at most ${MAX_AMOUNT} (10^12).`,
  examples: [100],
});

export const Currency = Type.String({
  pattern: '^[A-Za-z]{3}$',
  description: 'ISO 4217 currency code.',
  examples: ['USD'],
});

export const Balance = Type.Object({
  available: Type.Integer(),
  pending: Type.Integer(),
  posted: Type.Integer(),
});

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

/** Upper-cases and checks a currency code against ISO 4217. */
export function normalizeCurrency(code: string, field = 'currency'): string {
  const upper = code.toUpperCase();
  if (!ISO_4217.has(upper)) {
    throw new ApiError(422, 'invalid_currency', `${code} is not an ISO 4217 currency.`, [{ field, message: 'unknown currency' }]);
  }
  return upper;
}

export function assertSafeAmount(amount: number, what: string) {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new Error(`ledger invariant broken: ${what} = ${amount}`);
  }
}
