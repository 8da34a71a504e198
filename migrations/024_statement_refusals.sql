-- A statement that must refuse in SQL raises through this function: its transaction's COMMIT may
-- already be on its way (db.ts commitEarly), and a failed statement turns that COMMIT into a
-- rollback. SQLSTATE PY001 carries the refusal's code as its message (ledger.repo.ts maps it).
-- The body stays on one line: the migration runner splits statements at semicolons at line ends.
CREATE FUNCTION paygen_refuse(code text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'PY001', MESSAGE = code; END $$;
