// Accounts: balances, a new account, a sandbox deposit, and one account's ledger entries.
import { useState } from 'preact/hooks';
import { get, post, query } from '../api.ts';
import { formatMoney, parseMoney } from '../money.ts';
import { Field, Form, Notice, Select, Status, Table, text, useLoad, when } from '../ui.tsx';

export interface Account {
  id: string; name: string; currency: string; type: string; status: string;
  balance: { available: number; pending: number; posted: number };
}
interface Entry {
  id: string; direction: string; amount: number; currency: string; kind: string; status: string;
  description: string | null; balanceAfter: number; createdAt: string;
}

export const CURRENCIES: Array<[string, string]> = [['USD', 'USD'], ['EUR', 'EUR']];

export const listAccounts = () => get<Account[]>(`/accounts${query({ limit: 100 })}`);

export function AccountsPage() {
  const accounts = useLoad(listAccounts);
  const [open, setOpen] = useState<Account | null>(null);
  return (
    <>
      <section aria-labelledby="new-account">
        <h2 id="new-account">New account</h2>
        <Form label="Create account" submit="Create account" onSubmit={async (form) => {
          const account = await post<Account>('/accounts', {
            name: text(form, 'name'), currency: form.get('currency'), type: form.get('type'),
            ownerType: 'business', ownerId: text(form, 'ownerId') ?? 'dashboard', category: 'fiat',
          });
          accounts.reload();
          return `Account ${account.name} created.`;
        }}>
          <Field label="Name" name="name" required placeholder="Operating wallet" />
          <Select label="Currency" name="currency" options={CURRENCIES} />
          <Select label="Type" name="type" options={[['wallet', 'wallet'], ['checking', 'checking'], ['savings', 'savings']]} />
          <Field label="Your reference (owner id)" name="ownerId" placeholder="dashboard" />
        </Form>
      </section>
      <Notice error={accounts.error} />
      <Table caption="Accounts" head={['Name', 'Status', 'Available', 'Pending', 'Posted', '']}>
        {accounts.data?.map((account) => (
          <tr key={account.id}>
            <td>{account.name}<br /><small><code>{account.id}</code></small></td>
            <td><Status value={account.status} /></td>
            <td class="num" data-testid="available">{formatMoney(account.balance.available, account.currency)}</td>
            <td class="num">{formatMoney(account.balance.pending, account.currency)}</td>
            <td class="num">{formatMoney(account.balance.posted, account.currency)}</td>
            <td><button type="button" onClick={() => setOpen(account)}>Deposit and entries</button></td>
          </tr>
        ))}
      </Table>
      {open && <AccountDetail key={open.id} account={open} onChange={accounts.reload} />}
    </>
  );
}

function AccountDetail({ account, onChange }: { account: Account; onChange: () => void }) {
  const entries = useLoad(() => get<Entry[]>(`/accounts/${account.id}/entries${query({ limit: 50 })}`), [account.id]);
  return (
    <section aria-labelledby="account-detail">
      <h2 id="account-detail">{account.name}</h2>
      <Form label="Sandbox deposit" submit="Deposit" onSubmit={async (form) => {
        const amount = parseMoney(text(form, 'amount') ?? '', account.currency);
        if (!amount) throw new Error(`Enter a positive amount in ${account.currency}, e.g. 100.00.`);
        await post(`/simulator/accounts/${account.id}/deposits`, { amount, description: 'Sandbox deposit (dashboard)' });
        entries.reload();
        onChange();
        return `Deposited ${formatMoney(amount, account.currency)}.`;
      }}>
        <Field label={`Amount (${account.currency})`} name="amount" inputMode="decimal" required placeholder="100.00" />
      </Form>
      <Notice error={entries.error} />
      <Table caption={`Entries of ${account.name}`} head={['When', 'Kind', 'Direction', 'Amount', 'Status', 'Balance after']}>
        {entries.data?.map((entry) => (
          <tr key={entry.id + entry.direction}>
            <td>{when(entry.createdAt)}</td>
            <td>{entry.kind}{entry.description ? <><br /><small>{entry.description}</small></> : null}</td>
            <td>{entry.direction}</td>
            <td class="num">{formatMoney(entry.amount, entry.currency)}</td>
            <td>{entry.status}</td>
            <td class="num">{formatMoney(entry.balanceAfter, entry.currency)}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
