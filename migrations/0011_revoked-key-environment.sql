-- The environment a revoked key opened. A revoked key's row is needed only while a release that
-- holds the key may still be served; a torn-down environment's releases are not, so its rows are
-- pruned (smoke-test keys, minted and revoked for every preview deploy, would otherwise pile up in
-- every gateway's memory). Rows from before this column have none and are kept.
ALTER TABLE "revoked_keys" ADD COLUMN "environment_id" bigint;
