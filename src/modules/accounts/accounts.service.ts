// Funding accounts: each is backed by one ledger account. Money enters through deposits (the
// sandbox opening deposit, simulated bank transfers) from the organization's deposits house
// account, and moves between accounts through book transfers.
import type { Ctx } from '../../platform/context.ts';
import type { Queryable } from '../../platform/db.ts';
import { ApiError, notFound, unprocessable } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { normalizeCurrency } from '../../platform/money.ts';
import type { ListQuery } from '../../platform/pagination.ts';
import { changedAttributes, recordEvent } from '../events/events.service.ts';
import * as ledger from '../ledger/ledger.service.ts';
import * as repo from './accounts.repo.ts';
import type { Account, CreateAccountBody, DepositBody, TransferBody, UpdateAccountBody } from './accounts.schemas.ts';

export type AccountRow = repo.AccountRow;

export function present(row: repo.AccountWithBalance): Account {
  return {
    id: row.id, ownerType: row.owner_type, ownerId: row.owner_id, name: row.name, type: row.type, category: row.category,
    currency: row.currency, status: row.status, balance: ledger.balanceOf(row),
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    closedAt: row.closed_at ? row.closed_at.toISOString() : null,
  };
}

async function load(db: Queryable, organizationId: string, id: string, lock?: 'share') {
  const row = await repo.findAccount(db, organizationId, id, lock);
  if (!row) throw notFound('Account');
  return row;
}

async function deposit(tx: Queryable, account: AccountRow, amount: number, code: string, description: string | undefined, at: Date) {
  const house = await ledger.houseAccount(tx, account.organization_id, ledger.HOUSE.deposits, account.currency, at);
  const transfer = await ledger.transfer(tx, {
    organizationId: account.organization_id, debitAccountId: house, creditAccountId: account.ledger_account_id,
    amount, currency: account.currency, code, referenceType: 'account', referenceId: account.id, description, at,
  });
  const after = await load(tx, account.organization_id, account.id);
  const data = { id: transfer.id, accountId: account.id, amount, currency: account.currency, balance: ledger.balanceOf(after), createdAt: at.toISOString() };
  await recordEvent(tx, { organizationId: account.organization_id, type: 'account.deposit_received', resourceId: account.id, data, at });
  return data;
}

export function createAccount(ctx: Ctx, organizationId: string, body: CreateAccountBody) {
  const currency = normalizeCurrency(body.currency);
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const id = newId('acc', now.getTime());
    const row: AccountRow = {
      id, organization_id: organizationId, ledger_account_id: await ledger.openAccount(tx, organizationId, 'account', id, currency, now),
      owner_type: body.ownerType, owner_id: body.ownerId, name: body.name, type: body.type, category: body.category,
      currency, status: 'active', created_at: now, updated_at: now, closed_at: null,
    };
    await repo.insertAccount(tx, row);
    await recordEvent(tx, { organizationId, type: 'account.created', resourceId: id, data: present(await load(tx, organizationId, id)), at: now });
    const opening = ctx.config.sandboxOpeningBalance;
    if (opening > 0) await deposit(tx, row, opening, 'sandbox_deposit', 'Sandbox opening deposit', now);
    return present(await load(tx, organizationId, id));
  });
}

export async function getAccount(ctx: Ctx, organizationId: string, id: string) {
  return present(await load(ctx.db, organizationId, id));
}

export async function listAccounts(ctx: Ctx, organizationId: string, query: ListQuery & { status?: string; type?: string; currency?: string; ownerId?: string }) {
  const page = await repo.listAccounts(ctx.db, organizationId, { ...query, currency: query.currency?.toUpperCase() });
  return { data: page.rows.map(present), meta: page.meta };
}

async function changeAccount(ctx: Ctx, organizationId: string, id: string, change: (row: AccountRow, tx: Queryable) => Promise<{ name?: string; status?: string; closed_at?: Date }>, type: 'account.updated' | 'account.closed') {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const locked = await repo.lockAccount(tx, organizationId, id);
    if (!locked) throw notFound('Account');
    const before = present(await load(tx, organizationId, id));
    await repo.updateAccount(tx, organizationId, id, await change(locked, tx), now);
    const after = present(await load(tx, organizationId, id));
    await recordEvent(tx, { organizationId, type, resourceId: id, data: after, previousAttributes: changedAttributes(before, { ...after, updatedAt: before.updatedAt }), at: now });
    return after;
  });
}

export function updateAccount(ctx: Ctx, organizationId: string, id: string, body: UpdateAccountBody) {
  return changeAccount(ctx, organizationId, id, async (row) => {
    if (row.status === 'closed') throw new ApiError(409, 'account_closed', 'A closed account cannot change.');
    return { name: body.name, status: body.status };
  }, 'account.updated');
}

