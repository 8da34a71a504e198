-- Foundation: tenancy, credentials, idempotency, ledger, events, accounts, card holders,
-- programs and cards. Every table carries organization_id (the future distribution key).
-- Ids are app-generated, time-ordered strings, so ORDER BY id follows creation order.

CREATE TABLE organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  email text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  name text NOT NULL,
  prefix text NOT NULL,
  last_four text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_keys_org ON api_keys (organization_id, id);

CREATE TABLE access_tokens (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  user_id text REFERENCES users(id),
  api_key_id text REFERENCES api_keys(id),
  kind text NOT NULL CHECK (kind IN ('session', 'ephemeral')),
  token_hash text NOT NULL UNIQUE,
  scopes jsonb NOT NULL DEFAULT '[]',
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
  organization_id text NOT NULL REFERENCES organizations(id),
  key text NOT NULL,
  fingerprint text NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'completed')),
  status_code integer,
  response_body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, key)
);

-- The ledger (DESIGN §3): four counters per account, immutable transfers.
CREATE TABLE ledger_accounts (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  currency text NOT NULL,
  kind text NOT NULL,
  owner_id text,
  allow_negative boolean NOT NULL DEFAULT false,
  debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A credit-normal account that may not go negative: the database refuses it too.
  CONSTRAINT ledger_accounts_no_negative CHECK (
    allow_negative OR credits_posted - debits_posted - debits_pending >= 0
  )
);
CREATE UNIQUE INDEX ledger_accounts_house ON ledger_accounts (organization_id, kind, currency)
  WHERE owner_id IS NULL;

CREATE TABLE ledger_transfers (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  kind text NOT NULL CHECK (kind IN ('single', 'pending', 'post', 'void', 'expire')),
  debit_account_id text NOT NULL REFERENCES ledger_accounts(id),
  credit_account_id text NOT NULL REFERENCES ledger_accounts(id),
  amount bigint NOT NULL CHECK (amount >= 0),
  currency text NOT NULL,
  pending_id text REFERENCES ledger_transfers(id),
  code text NOT NULL,
  reference_type text,
  reference_id text,
  description text,
  debit_available_after bigint NOT NULL,
  credit_available_after bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((kind IN ('single', 'pending')) = (pending_id IS NULL))
);
-- A pending transfer resolves at most once.
CREATE UNIQUE INDEX ledger_transfers_resolves_once ON ledger_transfers (pending_id)
  WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, id);
CREATE INDEX ledger_transfers_reference ON ledger_transfers (organization_id, reference_id);

-- Events are the outbox (DESIGN §4): written in the transaction of the change they describe.
CREATE TABLE events (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  type text NOT NULL,
  resource text NOT NULL,
  resource_id text NOT NULL,
  sequence integer NOT NULL,
  data jsonb NOT NULL,
  previous_attributes jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_resource_sequence_key UNIQUE (organization_id, resource_id, sequence)
);
CREATE INDEX events_org ON events (organization_id, id);
CREATE INDEX events_org_type ON events (organization_id, type, id);

CREATE TABLE accounts (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  ledger_account_id text NOT NULL REFERENCES ledger_accounts(id),
  owner_type text NOT NULL,
  owner_id text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  category text NOT NULL,
  currency text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE INDEX accounts_org ON accounts (organization_id, id);

CREATE TABLE card_holders (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  phone_number text,
  date_of_birth text,
  nationality text,
  address_line1 text,
  address_line2 text,
  city text,
  state text,
  postal_code text,
  country text,
  kyc_status text NOT NULL,
  kyc_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX card_holders_org ON card_holders (organization_id, id);

CREATE TABLE documents (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_holder_id text NOT NULL REFERENCES card_holders(id),
  kind text NOT NULL,
  file_name text NOT NULL,
  content_type text NOT NULL,
  size_bytes integer NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX documents_holder ON documents (organization_id, card_holder_id, id);

CREATE TABLE card_programs (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  name text NOT NULL,
  brand text NOT NULL,
  bin text NOT NULL,
  currency text NOT NULL,
  card_types jsonb NOT NULL,
  status text NOT NULL,
  requires_verified_card_holder boolean NOT NULL,
  allow_name_only_issuance boolean NOT NULL,
  blocked_nationalities jsonb NOT NULL,
  card_validity_years integer NOT NULL,
  hold_ttl_hours integer NOT NULL,
  default_spend_controls jsonb,
  authorization_webhook jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT card_programs_name_key UNIQUE (organization_id, name)
);
CREATE INDEX card_programs_org ON card_programs (organization_id, id);

CREATE TABLE cards (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  program_id text NOT NULL REFERENCES card_programs(id),
  card_holder_id text REFERENCES card_holders(id),
  debit_account_id text NOT NULL REFERENCES accounts(id),
  budget_id text,
  ledger_account_id text NOT NULL REFERENCES ledger_accounts(id),
  type text NOT NULL,
  brand text NOT NULL,
  currency text NOT NULL,
  status text NOT NULL,
  pan_ciphertext text NOT NULL,
  pan_key_id text NOT NULL,
  pan_hash text NOT NULL,
  bin text NOT NULL,
  last_four text NOT NULL,
  expiry_month integer NOT NULL,
  expiry_year integer NOT NULL,
  pin_hash text,
  label text,
  external_id text,
  mobile text,
  first_name text,
  last_name text,
  delivery_address jsonb,
  shipping jsonb,
  spend_controls jsonb,
  metadata jsonb,
  user_agent text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  activated_at timestamptz,
  cancelled_at timestamptz,
  CONSTRAINT cards_pan_unique_per_program UNIQUE (program_id, pan_hash)
);
CREATE INDEX cards_org ON cards (organization_id, id);
CREATE INDEX cards_holder ON cards (organization_id, card_holder_id, id);
CREATE INDEX cards_account ON cards (organization_id, debit_account_id, id);
