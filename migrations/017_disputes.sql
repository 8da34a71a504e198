-- Disputes (issue 11): a card holder contests a capture or force capture. A dispute is
-- `unsubmitted` while its evidence is edited, `submitted` once sent to the network, then `won` or
-- `lost`. At most one open (unsubmitted or submitted) dispute per transaction: the partial unique
-- index is the backstop of the service, which locks the transaction row before it checks.
CREATE TABLE disputes (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  transaction_id text NOT NULL REFERENCES transactions(id),
  card_id text NOT NULL REFERENCES cards(id),
  status text NOT NULL CHECK (status IN ('unsubmitted', 'submitted', 'won', 'lost')),
  reason text NOT NULL CHECK (reason IN ('fraudulent', 'not_received', 'duplicate', 'canceled', 'not_as_described', 'other')),
  amount bigint NOT NULL CHECK (amount > 0 AND amount <= 9007199254740991),
  -- What a won dispute credited to the card: the amount less what refunds returned meanwhile.
  credited_amount bigint NOT NULL DEFAULT 0 CHECK (credited_amount >= 0 AND credited_amount <= amount),
  currency text NOT NULL,
  evidence jsonb NOT NULL DEFAULT '{}',
  resolution_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  submitted_at timestamptz,
  resolved_at timestamptz
);
CREATE INDEX disputes_org ON disputes (organization_id, id);
CREATE INDEX disputes_transaction ON disputes (organization_id, transaction_id, id);
CREATE INDEX disputes_card ON disputes (organization_id, card_id, id);
CREATE INDEX disputes_status ON disputes (organization_id, status, id);
CREATE UNIQUE INDEX disputes_one_open ON disputes (organization_id, transaction_id)
  WHERE status IN ('unsubmitted', 'submitted');

-- Evidence files: the same upload rules as card-holder documents (type by content, 10 MiB each),
-- stored in the database under generated ids; file names are display names only.
CREATE TABLE dispute_files (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  dispute_id text NOT NULL REFERENCES disputes(id),
  kind text NOT NULL,
  file_name text NOT NULL,
  content_type text NOT NULL,
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  sha256 text NOT NULL,
  content bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX dispute_files_dispute ON dispute_files (organization_id, dispute_id, id);

-- What won disputes credited back for a transaction. Refunds tied to the transaction and won
-- dispute credits together never exceed its amount, so a refund and a won dispute never pay the
-- same money twice (the refund path and the dispute path both guard on this sum).
ALTER TABLE transactions ADD COLUMN dispute_credited_amount bigint NOT NULL DEFAULT 0
  CHECK (dispute_credited_amount >= 0);
ALTER TABLE transactions ADD CONSTRAINT transactions_refunds_and_dispute_credits_within_amount
  CHECK (refunded_amount + dispute_credited_amount <= amount);
