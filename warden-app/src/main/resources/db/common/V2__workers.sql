-- the node registry: one row per worker pool (process), renewed by its control loop
CREATE TABLE workers (
  id           TEXT PRIMARY KEY,
  node         TEXT NOT NULL,
  pid          BIGINT NOT NULL,
  concurrency  INTEGER NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  stopped_at   BIGINT
);
CREATE INDEX workers_heartbeat ON workers (heartbeat_at);
