-- Counters and accumulated amounts stay within 2^53 − 1 (9007199254740991, MAX_COUNTER in
-- src/platform/money.ts): beyond it a JavaScript number is no longer exact, and the int8 parser
-- refuses to read the row, so one overflowing deposit would make every later read of the account
-- fail. Request amounts are bounded far lower (MAX_AMOUNT, 10^12); these constraints are the last
-- line. Every name ends in `_within_limit`: the error handler turns a violation of any of them
-- (SQLSTATE 23514) into 422 amount_limit_exceeded, and the transaction rolls back.
ALTER TABLE ledger_accounts
  ADD CONSTRAINT ledger_accounts_debits_pending_within_limit CHECK (debits_pending <= 9007199254740991),
  ADD CONSTRAINT ledger_accounts_debits_posted_within_limit CHECK (debits_posted <= 9007199254740991),
  ADD CONSTRAINT ledger_accounts_credits_pending_within_limit CHECK (credits_pending <= 9007199254740991),
  ADD CONSTRAINT ledger_accounts_credits_posted_within_limit CHECK (credits_posted <= 9007199254740991),
  -- The available balance is computed from the counters in SQL and in the service: bound it too.
  ADD CONSTRAINT ledger_accounts_available_within_limit CHECK (
    credits_posted - debits_posted - debits_pending BETWEEN -9007199254740991 AND 9007199254740991
  );

ALTER TABLE ledger_transfers
  ADD CONSTRAINT ledger_transfers_amount_within_limit CHECK (amount <= 9007199254740991),
  ADD CONSTRAINT ledger_transfers_debit_available_after_within_limit CHECK (
    debit_available_after BETWEEN -9007199254740991 AND 9007199254740991
  ),
  ADD CONSTRAINT ledger_transfers_credit_available_after_within_limit CHECK (
    credit_available_after BETWEEN -9007199254740991 AND 9007199254740991
  );

ALTER TABLE authorizations
  ADD CONSTRAINT authorizations_requested_amount_within_limit CHECK (requested_amount <= 9007199254740991),
  ADD CONSTRAINT authorizations_approved_amount_within_limit CHECK (approved_amount <= 9007199254740991),
  ADD CONSTRAINT authorizations_held_amount_within_limit CHECK (held_amount <= 9007199254740991),
  ADD CONSTRAINT authorizations_captured_amount_within_limit CHECK (captured_amount <= 9007199254740991);

ALTER TABLE transactions
  ADD CONSTRAINT transactions_amount_within_limit CHECK (amount <= 9007199254740991),
  ADD CONSTRAINT transactions_refunded_amount_within_limit CHECK (refunded_amount <= 9007199254740991),
  ADD CONSTRAINT transactions_receivable_amount_within_limit CHECK (receivable_amount <= 9007199254740991);

ALTER TABLE budgets
  ADD CONSTRAINT budgets_limit_amount_within_limit CHECK (limit_amount <= 9007199254740991);
