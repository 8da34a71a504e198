// PUT /cards/:id/pin: every rule of API.md and every case of the shared PIN vectors, the keypad
// decision, storage as a keyed hash only, terminal cards, tenancy, and no PIN in any response,
// event or log line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hashPin, weakPinReason } from '../../src/modules/cards/pin.ts';
import { containsPin, logLeaks, startPinHarness, withoutCardDigits, type PinHarness } from './support.ts';

interface PinCase { pin: string; expectReject: boolean; matchedRules: string[] }
const vectors = JSON.parse(readFileSync(new URL('../data/vectors/cards-pins.json', import.meta.url), 'utf8')).pin as { cases: PinCase[] };
const DATE_RULES = new Set(['dateMMDD', 'dateDDMM']);

let h: PinHarness;
/** PINs that were stored: none may show up anywhere. */
const stored = new Set<string>();

before(async () => { h = await startPinHarness(); });
after(async () => { await h.api.checkLedger(); await h.api.close(); });

async function expectWeak(cardId: string, pin: string, reason?: RegExp) {
  const res = await h.setPin(cardId, pin);
  assert.equal(res.status, 422, `${pin}: ${res.text}`);
  assert.equal(res.body.error.code, 'weak_pin', pin);
  assert.equal(res.body.error.details[0].field, 'pin');
  if (reason) assert.match(res.body.message, reason, pin);
}

async function expectAccepted(cardId: string, pin: string) {
  const res = await h.setPin(cardId, pin);
  assert.equal(res.status, 200, `${pin}: ${res.text}`);
  stored.add(pin);
  return res;
}

/** A card whose last four is none of `pins`, so that only the rule under test can refuse them. */
async function cardAvoiding(pins: string[], holder: Record<string, unknown> = {}) {
  for (;;) {
    const card = await h.issueCard(holder);
    if (!pins.includes(card.lastFour)) return card;
  }
}

