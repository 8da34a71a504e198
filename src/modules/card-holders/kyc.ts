// Identity rules of the sandbox. A card holder is `verified` at once when every identity field is
// present, and `needs_information` (with the missing fields in kycReason) otherwise. When the
// holder applies for a program that demands documents, it is `pending` until they are uploaded and
// then `in_review`; `rejected` (and the final word after a review) comes from the simulator's KYC
// route.
import { unprocessable } from '../../platform/errors.ts';
import type { HolderFields, KycStatus } from './card-holders.schemas.ts';
import { isCountryCode } from './country-codes.ts';

/** The card holder's minimum age on its date of birth. */
export const MINIMUM_AGE_YEARS = 18;
/** A date of birth further back than this is a typing error, not a customer. */
export const MAXIMUM_AGE_YEARS = 130;

/** The fields a holder needs to be verified (plus `state` when the country is US). */
export const IDENTITY_FIELDS = ['firstName', 'lastName', 'email', 'addressLine1', 'city', 'postalCode', 'country'] as const;

export function evaluateKyc(holder: HolderFields): { status: KycStatus; reason: string | null } {
  const missing: string[] = IDENTITY_FIELDS.filter((field) => !holder[field]);
  if (holder.country === 'US' && !holder.state) missing.push('state');
  if (missing.length === 0) return { status: 'verified', reason: null };
  return { status: 'needs_information', reason: `Missing identity fields: ${missing.join(', ')}.` };
}

/**
 * The holder's program demands documents (`missing` is what it still waits for; null: it demands
 * none). Identity alone no longer verifies: the holder is pending until the documents are in,
 * then in_review until the KYC review (the simulator's KYC route) decides.
 */
export function withDocuments(kyc: { status: KycStatus; reason: string | null }, missing: string[] | null): { status: KycStatus; reason: string | null } {
  if (missing === null || kyc.status !== 'verified') return kyc;
  if (missing.length) return { status: 'pending', reason: `Awaiting documents: ${missing.join(', ')}.` };
  return { status: 'in_review', reason: 'Documents received; awaiting the KYC review.' };
}

/** Whether a change touches a field that KYC depends on. */
export function touchesIdentity(before: HolderFields, after: HolderFields): boolean {
  return [...IDENTITY_FIELDS, 'state' as const].some((field) => (before[field] ?? null) !== (after[field] ?? null));
}

function addYears(date: Date, years: number): Date {
  const result = new Date(date);
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

/** A real calendar date, in the past, of a holder at least MINIMUM_AGE_YEARS old. */
function checkDateOfBirth(value: string, now: Date) {
  const [year, month, day] = value.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw unprocessable('validation_failed', `dateOfBirth ${value} is not a calendar date.`, 'dateOfBirth');
  }
  if (date.getTime() > now.getTime()) throw unprocessable('validation_failed', 'dateOfBirth is in the future.', 'dateOfBirth');
  if (addYears(date, MAXIMUM_AGE_YEARS).getTime() < now.getTime()) {
    throw unprocessable('validation_failed', `dateOfBirth is more than ${MAXIMUM_AGE_YEARS} years ago.`, 'dateOfBirth');
  }
  if (addYears(date, MINIMUM_AGE_YEARS).getTime() > now.getTime()) {
    throw unprocessable('card_holder_underage', `A card holder must be at least ${MINIMUM_AGE_YEARS} years old.`, 'dateOfBirth');
  }
}

/** Rules the schema cannot express: real dates and assigned country codes. */
export function checkIdentityFields(fields: HolderFields, now: Date) {
  if (fields.dateOfBirth) checkDateOfBirth(fields.dateOfBirth, now);
  for (const field of ['country', 'nationality'] as const) {
    const code = fields[field];
    if (code && !isCountryCode(code)) {
      throw unprocessable('validation_failed', `${field} ${code} is not an assigned ISO 3166-1 alpha-2 code.`, field);
    }
  }
}
