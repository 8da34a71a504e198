-- Request-signing keys (RFC 9421, API.md "Request signatures", DESIGN §5) and the nonces already
-- seen, so that a captured signed request cannot be replayed inside the clock-skew window.
CREATE TABLE signing_keys (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  -- The client's name for the key, sent as the `keyid` signature parameter.
  key_id text NOT NULL,
  -- ed25519 | ecdsa-p256-sha256 | rsa-pss-sha512 | hmac-sha256
  algorithm text NOT NULL,
  -- SPKI PEM for the asymmetric algorithms; null for hmac-sha256.
  public_key_pem text,
  -- The hmac-sha256 shared secret, sealed by the vault; null for the asymmetric algorithms.
  secret_sealed text,
  required boolean NOT NULL,
  created_at timestamptz NOT NULL,
  deleted_at timestamptz
);
-- One live key per keyid and organization; a deleted key frees its name.
CREATE UNIQUE INDEX signing_keys_key_id ON signing_keys (organization_id, key_id) WHERE deleted_at IS NULL;
CREATE INDEX signing_keys_org ON signing_keys (organization_id, id);

-- A nonce is kept until its signature's `created` leaves the clock-skew window.
CREATE TABLE signature_nonces (
  organization_id text NOT NULL REFERENCES organizations(id),
  signing_key_id text NOT NULL REFERENCES signing_keys(id),
  nonce text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, signing_key_id, nonce)
);
CREATE INDEX signature_nonces_expiry ON signature_nonces (expires_at);
