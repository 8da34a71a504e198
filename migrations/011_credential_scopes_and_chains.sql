-- Narrow credentials stay narrow (issue 8). An API key may carry scopes like a token ('[]' means
-- every scope, which is what every existing key keeps). A token made by another token records
-- that parent, so revoking a session or a token reaches every token minted from it, however deep
-- the chain; chain_depth bounds that depth (MAX_TOKEN_CHAIN_DEPTH) so no walk is unbounded.
ALTER TABLE api_keys ADD COLUMN scopes jsonb NOT NULL DEFAULT '[]';
ALTER TABLE access_tokens ADD COLUMN parent_token_id text REFERENCES access_tokens(id);
ALTER TABLE access_tokens ADD COLUMN chain_depth integer NOT NULL DEFAULT 0;
CREATE INDEX access_tokens_parent ON access_tokens (parent_token_id) WHERE parent_token_id IS NOT NULL;
CREATE INDEX access_tokens_api_key ON access_tokens (api_key_id) WHERE api_key_id IS NOT NULL;
