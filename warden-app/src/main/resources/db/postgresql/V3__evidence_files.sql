-- artifacts kept in the store, so any node can serve a job's evidence
CREATE TABLE evidence_files (
  job_id     TEXT NOT NULL,
  name       TEXT NOT NULL,
  content    BYTEA NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (job_id, name)
);
