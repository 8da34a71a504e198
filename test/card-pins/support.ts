// Shared by the PIN suites: a harness whose log is captured, a request wrapper that keeps every
// response, and a check that a PIN appears nowhere as a value of its own.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/platform/clock.ts';
import { startHarness, type Harness, type RequestOptions, type Response } from '../support/api.ts';
import { createAccount, createCardHolder } from '../support/fixtures.ts';

export interface PinHarness {
  api: Harness;
  clock: ManualClock;
  /** The funded USD account every card is issued from. */
  accountId: string;
  /** Every response body seen by `call`, to search for PINs. */
  responses: string[];
  log: () => string;
  call(method: string, path: string, options?: RequestOptions): Promise<Response>;
  /** A verified card holder's active virtual Visa USD card. */
  issueCard(holder?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<any>;
  setPin(cardId: string, pin: unknown, key?: string): Promise<Response>;
}

export async function startPinHarness(): Promise<PinHarness> {
  let captured = '';
  const stream = new Writable({ write(chunk, _encoding, done) { captured += chunk.toString(); done(); } });
  const clock = new ManualClock(new Date());
  const api = await startHarness({ logger: { stream }, config: { logLevel: 'debug' }, clock });
  const account = await createAccount(api);
  const responses: string[] = [];
  const call = async (method: string, path: string, options: RequestOptions = {}) => {
    const res = await api.request(method, path, options);
    responses.push(res.text);
    return res;
  };
  return {
    api, clock, responses, call, accountId: account.id,
    log: () => captured,
    async issueCard(holder = {}, extra = {}) {
      const owner = await createCardHolder(api, holder);
      const res = await call('POST', '/cards', { body: { debitAccountId: account.id, cardHolderId: owner.id, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 0, ...extra } });
      assert.equal(res.status, 201, res.text);
      return res.body.data;
    },
    setPin: (cardId, pin, key) => call('PUT', `/cards/${cardId}/pin`, { body: { pin }, key }),
  };
}

/**
 * True when `pin` stands alone somewhere in `text`: not inside a longer run of letters or digits
 * (ids, hashes and timestamps hold every 4-digit string sooner or later).
 */
export function containsPin(text: string, pin: string): boolean {
  return new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`).test(text);
}

/**
 * A response without the card's own public digits (lastFour, maskedPan, "Card ending in …"),
 * which are random 4-digit strings that can equal a PIN set on another card.
 */
export function withoutCardDigits(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), (key, value) => (key === 'lastFour' || key === 'maskedPan' ? '' : value));
  } catch {
    return text.replace(/Card ending in \d{4}/g, 'Card ending in');
  }
}

/** Every string value of every JSON log line, and every number equal to the PIN. */
export function logLeaks(log: string, pins: Iterable<string>): string[] {
  const leaks: string[] = [];
  const lines = log.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const walk = (value: unknown, pin: string, where: string) => {
    if (typeof value === 'string' && containsPin(value, pin)) leaks.push(`${pin} in ${where}: ${value.slice(0, 120)}`);
    else if (typeof value === 'number' && String(value) === pin) leaks.push(`${pin} as a number in ${where}`);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, pin, `${where}.${k}`);
  };
  for (const pin of pins) for (const line of lines) walk(line, pin, line.msg ?? 'log');
  return leaks;
}
