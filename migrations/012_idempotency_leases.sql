-- Idempotency keys (src/platform/idempotency.ts): a claim is a lease, the command's own
-- transaction marks the key `committed` (with its sealed result), and stored answers are sealed
-- by the vault with the key id beside the ciphertext.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check
  CHECK (state IN ('running', 'committed', 'completed'));
-- The claim of the attempt that holds the key, and until when it holds it.
ALTER TABLE idempotency_keys ADD COLUMN lease_token text;
ALTER TABLE idempotency_keys ADD COLUMN locked_until timestamptz;
-- What the command's transaction returned (sealed), to answer a retry whose response was lost.
ALTER TABLE idempotency_keys ADD COLUMN result_sealed text;
-- The vault key that sealed response_body and result_sealed; NULL for bodies stored in clear
-- before this migration (replayed as they are until they expire).
ALTER TABLE idempotency_keys ADD COLUMN vault_key_id text;
-- A key left `running` by a version without leases cannot tell whether its effect committed: it
-- keeps answering 409 until it expires, as it did before, rather than risk running twice.
UPDATE idempotency_keys SET locked_until = expires_at WHERE state = 'running';
-- Answers stored in clear before this migration and holding a secret shown once (an API key, a
-- bearer token or PIN link, a signing secret) are forgotten now rather than kept for up to 24 h:
-- the effect stays recorded as committed, and a retry is told the original answer was not kept.
-- Other old answers stay in clear until they expire and are replayed as they are.
UPDATE idempotency_keys
SET state = 'committed', status_code = NULL, response_body = NULL, locked_until = created_at
WHERE state = 'completed' AND vault_key_id IS NULL AND status_code < 300
  AND (response_body LIKE '%"key":"%' OR response_body LIKE '%"token":"%' OR response_body LIKE '%"secret":"%');
