// Card numbers: PAN = program BIN + random digits + Luhn check digit; CVV derived from a secret
// key (like a network CVK) and never stored; masking shows at most BIN + last four.
import { createHmac, randomInt } from 'node:crypto';
import type { Vault } from '../../platform/crypto.ts';

export const PAN_LENGTH = 16;

export function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    // Double every second digit counting from the right of the full number (check digit excluded).
    let digit = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

export function isLuhnValid(pan: string): boolean {
  return /^\d{12,19}$/.test(pan) && luhnCheckDigit(pan.slice(0, -1)) === pan.slice(-1);
}

export function generatePan(bin: string): string {
  let body = bin;
  while (body.length < PAN_LENGTH - 1) body += String(randomInt(10));
  return body + luhnCheckDigit(body);
}

export function maskPan(bin: string, lastFour: string): string {
  return `${bin}${'*'.repeat(PAN_LENGTH - bin.length - 4)}${lastFour}`;
}

/** Three digits derived from PAN and expiry with a purpose-bound key: same inputs, same CVV. */
export function deriveCvv(vault: Vault, pan: string, expiry: { month: number; year: number }): string {
  const mac = createHmac('sha256', vault.subkey('cvv')).update(`${pan}|${expiry.month}|${expiry.year}`).digest();
  return String(mac.readUInt32BE(0) % 1000).padStart(3, '0');
}