export function closeAccount(ctx: Ctx, organizationId: string, id: string) {
  return changeAccount(ctx, organizationId, id, async (row, tx) => {
    if (row.status === 'closed') throw new ApiError(409, 'account_closed', 'The account is already closed.');
    const balance = ledger.balanceOf(await ledger.getAccount(tx, row.ledger_account_id));
    if (balance.posted !== 0 || balance.pending !== 0) {
      throw unprocessable('account_not_empty', `The account holds ${balance.posted} (${balance.pending} on hold); move it out before closing.`);
    }
    if ((await repo.countOpenCards(tx, organizationId, id)) > 0) {
      throw unprocessable('account_has_open_cards', 'Cancel the cards funded from this account before closing it.');
    }
    return { status: 'closed', closed_at: ctx.clock.now() };
  }, 'account.closed');
}

export async function listEntries(ctx: Ctx, organizationId: string, id: string, query: ListQuery) {
  const account = await load(ctx.db, organizationId, id);
  return ledger.listEntries(ctx, organizationId, account.ledger_account_id, query);
}

/** For other modules: an account that can be debited, checked for status and currency. */
export async function requireDebitable(tx: Queryable, organizationId: string, id: string, currency: string, field: string) {
  return checkDebitable(await repo.findAccount(tx, organizationId, id, 'share'), id, currency, field);
}

/** The account `id` as read (and locked) by a caller, if it can be debited in `currency`; the reason as a 422 if not. */
export function checkDebitable<Row extends Pick<AccountRow, 'status' | 'currency'>>(
  row: Row | undefined, id: string, currency: string, field: string,
): Row {
  if (!row) throw unprocessable('account_not_found', `Account ${id} not found.`, field);
  if (row.status !== 'active') throw unprocessable('account_not_active', `The account is ${row.status}.`, field);
  if (row.currency !== currency) throw unprocessable('currency_mismatch', `The account holds ${row.currency}, not ${currency}.`, 'currency');
  return row;
}

/** requireDebitable's read as SQL, for card issuance to fold it into its first statement (then checkDebitable). */
export const lockedAccountSql = repo.lockedAccountSql;

/** For other modules: whether the organization has this account (any status). */
export async function accountExists(db: Queryable, organizationId: string, id: string) {
  return (await repo.findAccount(db, organizationId, id)) !== undefined;
}

/** For other modules: the account a card draws on (any status), locked FOR SHARE until commit. */
export async function findForCard(tx: Queryable, organizationId: string, id: string) {
  const row = await repo.findAccount(tx, organizationId, id, 'share');
  if (!row) throw new Error(`ledger invariant broken: the debit account ${id} of a card is missing`);
  return row;
}

export function simulateDeposit(ctx: Ctx, organizationId: string, id: string, body: DepositBody) {
  return ctx.db.transaction(async (tx) => {
    const account = await load(tx, organizationId, id, 'share');
    if (account.status === 'closed') throw new ApiError(409, 'account_closed', 'A closed account cannot receive money.');
    return deposit(tx, account, body.amount, 'deposit', body.description ?? 'Simulated incoming bank transfer', ctx.clock.now());
  });
}

export function bookTransfer(ctx: Ctx, organizationId: string, body: TransferBody) {
  const currency = normalizeCurrency(body.currency);
  if (body.fromAccountId === body.toAccountId) throw unprocessable('same_account', 'Source and destination must differ.', 'toAccountId');
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const from = await requireDebitable(tx, organizationId, body.fromAccountId, currency, 'fromAccountId');
    const to = await repo.findAccount(tx, organizationId, body.toAccountId, 'share');
    if (!to) throw unprocessable('account_not_found', `Account ${body.toAccountId} not found.`, 'toAccountId');
    if (to.status === 'closed') throw unprocessable('account_not_active', 'The destination account is closed.', 'toAccountId');
    if (to.currency !== currency) throw unprocessable('currency_mismatch', `The destination holds ${to.currency}, not ${currency}.`, 'currency');
    const t = await ledger.transfer(tx, {
      organizationId, debitAccountId: from.ledger_account_id, creditAccountId: to.ledger_account_id, amount: body.amount,
      currency, code: 'book_transfer', referenceType: 'account', referenceId: to.id, description: body.description, at: now,
    });
    const data = { id: t.id, fromAccountId: from.id, toAccountId: to.id, amount: body.amount, currency, description: body.description ?? null, createdAt: now.toISOString() };
    await recordEvent(tx, { organizationId, type: 'transfer.created', resourceId: t.id, data, at: now });
    return data;
  });
}
