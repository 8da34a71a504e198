// Cards: list with filters and paging, issue (virtual or physical), freeze/unfreeze/cancel,
// top-up/withdraw, and reveal through the hosted reveal page in an iframe.
import { useState } from 'preact/hooks';
import { get, post, query, type Envelope, call } from '../api.ts';
import { formatMoney, parseMoney } from '../money.ts';
import { Field, Form, Notice, Select, Status, Table, text, useLoad } from '../ui.tsx';
import { CURRENCIES, listAccounts } from './accounts.tsx';
import { listCardHolders } from './card-holders.tsx';

export interface Card {
  id: string; status: string; type: string; brand: string; currency: string; maskedPan: string; lastFour: string;
  label: string | null; cardHolderId: string | null; debitAccountId: string;
  balance: { available: number; pending: number };
}

const STATUSES = ['', 'pending', 'issued', 'digital', 'active', 'locked', 'suspended', 'cancelled', 'expired', 'rejected'];
const PAGE_SIZE = 10;

export const cardName = (card: Card) => `${card.brand} ${card.type} ····${card.lastFour}${card.label ? ` (${card.label})` : ''}`;

export function CardsPage() {
  const [filters, setFilters] = useState({ status: '', type: '' });
  // The cursors of the pages seen so far: going back pops one.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const cards = useLoad(
    () => call<Card[]>('GET', `/cards${query({ limit: PAGE_SIZE, cursor, status: filters.status, type: filters.type })}`),
    [cursor, filters.status, filters.type],
  );
  const [selected, setSelected] = useState<string | null>(null);
  const filter = (name: 'status' | 'type') => (value: string) => {
    setFilters((f) => ({ ...f, [name]: value }));
    setCursors([undefined]);
  };
  const page: Envelope<Card[]> | undefined = cards.data;
  const selectedCard = page?.data.find((c) => c.id === selected);

  return (
    <>
      <IssueCard onIssued={(card) => { setCursors([undefined]); cards.reload(); setSelected(card.id); }} />
      <section aria-labelledby="card-list">
        <h2 id="card-list">Cards</h2>
        <div class="filters">
          <Select label="Status" name="status" value={filters.status} onChange={filter('status')}
            options={STATUSES.map((s) => [s, s || 'any'])} />
          <Select label="Type" name="type" value={filters.type} onChange={filter('type')}
            options={[['', 'any'], ['virtual', 'virtual'], ['physical', 'physical']]} />
        </div>
        <Notice error={cards.error} />
        <Table caption="Cards" head={['Card', 'Status', 'Available', 'Pending', '']}>
          {page?.data.map((card) => (
            <tr key={card.id} class={card.id === selected ? 'selected' : undefined}>
              <td>{card.brand} {card.type} <code>{card.maskedPan}</code>{card.label ? <><br /><small>{card.label}</small></> : null}</td>
              <td><Status value={card.status} /></td>
              <td class="num">{formatMoney(card.balance.available, card.currency)}</td>
              <td class="num">{formatMoney(card.balance.pending, card.currency)}</td>
              <td><button type="button" aria-label={`Manage card ${card.lastFour}`} onClick={() => setSelected(card.id)}>Manage</button></td>
            </tr>
          ))}
        </Table>
        <div class="pager">
          <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
          <span>Page {cursors.length}</span>
          <button type="button" disabled={!page?.meta?.hasMore}
            onClick={() => setCursors((c) => [...c, page?.meta?.nextCursor ?? undefined])}>Next page</button>
        </div>
      </section>
      {selectedCard && <ManageCard key={selectedCard.id} card={selectedCard} onChange={cards.reload} />}
    </>
  );
}

