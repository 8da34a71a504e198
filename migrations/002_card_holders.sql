-- Card holder list filters (GET /card-holders?email=…&kycStatus=…) stay index scans on large
-- tables; the email filter is case-insensitive.
CREATE INDEX card_holders_email ON card_holders (organization_id, lower(email), id);
CREATE INDEX card_holders_kyc_status ON card_holders (organization_id, kyc_status, id);
