-- Gateway processes LISTEN on gitway_release: whenever an environment's deployed release changes
-- (or it is torn down), its host label is announced and every process reloads that environment.
CREATE FUNCTION gitway_release_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gitway_release', NEW.host_name);
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER environments_release_changed AFTER INSERT OR UPDATE OF deployed_release_id, status ON "environments" FOR EACH ROW EXECUTE FUNCTION gitway_release_changed();