function IssueCard({ onIssued }: { onIssued: (card: Card) => void }) {
  const accounts = useLoad(listAccounts);
  const holders = useLoad(listCardHolders);
  const [type, setType] = useState('virtual');
  return (
    <section aria-labelledby="issue-card">
      <h2 id="issue-card">Issue a card</h2>
      <Notice error={accounts.error ?? holders.error} />
      <Form label="Issue card" submit="Issue card" class="wide" onSubmit={async (form) => {
        const currency = String(form.get('currency'));
        const amountText = text(form, 'amount');
        const amount = amountText ? parseMoney(amountText, currency) : undefined;
        if (amountText && !amount) throw new Error(`Enter a positive amount in ${currency}, e.g. 50.00.`);
        const accepted = form.get('accepted') === 'on';
        const body: Record<string, unknown> = {
          debitAccountId: form.get('debitAccountId'), cardHolderId: form.get('cardHolderId'), type, brand: form.get('brand'),
          currency, amount, label: text(form, 'label'), termsAndConditionsAccepted: accepted, eDisclosureAccepted: accepted,
        };
        if (type === 'physical') {
          body.deliveryAddress = {
            address1: text(form, 'address1'), city: text(form, 'city'), state: text(form, 'state'),
            postalCode: text(form, 'postalCode'), countryCode: text(form, 'countryCode'),
          };
        }
        const card = await post<Card>('/cards', body);
        onIssued(card);
        return `Card ${card.maskedPan} issued (${card.status}).`;
      }}>
        <Select label="Debit account" name="debitAccountId"
          options={(accounts.data ?? []).map((a) => [a.id, `${a.name} (${formatMoney(a.balance.available, a.currency)})`])} />
        <Select label="Card holder" name="cardHolderId"
          options={(holders.data ?? []).map((h) => [h.id, `${h.firstName} ${h.lastName} (${h.kycStatus})`])} />
        <Select label="Type" name="type" value={type} onChange={setType} options={[['virtual', 'virtual'], ['physical', 'physical']]} />
        <Select label="Brand" name="brand" options={[['Visa', 'Visa'], ['Mastercard', 'Mastercard']]} />
        <Select label="Currency" name="currency" options={CURRENCIES} />
        <Field label="Initial amount" name="amount" inputMode="decimal" placeholder="50.00" />
        <Field label="Label" name="label" placeholder="Travel" />
        {type === 'physical' && (
          <fieldset>
            <legend>Delivery address</legend>
            <Field label="Address" name="address1" required placeholder="123 Main St" />
            <Field label="City" name="city" required placeholder="San Francisco" />
            <Field label="State" name="state" placeholder="CA" />
            <Field label="Postal code" name="postalCode" required placeholder="94105" />
            <Field label="Country (ISO alpha-2)" name="countryCode" required placeholder="US" />
          </fieldset>
        )}
        <label class="check"><input type="checkbox" name="accepted" defaultChecked /> Card holder accepted the terms and the e-disclosure</label>
      </Form>
    </section>
  );
}

function ManageCard({ card, onChange }: { card: Card; onChange: () => void }) {
  const [error, setError] = useState<string>();
  const [reveal, setReveal] = useState<string | null>(null);
  const act = (action: string) => async () => {
    setError(undefined);
    if (action === 'cancel' && !confirm('Cancel this card? This is final; its balance returns to the account.')) return;
    await post(`/cards/${card.id}/${action}`).then(onChange, (e: Error) => setError(e.message));
  };
  const showReveal = async () => {
    setError(undefined);
    setReveal(null);
    await post<{ url: string }>(`/cards/${card.id}/reveal-sessions`, { allowedOrigin: location.origin, ttlSeconds: 120 })
      .then((session) => setReveal(session.url), (e: Error) => setError(e.message));
  };
  const moveFunds = (action: 'top-up' | 'withdraw') => async (form: FormData) => {
    const amount = parseMoney(text(form, 'amount') ?? '', card.currency);
    if (!amount) throw new Error(`Enter a positive amount in ${card.currency}, e.g. 10.00.`);
    const updated = await post<Card>(`/cards/${card.id}/${action}`, { amount });
    onChange();
    return `Done: the card has ${formatMoney(updated.balance.available, card.currency)} available.`;
  };
  return (
    <section aria-labelledby="manage-card">
      <h2 id="manage-card">{cardName(card)}</h2>
      <p>Status <Status value={card.status} />, available {formatMoney(card.balance.available, card.currency)}. <code>{card.id}</code></p>
      <div class="actions">
        {card.status === 'active' && <button type="button" onClick={act('freeze')}>Freeze</button>}
        {card.status === 'locked' && <button type="button" onClick={act('unfreeze')}>Unfreeze</button>}
        {!['cancelled', 'expired', 'rejected'].includes(card.status) && <button type="button" onClick={act('cancel')}>Cancel card</button>}
        <button type="button" onClick={showReveal}>Reveal card details</button>
      </div>
      <Notice error={error} />
      {reveal && (
        <div class="reveal">
          <iframe title="Card details (hosted reveal page)" src={reveal} data-url={reveal} />
          <p><small>The link works once; revealing again makes a new one.</small></p>
        </div>
      )}
      <div class="grid two">
        <Form label="Top up card" submit="Top up" onSubmit={moveFunds('top-up')}>
          <Field label={`Top-up amount (${card.currency})`} name="amount" inputMode="decimal" required placeholder="10.00" />
        </Form>
        <Form label="Withdraw from card" submit="Withdraw" onSubmit={moveFunds('withdraw')}>
          <Field label={`Withdrawal amount (${card.currency})`} name="amount" inputMode="decimal" required placeholder="10.00" />
        </Form>
      </div>
    </section>
  );
}

export const listCards = () => get<Card[]>(`/cards${query({ limit: 100 })}`);
