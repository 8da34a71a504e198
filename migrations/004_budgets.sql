-- Budgets: a spending limit per interval over one funding account. A budget card has no balance
-- of its own; its spend is read from the ledger transfers that debit the budget's account for it.
CREATE TABLE budgets (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  account_id text NOT NULL REFERENCES accounts(id),
  name text NOT NULL,
  currency text NOT NULL,
  limit_amount bigint NOT NULL CHECK (limit_amount > 0),
  limit_interval text NOT NULL CHECK (limit_interval IN ('per_transaction', 'daily', 'weekly', 'monthly', 'yearly', 'all_time')),
  status text NOT NULL CHECK (status IN ('active', 'closed')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  closed_at timestamptz,
  CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX budgets_org ON budgets (organization_id, id);
CREATE INDEX budgets_account ON budgets (organization_id, account_id, id);

-- cards.budget_id existed before budgets did; now it can name only a real budget, and the spend
-- of a budget finds its cards through an index.
ALTER TABLE cards ADD CONSTRAINT cards_budget_fk FOREIGN KEY (budget_id) REFERENCES budgets(id);
CREATE INDEX cards_budget ON cards (organization_id, budget_id, id) WHERE budget_id IS NOT NULL;
