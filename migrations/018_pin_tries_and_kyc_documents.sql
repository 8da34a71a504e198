-- PIN verification at the point of sale, and card programs that demand KYC documents.
--
-- A card counts wrong PINs entered on card-present authorizations; the third blocks the PIN
-- (pin_blocked_at) until a new PIN is set. A right PIN resets the count.
ALTER TABLE cards ADD COLUMN pin_failed_attempts integer NOT NULL DEFAULT 0 CHECK (pin_failed_attempts >= 0);
ALTER TABLE cards ADD COLUMN pin_blocked_at timestamptz;

-- Document kinds a program demands before its card holders can be verified; empty = none.
ALTER TABLE card_programs ADD COLUMN required_documents jsonb NOT NULL DEFAULT '[]';
-- The program a card holder applies for, when given: its document demands apply to the holder.
ALTER TABLE card_holders ADD COLUMN program_id text REFERENCES card_programs(id);
