CREATE TABLE schedules (
  name          TEXT PRIMARY KEY,
  cron          TEXT NOT NULL,
  spec          TEXT NOT NULL,
  enabled       INTEGER NOT NULL,
  allow_overlap INTEGER NOT NULL,
  catch_up      TEXT NOT NULL,
  next_fire_at  INTEGER,
  last_fire_at  INTEGER,
  last_job_id   TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled = 1;
