-- Every app process LISTENs on gitway_github_app: when the app connected through the Connect
-- GitHub page is stored, replaced or forgotten, each process reads the row again and starts or
-- stops running as that app (the processes re-check on a timer too, should a notification be lost).
CREATE FUNCTION gitway_github_app_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gitway_github_app', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER github_app_changed AFTER INSERT OR UPDATE OR DELETE ON "github_app" FOR EACH STATEMENT EXECUTE FUNCTION gitway_github_app_changed();
