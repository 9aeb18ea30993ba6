-- Every claim and every outcome rewrites a job row and updates each index whose predicate the
-- new row meets. Fewer indexes on the hot path: one partial index (jobs_running_lease) serves every
-- query over running jobs (they are few: at most the claimed jobs of all processes). The
-- idempotency key keeps its UNIQUE constraint (SQLite cannot drop it without rebuilding the table).
DROP INDEX jobs_running_slot;
DROP INDEX jobs_running_owner;
