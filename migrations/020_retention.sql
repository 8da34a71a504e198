-- The retention job deletes idempotency keys past their 24 h expiry in small batches: it finds them
-- by expiry, not by a scan of the whole table.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
