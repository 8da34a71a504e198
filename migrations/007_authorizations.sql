-- Authorizations and transactions (the simulated card network, issue 4).
--
-- An authorization keeps the ids of its open holds (pending ledger transfers) in `hold_ids`: the
-- row is locked FOR UPDATE by every step that touches them, so the list never races. Its history
-- (decision, increments, capture, reversals, expiry) is a bounded JSON array on the row, so each
-- step is one row update. `network_id` makes a network message idempotent per organization.
CREATE TABLE authorizations (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  card_holder_id text,
  status text NOT NULL CHECK (status IN ('pending', 'closed', 'reversed', 'expired', 'declined')),
  approved boolean NOT NULL,
  decline_reason text,
  requested_amount bigint NOT NULL CHECK (requested_amount > 0),
  approved_amount bigint NOT NULL CHECK (approved_amount >= 0),
  held_amount bigint NOT NULL CHECK (held_amount >= 0),
  captured_amount bigint NOT NULL CHECK (captured_amount >= 0),
  currency text NOT NULL,
  merchant jsonb NOT NULL,
  entry_mode text NOT NULL,
  partial_approval_supported boolean NOT NULL,
  decision_source text NOT NULL CHECK (decision_source IN ('rules', 'webhook', 'webhook_timeout', 'webhook_error')),
  decision_latency_ms integer,
  network_id text,
  hold_ids jsonb NOT NULL DEFAULT '[]',
  history jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz,
  CHECK (approved OR status = 'declined')
);
CREATE INDEX authorizations_org ON authorizations (organization_id, id);
CREATE INDEX authorizations_card ON authorizations (organization_id, card_id, id);
CREATE INDEX authorizations_holder ON authorizations (organization_id, card_holder_id, created_at) WHERE card_holder_id IS NOT NULL;
CREATE INDEX authorizations_status ON authorizations (organization_id, status, id);
CREATE UNIQUE INDEX authorizations_network_id ON authorizations (organization_id, network_id) WHERE network_id IS NOT NULL;
-- The expiry sweeper's queue: only open authorizations, oldest deadline first.
CREATE INDEX authorizations_expiry ON authorizations (expires_at) WHERE status = 'pending';

-- Clearing records: captures of an authorization, refunds and force captures (no authorization).
-- `receivable_amount` is the part of a forced capture the card could not cover (see the guide).
CREATE TABLE transactions (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  card_holder_id text,
  authorization_id text REFERENCES authorizations(id),
  related_transaction_id text REFERENCES transactions(id),
  type text NOT NULL CHECK (type IN ('capture', 'refund', 'force_capture')),
  amount bigint NOT NULL CHECK (amount > 0),
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  receivable_amount bigint NOT NULL DEFAULT 0 CHECK (receivable_amount >= 0),
  currency text NOT NULL,
  merchant jsonb,
  created_at timestamptz NOT NULL
);
CREATE INDEX transactions_org ON transactions (organization_id, id);
CREATE INDEX transactions_card ON transactions (organization_id, card_id, id);
CREATE INDEX transactions_holder ON transactions (organization_id, card_holder_id, created_at) WHERE card_holder_id IS NOT NULL;
CREATE INDEX transactions_type ON transactions (organization_id, type, id);
CREATE INDEX transactions_authorization ON transactions (organization_id, authorization_id) WHERE authorization_id IS NOT NULL;
