-- The signing secret of a program's real-time authorization decision webhook (API.md "Card
-- programs"). It is sealed by the vault like a PAN (the key id beside the ciphertext, so keys can
-- rotate) because Paygen must read it back to sign each authorization.request. NULL when the
-- program has no decision webhook.
ALTER TABLE card_programs ADD COLUMN authorization_webhook_secret_ciphertext text;
ALTER TABLE card_programs ADD COLUMN authorization_webhook_secret_key_id text;
