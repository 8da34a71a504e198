// The event catalog's samples must look like the real events: a workload through the API emits
// events of many types, and for every type seen, the sample carries exactly the top-level keys
// of the real event's data (the shape receivers code against), with values of the same JSON kind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EVENT_CATALOG } from '../../src/modules/events/events.catalog.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { createAccount, createProgram, issueNameOnlyCard } from '../support/fixtures.ts';
import { approved, step } from '../authorizations/support.ts';

let api: Harness;
before(async () => { api = await startHarness({ config: { workers: false } }); });
after(async () => { await api.checkLedger(); await api.close(); });

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

async function workload() {
  const account = await createAccount(api);
  const other = await createAccount(api, { name: 'Second wallet' });
  await api.request('PATCH', `/accounts/${account.id}`, { body: { name: 'Renamed wallet' } });
  await api.request('POST', '/transfers', { body: { fromAccountId: account.id, toAccountId: other.id, amount: 100, currency: 'USD' } });
  const program = await createProgram(api);
  await api.request('PATCH', `/card-programs/${program.id}`, { body: { name: `${program.name} renamed` } });
  const card = (await issueNameOnlyCard(api, account, program, 5_000)).body.data;
  await api.request('PATCH', `/cards/${card.id}`, { body: { label: 'Travel' } });
  await api.request('POST', `/cards/${card.id}/top-up`, { body: { amount: 100 } });
  await api.request('POST', `/cards/${card.id}/withdraw`, { body: { amount: 100 } });
  await api.request('PUT', `/cards/${card.id}/pin`, { body: { pin: '4826' } });
  const auth = await approved(api, card.id, 1_000);
  await step(api, auth.id, 'capture', { amount: 1_000 });
  const [capture] = (await api.request('GET', `/transactions?authorizationId=${auth.id}`)).body.data;
  const dispute = (await api.request('POST', '/disputes', { body: { transactionId: capture.id, reason: 'canceled', explanation: 'Cancelled.' } })).body.data;
  await api.request('POST', `/disputes/${dispute.id}/evidence`, { body: { trackingNumber: '1Z999AA10123456784' } });
  await api.request('POST', `/disputes/${dispute.id}/submit`);
  await api.request('POST', `/simulator/disputes/${dispute.id}/resolve`, { body: { outcome: 'won' } });
  const hold = await approved(api, card.id, 500);
  await step(api, hold.id, 'reverse');
  await api.request('POST', `/cards/${card.id}/freeze`);
  await api.request('POST', `/cards/${card.id}/unfreeze`);
  await api.request('POST', '/budgets', { body: { accountId: account.id, name: 'Team', currency: 'USD', limit: { amount: 1_000, interval: 'monthly' } } });
  await api.request('POST', '/card-holders', {
    body: { firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', phoneNumber: '+14155550100', dateOfBirth: '1990-07-14', nationality: 'US', addressLine1: '1 Main St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' },
  });
  await api.request('POST', '/api-keys', { body: { name: 'catalog check' } });
  const hook = (await api.request('POST', '/webhooks', { body: { url: 'http://127.0.0.1:9/hooks', events: ['*'] } })).body.data;
  await api.request('POST', `/webhooks/${hook.id}/test`);
  await api.request('POST', `/cards/${card.id}/cancel`);
}

// TODO: the catalog's samples are abbreviated (a card sample has 8 of its 34 keys, accounts lack
// createdAt, ownerType, …; account.deposit_received names entryId where the event has id). Until
// each sample is the full shape of its resource, this runs as a todo and lists every gap.
test('every catalog sample has the keys of the real events of its type', async () => {
  await workload();
  const seen = new Map<string, Record<string, unknown>>();
  let cursor: string | null = null;
  do {
    const res: any = await api.request('GET', `/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    for (const event of res.body.data) if (!seen.has(event.type)) seen.set(event.type, event.data);
    cursor = res.body.meta.nextCursor;
  } while (cursor);
  assert.ok(seen.size >= 15, `the workload emits many types: ${[...seen.keys()].join(', ')}`);
  const problems: string[] = [];
  for (const [type, data] of seen) {
    const entry = (EVENT_CATALOG as Record<string, { sample: Record<string, unknown> }>)[type];
    if (!entry) { problems.push(`${type}: not in the catalog`); continue; }
    const real = Object.keys(data).sort();
    const sample = Object.keys(entry.sample).sort();
    const missing = real.filter((k) => !sample.includes(k));
    const extra = sample.filter((k) => !real.includes(k));
    if (missing.length || extra.length) problems.push(`${type}: sample lacks [${missing.join(', ')}], has extra [${extra.join(', ')}]`);
    for (const key of real.filter((k) => sample.includes(k))) {
      const [a, b] = [kind(data[key]), kind(entry.sample[key])];
      if (a !== b && a !== 'null' && b !== 'null') problems.push(`${type}.${key}: real ${a}, sample ${b}`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('every catalog sample validates against its resource schema', async () => {
  const { FormatRegistry } = await import('@sinclair/typebox');
  const { Value } = await import('@sinclair/typebox/value');
  const { Account, Deposit, BookTransfer } = await import('../../src/modules/accounts/accounts.schemas.ts');
  const { Authorization, Merchant } = await import('../../src/modules/authorizations/authorizations.schemas.ts');
  const { Budget } = await import('../../src/modules/budgets/budgets.schemas.ts');
  const { CardHolder, Document } = await import('../../src/modules/card-holders/card-holders.schemas.ts');
  const { Program, SpendControls } = await import('../../src/modules/card-programs/card-programs.schemas.ts');
  const { Card, DeliveryAddress } = await import('../../src/modules/cards/cards.schemas.ts');
  const { ApiKey } = await import('../../src/modules/organizations/organizations.schemas.ts');
  const { SigningKey } = await import('../../src/modules/signing-keys/signing-keys.schemas.ts');
  const { Tokenization } = await import('../../src/modules/tokenizations/tokenizations.schemas.ts');
  const { Transaction } = await import('../../src/modules/transactions/transactions.schemas.ts');
  const { CardRevealed } = await import('../../src/modules/cards/card-reveal.schemas.ts');
  const { Dispute, EvidenceFile } = await import('../../src/modules/disputes/disputes.schemas.ts');
  const { PinBlocked } = await import('../../src/modules/cards/card-pins.schemas.ts');
  for (const format of ['date-time', 'date', 'email', 'uri', 'binary']) {
    if (!FormatRegistry.Has(format)) FormatRegistry.Set(format, (value) => format !== 'date-time' || !Number.isNaN(Date.parse(value)));
  }
  const references = [SpendControls, DeliveryAddress, Tokenization, Merchant, Document, EvidenceFile];
  const schemaOf = (type: string) => {
    if (type === 'account.deposit_received') return Deposit;
    if (type === 'transfer.created') return BookTransfer;
    if (type === 'card.revealed') return CardRevealed;
    if (type === 'card.pin_blocked') return PinBlocked;
    if (type === 'card_holder.document_added' || type === 'card.pin_updated' || type === 'webhook.test') return null;
    const resource = type.split('.')[0];
    return ({ account: Account, card: Card, card_holder: CardHolder, card_program: Program, budget: Budget, authorization: Authorization,
      transaction: Transaction, tokenization: Tokenization, api_key: ApiKey, signing_key: SigningKey, dispute: Dispute } as Record<string, any>)[resource];
  };
  const problems: string[] = [];
  for (const [type, entry] of Object.entries(EVENT_CATALOG)) {
    const schema = schemaOf(type);
    if (schema === undefined) { problems.push(`${type}: no schema known to this test`); continue; }
    const sample = type === 'card_holder.document_added' ? (entry.sample as any).document : entry.sample;
    const checked = type === 'card_holder.document_added' ? Document : schema;
    if (!checked) continue;
    if (!Value.Check(checked, references, sample)) {
      problems.push(`${type}: ${[...Value.Errors(checked, references, sample)].slice(0, 3).map((e) => `${e.path} ${e.message}`).join('; ')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the README states the retry schedule the code uses', async () => {
  const { readFileSync } = await import('node:fs');
  const { describeSchedule, MAX_DELIVERY_ATTEMPTS, DELIVERY_TIMEOUT_MS } = await import('../../src/modules/webhooks/retry-schedule.ts');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const waits = /after waits of (.*); then/.exec(describeSchedule())![1].split(', ');
  const spoken = `${waits.slice(0, -1).join(', ')} and ${waits[waits.length - 1]}`;
  assert.ok(readme.includes(`${MAX_DELIVERY_ATTEMPTS} attempts at most`), 'attempt count');
  assert.ok(readme.includes(spoken), `README should list the waits: ${spoken}`);
  assert.ok(readme.includes(`${DELIVERY_TIMEOUT_MS / 1000} s to answer`), 'timeout');
});
