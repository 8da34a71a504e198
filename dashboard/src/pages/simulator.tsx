// The simulated card network: authorize on a card, then capture or reverse, showing the decision
// and the card's balance afterwards.
import { useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import { formatMoney, parseMoney } from '../money.ts';
import { Field, Form, Notice, Select, Status, Table, text, useLoad, when } from '../ui.tsx';
import { cardName, listCards, type Card } from './cards.tsx';

export interface Authorization {
  id: string; cardId: string; status: string; approved: boolean; declineReason: string | null;
  requestedAmount: number; approvedAmount: number; heldAmount: number; capturedAmount: number; currency: string;
  merchant: { name: string }; createdAt: string;
}

const ENTRY_MODES: Array<[string, string]> = ['ecommerce', 'contactless', 'chip', 'swipe'].map((m) => [m, m]);

export function SimulatorPage() {
  const cards = useLoad(listCards);
  const [cardId, setCardId] = useState<string>('');
  const card = cards.data?.find((c) => c.id === cardId) ?? cards.data?.[0];
  return (
    <>
      <Notice error={cards.error} />
      {cards.data && cards.data.length === 0 && <p>Issue a card first.</p>}
      {card && (
        <>
          <Select label="Card" name="cardId" value={card.id} onChange={setCardId}
            options={(cards.data ?? []).map((c) => [c.id, `${cardName(c)}: ${c.status}`])} />
          <CardSimulator key={card.id} card={card} />
        </>
      )}
    </>
  );
}

function CardSimulator({ card: initial }: { card: Card }) {
  const [card, setCard] = useState(initial);
  const [decision, setDecision] = useState<Authorization | null>(null);
  const [error, setError] = useState<string>();
  const auths = useLoad(() => get<Authorization[]>(`/authorizations${query({ cardId: card.id, limit: 20 })}`), [card.id]);
  const refresh = async () => {
    setCard(await get<Card>(`/cards/${card.id}`));
    auths.reload();
  };
  const act = (auth: Authorization, action: 'capture' | 'reverse') => async () => {
    setError(undefined);
    await post(`/simulator/authorizations/${auth.id}/${action}`).then(refresh, (e: Error) => setError(e.message));
  };
  return (
    <>
      <section aria-labelledby="authorize">
        <h2 id="authorize">Authorize</h2>
        <Form label="Simulate authorization" submit="Authorize" onSubmit={async (form) => {
          const amount = parseMoney(text(form, 'amount') ?? '', card.currency);
          if (!amount) throw new Error(`Enter a positive amount in ${card.currency}, e.g. 12.50.`);
          const auth = await post<Authorization>('/simulator/authorizations', {
            cardId: card.id, amount, currency: card.currency, entryMode: form.get('entryMode'),
            merchant: { name: text(form, 'merchant') ?? 'Dashboard Coffee', mcc: text(form, 'mcc') ?? '5812', city: 'San Francisco', country: 'US' },
          });
          setDecision(auth);
          await refresh();
        }}>
          <Field label={`Amount (${card.currency})`} name="amount" inputMode="decimal" required placeholder="12.50" />
          <Field label="Merchant" name="merchant" placeholder="Dashboard Coffee" />
          <Field label="MCC" name="mcc" inputMode="numeric" pattern="[0-9]{4}" placeholder="5812" />
          <Select label="Entry mode" name="entryMode" options={ENTRY_MODES} />
        </Form>
        {decision && (
          <div class={`decision ${decision.approved ? 'approved' : 'declined'}`} role="status" data-testid="decision">
            <strong>{decision.approved ? 'Approved' : 'Declined'}</strong>{' '}
            {formatMoney(decision.approved ? decision.approvedAmount : decision.requestedAmount, decision.currency)}
            {decision.declineReason ? ` (${decision.declineReason})` : ''}
          </div>
        )}
        <p data-testid="card-balance">Card balance: available {formatMoney(card.balance.available, card.currency)},
          pending {formatMoney(card.balance.pending, card.currency)}</p>
      </section>
      <Notice error={error ?? auths.error} />
      <Table caption="Authorizations on this card" head={['When', 'Merchant', 'Status', 'Requested', 'Held', 'Captured', '']}>
        {auths.data?.map((auth) => (
          <tr key={auth.id}>
            <td>{when(auth.createdAt)}</td>
            <td>{auth.merchant.name}</td>
            <td><Status value={auth.status} />{auth.declineReason ? <small> {auth.declineReason}</small> : null}</td>
            <td class="num">{formatMoney(auth.requestedAmount, auth.currency)}</td>
            <td class="num">{formatMoney(auth.heldAmount, auth.currency)}</td>
            <td class="num">{formatMoney(auth.capturedAmount, auth.currency)}</td>
            <td>{auth.status === 'pending' && (
              <span class="actions">
                <button type="button" onClick={act(auth, 'capture')}>Capture</button>
                <button type="button" onClick={act(auth, 'reverse')}>Reverse</button>
              </span>
            )}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}
