-- Credential changes are announced per organization (the payload is its id), so that a change in
-- one organization forgets only that organization's cached credentials in every process; a
-- TRUNCATE names none, and every process forgets everything. Replaces migration 025's triggers,
-- which named only the table (any change emptied every cache).
-- Bodies stay on one line: the migration runner splits statements at semicolons at line ends.
DROP TRIGGER api_keys_changed ON api_keys;
DROP TRIGGER signing_keys_changed ON signing_keys;
DROP FUNCTION paygen_credentials_changed();
CREATE FUNCTION paygen_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN IF TG_LEVEL = 'STATEMENT' THEN PERFORM pg_notify('paygen_credentials', '*'); RETURN NULL; END IF; IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('paygen_credentials', OLD.organization_id); END IF; IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('paygen_credentials', NEW.organization_id); END IF; RETURN NULL; END $$;
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION paygen_credentials_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH ROW EXECUTE FUNCTION paygen_credentials_changed();
CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION paygen_credentials_changed();
CREATE TRIGGER signing_keys_truncated AFTER TRUNCATE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION paygen_credentials_changed();
