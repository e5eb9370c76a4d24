CREATE TABLE "approvals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository_id" bigint NOT NULL,
	"pull_request" integer NOT NULL,
	"fingerprint" text NOT NULL,
	"approved_by" text NOT NULL,
	"head_sha" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "check_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository_id" bigint NOT NULL,
	"environment_id" bigint,
	"commit_sha" text NOT NULL,
	"name" text NOT NULL,
	"conclusion" text NOT NULL,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "commit_sha" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "report" jsonb;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "deployed_commit_sha" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "pinned_release_id" bigint;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "report_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "last_activity_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_results" ADD CONSTRAINT "check_results_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_results" ADD CONSTRAINT "check_results_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_change" ON "approvals" USING btree ("repository_id","pull_request","fingerprint");--> statement-breakpoint
CREATE INDEX "approvals_fingerprint" ON "approvals" USING btree ("repository_id","fingerprint");--> statement-breakpoint
CREATE INDEX "check_results_commit" ON "check_results" USING btree ("repository_id","commit_sha","name","created_at");--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_pinned_release_id_releases_id_fk" FOREIGN KEY ("pinned_release_id") REFERENCES "public"."releases"("id") ON DELETE no action ON UPDATE no action;