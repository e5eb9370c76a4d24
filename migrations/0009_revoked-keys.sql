-- The hashes of revoked API keys. A revocation is announced (NOTIFY gitway_key_revoked), but a
-- gateway process that was disconnected misses it, and a release it cannot rebuild keeps the key
-- inside: on every (re)connect it reads this table, so a revoked key is refused whatever happened.
CREATE TABLE "revoked_keys" (
	"key_hash" text PRIMARY KEY NOT NULL,
	"revoked_at" timestamp with time zone DEFAULT now() NOT NULL
);
