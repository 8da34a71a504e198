-- Hosted PIN page sessions and mobile wallet tokenizations.
--
-- A PIN session is a single-use link: only the keyed hash of its token is stored, so a database
-- reader cannot open the page. The public page knows nothing but the token, hence the lookup by
-- token_hash across organizations (the hash is unique by construction: 192 random bits).
CREATE TABLE card_pin_sessions (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  token_hash text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL,
  CONSTRAINT card_pin_sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX card_pin_sessions_card ON card_pin_sessions (organization_id, card_id, id);

-- A card enrolled in a mobile wallet. `status_before_card_suspension` remembers what the token
-- was when its card was locked or suspended, so that only the tokens the card suspended come
-- back when the card does.
CREATE TABLE card_tokenizations (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  wallet_type text NOT NULL CHECK (wallet_type IN ('apple_pay', 'google_pay', 'samsung_pay')),
  dpan_ref text NOT NULL,
  wallet_id text,
  status text NOT NULL CHECK (status IN ('initiated', 'completed', 'suspended', 'terminated')),
  status_before_card_suspension text CHECK (status_before_card_suspension IN ('initiated', 'completed')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX card_tokenizations_card ON card_tokenizations (organization_id, card_id, id);
