-- What each data-plane engine instance (an nginx kept in step by a gateway agent) runs, per
-- environment: sync status compares it with the deployed release, so an engine that lags or
-- refused a configuration (its own message in last_error) shows. One row per instance and label.
CREATE TABLE "engine_instances" (
	"instance_id" text NOT NULL,
	"engine" text NOT NULL,
	"environment" text NOT NULL,
	"release_hash" text,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_instances_pkey" PRIMARY KEY("instance_id","environment")
);
--> statement-breakpoint
CREATE INDEX "engine_instances_environment" ON "engine_instances" ("environment");
