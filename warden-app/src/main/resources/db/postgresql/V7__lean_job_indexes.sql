-- Every claim and every outcome rewrites a job row, and (no column of an index may change for a
-- HOT update) inserts an entry into each index whose predicate the new row meets. Fewer indexes on
-- the hot path: one partial index serves every query over running jobs (they are few: at most the
-- claimed jobs of all nodes), and idempotency keys, which most jobs lack, are indexed only where set.
DROP INDEX jobs_running_slot;
DROP INDEX jobs_running_owner;
ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency_key_key;
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
