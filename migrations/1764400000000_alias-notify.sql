-- Up Migration

-- Every change of an alias (any writer: the deploy activity, a rollback, SQL by hand) tells the API
-- processes which model changed, in the same transaction: NOTIFY is delivered only on commit, so a
-- listener never sees a move that was rolled back. The API's alias cache reloads that model.
CREATE FUNCTION lifecycle_notify_alias() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('lifecycle_aliases', OLD.model_name);
  ELSE
    PERFORM pg_notify('lifecycle_aliases', NEW.model_name);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER aliases_notify AFTER INSERT OR UPDATE OR DELETE ON aliases
  FOR EACH ROW EXECUTE FUNCTION lifecycle_notify_alias();

-- Down Migration
DROP TRIGGER aliases_notify ON aliases;
DROP FUNCTION lifecycle_notify_alias();
