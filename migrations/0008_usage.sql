-- Calls answered by the gateway, one row per hour, environment (its label), operation, consumer and
-- status class. Every gateway process adds its own counts (an upsert that adds), so the rows of
-- several processes meet here. Pruned after GITWAY_USAGE_DAYS.
CREATE TABLE "usage" (
	"environment" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"route" text NOT NULL,
	"operation" text NOT NULL,
	"consumer" text NOT NULL,
	"status_class" text NOT NULL,
	"calls" bigint NOT NULL,
	CONSTRAINT "usage_pkey" PRIMARY KEY("environment","hour","route","consumer","status_class")
);
--> statement-breakpoint
CREATE INDEX "usage_hour" ON "usage" USING btree ("hour");
