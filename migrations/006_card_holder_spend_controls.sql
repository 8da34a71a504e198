-- Spend controls live on programs, card holders and cards (API.md "Spend controls").
ALTER TABLE card_holders ADD COLUMN spend_controls jsonb;
