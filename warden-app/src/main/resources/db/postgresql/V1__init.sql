CREATE TABLE jobs (
  id                  TEXT PRIMARY KEY,
  kind                TEXT NOT NULL,
  project             TEXT NOT NULL,
  state               TEXT NOT NULL,
  priority            INTEGER NOT NULL DEFAULT 0,
  run_after           BIGINT NOT NULL,
  attempts            INTEGER NOT NULL DEFAULT 0,
  max_attempts        INTEGER NOT NULL,
  claims              BIGINT NOT NULL DEFAULT 0,
  retry_on_lease_loss BOOLEAN NOT NULL,
  idempotency_key     TEXT UNIQUE,
  slot                TEXT,
  spec                TEXT NOT NULL,
  labels              TEXT NOT NULL,
  result              TEXT,
  error_code          TEXT,
  error_message       TEXT,
  lease_owner         TEXT,
  lease_expires_at    BIGINT,
  cancel_requested    BOOLEAN NOT NULL DEFAULT FALSE,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  started_at          BIGINT,
  finished_at         BIGINT
);
-- the claim path: only queued rows, in claim order (FOR UPDATE SKIP LOCKED walks it)
CREATE INDEX jobs_claim ON jobs (priority DESC, run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_running_slot ON jobs (slot) WHERE state = 'running';
CREATE INDEX jobs_running_owner ON jobs (lease_owner) WHERE state = 'running';
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_state_created ON jobs (state, created_at);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE ledger (
  chain   TEXT NOT NULL,
  seq     BIGINT NOT NULL,
  ts      BIGINT NOT NULL,
  event   TEXT NOT NULL,
  corr_id TEXT,
  entry   TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE INDEX ledger_corr ON ledger (corr_id);
CREATE INDEX ledger_ts ON ledger (ts);

CREATE TABLE ledger_heads (
  chain TEXT PRIMARY KEY,
  seq   BIGINT NOT NULL,
  hash  TEXT NOT NULL
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
