-- A pull request from a fork is marked so that its preview, restored at start-up, again gets no secret values.
ALTER TABLE "environments" ADD COLUMN "fork" boolean DEFAULT false NOT NULL;