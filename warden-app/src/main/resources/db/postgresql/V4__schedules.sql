CREATE TABLE schedules (
  name          TEXT PRIMARY KEY,
  cron          TEXT NOT NULL,
  spec          TEXT NOT NULL,
  enabled       BOOLEAN NOT NULL,
  allow_overlap BOOLEAN NOT NULL,
  catch_up      TEXT NOT NULL,
  next_fire_at  BIGINT,
  last_fire_at  BIGINT,
  last_job_id   TEXT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled;
