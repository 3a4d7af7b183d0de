-- @nest-resilience/kafka-dedup: the PostgreSQL inbox table (store: 'postgres').
-- Run it with your migration tool and set `postgres: { migrate: false }`, or let the module run it at
-- bootstrap (the default). For another table name, replace kafka_dedup_inbox everywhere below.
-- The primary key (scope, id) makes the claim atomic; the expires_at index keeps the TTL sweep cheap.
-- `token` is NULL for a processed id (the lease of DedupService.acquire() otherwise).
CREATE TABLE IF NOT EXISTS "kafka_dedup_inbox" (
  scope text NOT NULL,
  id bytea NOT NULL,
  expires_at timestamptz NOT NULL,
  token text,
  PRIMARY KEY (scope, id)
);
CREATE INDEX IF NOT EXISTS "kafka_dedup_inbox_expires_at_idx" ON "kafka_dedup_inbox" (expires_at);
