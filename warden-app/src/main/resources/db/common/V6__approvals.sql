-- agent plans: the plan a brain proposed for a job, with each action's outcome so far, kept so a
-- job resumed after approval continues the same plan (auto actions are not executed twice)
CREATE TABLE job_plans (
  job_id     TEXT PRIMARY KEY,
  plan       TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- escalated actions waiting for an operator: one row per (job, action), decided once
CREATE TABLE approvals (
  id           TEXT PRIMARY KEY,
  job_id       TEXT NOT NULL,
  action_key   TEXT NOT NULL,
  action       TEXT NOT NULL,
  reasons      TEXT NOT NULL,
  summary      TEXT NOT NULL,
  state        TEXT NOT NULL,
  requested_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  decided_at   BIGINT,
  decided_by   TEXT,
  note         TEXT,
  UNIQUE (job_id, action_key)
);
-- the approvals queue (pending first, oldest first) and the expiry sweep
CREATE INDEX approvals_state_expires ON approvals (state, expires_at);
