-- Every change to API keys or signing keys is announced on the channel paygen_credentials, at
-- commit: each server process caches the credentials it has resolved (API key, scopes, signature
-- policy) only while it listens on that channel, and forgets them all on any notification
-- (platform/invalidated-cache.ts). Not on the money path (DESIGN section 6): an engine without
-- LISTEN leaves the cache off and every request reads its credential.
-- Bodies stay on one line: the migration runner splits statements at semicolons at line ends.
CREATE FUNCTION paygen_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_notify('paygen_credentials', TG_TABLE_NAME); RETURN NULL; END $$;
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION paygen_credentials_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION paygen_credentials_changed();
