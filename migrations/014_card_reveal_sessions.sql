-- Card reveal sessions: a single-use token that shows the card holder their PAN, CVV and expiry
-- on a hosted page (or as JSON) once.
--
-- Only the keyed hash of the token is stored, so a database reader cannot reveal a card. The
-- public page knows nothing but the token, hence the unique lookup by token_hash across
-- organizations. `allowed_origin` is the one origin that may frame the page or read its JSON;
-- `created_by_*` is the credential that asked for the session, for the card.revealed event.
CREATE TABLE card_reveal_sessions (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  token_hash text NOT NULL,
  allowed_origin text,
  created_by_type text NOT NULL,
  created_by_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL,
  CONSTRAINT card_reveal_sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX card_reveal_sessions_card ON card_reveal_sessions (organization_id, card_id, id);

-- Envelope encryption of card numbers: each PAN is sealed by its own data key, stored here
-- wrapped by the master key named in pan_key_id. Rows sealed before have NULL here and stay
-- readable (their PAN was sealed by the master key directly) until a rotation re-seals them.
ALTER TABLE cards ADD COLUMN pan_data_key text;