describe('PUT /cards/:id/pin', () => {
  test('sets the PIN: 200 without the PIN, isPinSet, only a keyed hash bound to the card, an event without it', async () => {
    const card = await cardAvoiding(['8068']);
    assert.equal(card.isPinSet, false);
    h.clock.advance(1000);
    const res = await expectAccepted(card.id, '8068');
    assert.deepEqual(Object.keys(res.body.data).sort(), ['cardId', 'isPinSet', 'updatedAt']);
    assert.deepEqual(res.body.data, { cardId: card.id, isPinSet: true, updatedAt: h.clock.now().toISOString() });
    assert.equal(containsPin(res.text, '8068'), false);

    const read = await h.call('GET', `/cards/${card.id}`);
    assert.equal(read.body.data.isPinSet, true);
    assert.equal(read.body.data.updatedAt, h.clock.now().toISOString());

    const [row] = await h.api.app.ctx.db.query<{ pin_hash: string }>('SELECT pin_hash FROM cards WHERE id = $1', [card.id]);
    assert.equal(row.pin_hash, hashPin(h.api.app.ctx.vault, card.id, '8068'));
    assert.notEqual(row.pin_hash, hashPin(h.api.app.ctx.vault, 'card_other', '8068'), 'the hash is bound to the card');
    assert.equal(containsPin(row.pin_hash, '8068'), false);

    const events = await h.call('GET', `/events?resourceId=${card.id}&type=card.pin_updated`);
    assert.equal(events.body.data.length, 1, events.text);
    assert.deepEqual(events.body.data[0].data, { cardId: card.id, isPinSet: true, updatedAt: h.clock.now().toISOString(), source: 'api' });

    // A second PUT changes it: the new hash replaces the old one, and a second event says so.
    await expectAccepted(card.id, '7391');
    const [changed] = await h.api.app.ctx.db.query<{ pin_hash: string }>('SELECT pin_hash FROM cards WHERE id = $1', [card.id]);
    assert.equal(changed.pin_hash, hashPin(h.api.app.ctx.vault, card.id, '7391'));
    assert.equal((await h.call('GET', `/events?resourceId=${card.id}&type=card.pin_updated`)).body.data.length, 2);
  });

  test('every case of the shared PIN vectors: the rejects are 422 weak_pin, the random PINs are accepted', async () => {
    assert.ok(vectors.cases.length >= 17);
    const all = vectors.cases.map((c) => c.pin);
    const card = await cardAvoiding(all);
    for (const c of vectors.cases) {
      const onlyDates = c.matchedRules.length > 0 && c.matchedRules.every((rule) => DATE_RULES.has(rule));
      if (!c.expectReject) await expectAccepted(card.id, c.pin);
      else if (!onlyDates) await expectWeak(card.id, c.pin);
      else {
        // API.md refuses dates as the card holder's birth date: so the holder is born on that day.
        const [mm, dd] = c.matchedRules.includes('dateMMDD') ? [c.pin.slice(0, 2), c.pin.slice(2)] : [c.pin.slice(2), c.pin.slice(0, 2)];
        const born = await cardAvoiding(all, { dateOfBirth: `1990-${mm}-${dd}` });
        await expectWeak(born.id, c.pin, /birth date/);
      }
    }
  });

  test('decision: a date that is not the holder\'s birth date is accepted (API.md), so 1225 passes for others', async () => {
    const card = await cardAvoiding(['1225', '3112'], { dateOfBirth: '1990-07-14' });
    await expectAccepted(card.id, '1225');
    await expectAccepted(card.id, '3112');
  });

  test('decision: the straight keypad lines (2580 and kin) are refused, beyond API.md\'s list', async () => {
    const lines = ['2580', '0852', '8520', '0258', '7410', '0147'];
    const card = await cardAvoiding(lines);
    for (const pin of lines) await expectWeak(card.id, pin, /keypad/);
    // Keys that are near each other but not a line stay allowed.
    await expectAccepted(card.id, '2589');
  });

  test('each rule of API.md, at its edges', async () => {
    const table: Array<[string, RegExp]> = [
      ['5555', /same/], ['0123', /ascending/], ['3456', /ascending/], ['9876', /descending/], ['3210', /descending/],
      ['1004', /common/], ['2000', /common|year/], ['3737', /ABAB/], ['8833', /AABB/],
      ['1900', /year/], ['1957', /year/], ['2099', /year/],
    ];
    const accepted = ['1899', '2100', '0124', '5679', '4826', '5017'];
    const card = await cardAvoiding([...table.map(([pin]) => pin), ...accepted]);
    for (const [pin, reason] of table) await expectWeak(card.id, pin, reason);
    for (const pin of accepted) await expectAccepted(card.id, pin);
  });

  test('the card holder\'s birth date as MMDD or DDMM, and the card\'s last four, are refused', async () => {
    const card = await cardAvoiding(['0327', '2703'], { dateOfBirth: '1984-03-27' });
    await expectWeak(card.id, '0327', /birth date/);
    await expectWeak(card.id, '2703', /birth date/);
    const other = await cardAvoiding(['0327', '2703'], { dateOfBirth: '1984-11-02' });
    await expectAccepted(other.id, '0327');

    const own = await h.issueCard();
    if (weakPinReason(own.lastFour) === null) await expectWeak(own.id, own.lastFour, /last four/);
    else await expectWeak(own.id, own.lastFour);
    const read = await h.call('GET', `/cards/${own.id}`);
    assert.equal(read.body.data.isPinSet, false, 'a refused PIN sets nothing');
  });

  test('the rules refuse about 4% of the PIN space, not more: 8068-like PINs pass', () => {
    let refused = 0;
    for (let i = 0; i < 10_000; i++) if (weakPinReason(String(i).padStart(4, '0'))) refused++;
    assert.equal(refused, 409);
    for (const pin of ['8068', '7391', '4826', '5017', '3859']) assert.equal(weakPinReason(pin), null, pin);
  });

  test('a malformed PIN is 422 validation_failed and changes nothing', async () => {
    const card = await h.issueCard();
    for (const body of [{ pin: '123' }, { pin: '12345' }, { pin: '12a4' }, { pin: 4826 }, { pin: ' 4826' }, {}, { pin: '4826', extra: true }]) {
      const res = await h.call('PUT', `/cards/${card.id}/pin`, { body });
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, 'validation_failed');
    }
    assert.equal((await h.call('GET', `/cards/${card.id}`)).body.data.isPinSet, false);
  });

  test('a locked card takes a PIN; a cancelled one is 409 card_not_usable and keeps its PIN state', async () => {
    const card = await cardAvoiding(['4826', '5017']);
    assert.equal((await h.call('POST', `/cards/${card.id}/freeze`)).status, 200);
    await expectAccepted(card.id, '4826');
    assert.equal((await h.call('POST', `/cards/${card.id}/cancel`, { body: { reason: 'test' } })).status, 200);
    const res = await h.setPin(card.id, '5017');
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'card_not_usable');
    const [row] = await h.api.app.ctx.db.query<{ pin_hash: string }>('SELECT pin_hash FROM cards WHERE id = $1', [card.id]);
    assert.equal(row.pin_hash, hashPin(h.api.app.ctx.vault, card.id, '4826'));
  });

  test('another organization\'s card, or no card, is 404 not_found; no credential is 401', async () => {
    const card = await h.issueCard();
    const other = await h.api.otherOrganization();
    const theirs = await h.setPin(card.id, '4826', other.apiKey);
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.body.error.code, 'not_found');
    const absent = await h.setPin(`${card.id.slice(0, -8)}00000000`, '4826');
    assert.equal(absent.status, 404);
    assert.equal(absent.body.message, theirs.body.message);
    const anonymous = await h.call('PUT', `/cards/${card.id}/pin`, { body: { pin: '4826' }, key: null });
    assert.equal(anonymous.status, 401);
    assert.equal((await h.call('GET', `/cards/${card.id}`)).body.data.isPinSet, false);
  });

  test('cardPin at issuance follows the same rules (a keypad line is refused there too)', async () => {
    const card = await h.issueCard();
    const res = await h.call('POST', '/cards', { body: { debitAccountId: h.accountId, cardHolderId: card.cardHolderId, type: 'virtual', brand: 'Visa', currency: 'USD', amount: 0, cardPin: '2580' } });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.error.code, 'weak_pin');
  });
});

