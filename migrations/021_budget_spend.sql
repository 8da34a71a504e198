-- A counter of each budget's spend per period (issue 10, scenario b): an authorization on a budget
-- card checks and takes its amount in ONE guarded update of its period's row, instead of locking
-- the budget row and summing the period's ledger transfers while holding it.
-- spent: what budgets.repo.spendBetween counts as spend for the holds and transfers placed in the
-- period (a hold at its held amount until resolved, at its posted amount once posted, 0 once
-- voided or expired); refunded: the period's refunds. Net spend = GREATEST(0, spent - refunded).
-- Every path that changes those sums changes the row in the same transaction (budgets.service);
-- a missing row is computed from the ledger on first use, so rows of budgets made before this
-- migration, of new periods and of budgets whose limit changed (their rows are deleted) need no
-- backfill.
CREATE TABLE budget_spend (
  budget_id text NOT NULL REFERENCES budgets(id),
  period_start timestamptz NOT NULL,
  spent bigint NOT NULL,
  refunded bigint NOT NULL,
  PRIMARY KEY (budget_id, period_start)
);
