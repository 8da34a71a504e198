-- Webhook endpoints, their deliveries (one per event and endpoint, plus test, resend and replay
-- deliveries) and every delivery attempt (API.md "Events and webhooks", DESIGN §4).
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  url text NOT NULL,
  description text,
  -- Catalog event types, or {'*'} for every type.
  event_types text[] NOT NULL,
  enabled boolean NOT NULL,
  -- Signing secrets, sealed by the vault: the current one, and the one it replaced while that
  -- stays valid after a rotation.
  secret_sealed text NOT NULL,
  previous_secret_sealed text,
  previous_secret_expires_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, id);
-- The fan-out of every event reads the organization's live, enabled endpoints.
CREATE INDEX webhook_endpoints_live ON webhook_endpoints (organization_id) WHERE enabled AND deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id),
  event_id text NOT NULL REFERENCES events(id),
  event_type text NOT NULL,
  -- event | test | resend | replay
  reason text NOT NULL,
  -- pending | sending | succeeded | failed | cancelled
  status text NOT NULL,
  attempt_count integer NOT NULL,
  -- pending: when the next attempt is due; sending: when the claim's lease expires.
  due_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX webhook_deliveries_org ON webhook_deliveries (organization_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (organization_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (organization_id, event_id, id);
-- The delivery job's claim: due rows only, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE status IN ('pending', 'sending');

CREATE TABLE webhook_attempts (
  organization_id text NOT NULL REFERENCES organizations(id),
  delivery_id text NOT NULL REFERENCES webhook_deliveries(id),
  -- The key makes an attempt happen once: two workers cannot both record attempt n.
  attempt_number integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  succeeded boolean NOT NULL,
  status_code integer,
  latency_ms integer NOT NULL,
  response_excerpt text,
  error text,
  next_attempt_at timestamptz,
  PRIMARY KEY (delivery_id, attempt_number)
);