describe('the PIN never leaves', () => {
  test('no response, event or log line holds a stored PIN', async () => {
    // The detector itself finds a PIN where one is, and not inside ids or hashes.
    assert.equal(logLeaks('{"msg":"body","body":{"value":"8068"}}\n', ['8068']).length, 1);
    assert.equal(logLeaks('{"msg":"ids","id":"evt_01ab8068cd","hash":"98068f"}\n', ['8068']).length, 0);
    assert.ok(stored.size >= 10, `${stored.size} PINs stored`);
    for (const pin of stored) {
      for (const text of h.responses) assert.equal(containsPin(withoutCardDigits(text), pin), false, `${pin} in a response: ${text.slice(0, 200)}`);
    }
    const events = await h.api.app.ctx.db.query<{ data: unknown; previous_attributes: unknown }>('SELECT data, previous_attributes FROM events WHERE organization_id = $1', [h.api.organizationId]);
    assert.ok(events.length > 10);
    for (const pin of stored) for (const event of events) assert.equal(containsPin(withoutCardDigits(JSON.stringify(event)), pin), false, `${pin} in an event`);
    await new Promise((resolve) => setImmediate(resolve));
    const log = h.log();
    assert.ok(log.includes('"url":"/cards/') && log.includes('/pin"'), 'the PIN requests were logged (at debug level)');
    assert.deepEqual(logLeaks(log, stored), []);
  });
});
