-- What the catch-up sweep last decided per environment and head, so that it converges: a head is
-- queued again only when its job was lost, never for an answer already given.
CREATE TABLE "sweep_decisions" (
	"environment_key" text NOT NULL,
	"head_sha" text NOT NULL,
	"decision" text NOT NULL,
	"retries" integer DEFAULT 0 NOT NULL,
	"retry_after" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sweep_decisions_pkey" PRIMARY KEY("environment_key","head_sha")
);
--> statement-breakpoint
-- The commit a job is for: the same head is not queued twice while a job for it waits or runs.
ALTER TABLE "jobs" ADD COLUMN "head_sha" text;
--> statement-breakpoint
CREATE INDEX "jobs_environment_head" ON "jobs" USING btree ("environment_key","head_sha");
