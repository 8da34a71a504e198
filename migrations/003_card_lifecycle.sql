-- Card lifecycle: every status change is recorded (who, why, when); replacements are linked;
-- programs say whether new cards wait for issuance review and whether a physical card may be
-- used online while it ships.
CREATE TABLE card_status_changes (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  card_id text NOT NULL REFERENCES cards(id),
  action text NOT NULL,
  from_status text NOT NULL,
  to_status text NOT NULL,
  actor text NOT NULL CHECK (actor IN ('client', 'simulator', 'system')),
  reason text,
  created_at timestamptz NOT NULL
);
CREATE INDEX card_status_changes_card ON card_status_changes (organization_id, card_id, id);

ALTER TABLE cards ADD COLUMN replaces_card_id text REFERENCES cards(id);
ALTER TABLE cards ADD COLUMN replaced_by_card_id text REFERENCES cards(id);
ALTER TABLE cards ADD COLUMN replacement_reason text;

ALTER TABLE card_programs ADD COLUMN issuance_review boolean NOT NULL DEFAULT false;
ALTER TABLE card_programs ADD COLUMN digital_in_transit boolean NOT NULL DEFAULT true;
