-- artifacts kept in the store, so any node can serve a job's evidence (used by shared stores)
CREATE TABLE evidence_files (
  job_id     TEXT NOT NULL,
  name       TEXT NOT NULL,
  content    BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, name)
);
