-- The GitHub App registered from its manifest (at most one). Secrets are AES-GCM ciphertexts
-- under GITWAY_SECRET_KEY; settings given in the environment win over this row.
CREATE TABLE "github_app" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL CHECK ("id" = 1),
	"app_id" bigint NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"html_url" text NOT NULL,
	"api_url" text NOT NULL,
	"client_id" text NOT NULL,
	"client_secret" text NOT NULL,
	"webhook_secret" text NOT NULL,
	"private_key" text NOT NULL,
	"connected_by" text NOT NULL,
	"connected_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- One row per manifest flow started and not yet finished: the state parameter (its hash) and the
-- GitHub it was sent to. The callback deletes the row, so a state is good for one code.
CREATE TABLE "github_manifest_states" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"api_url" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
