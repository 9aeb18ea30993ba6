-- A drain rewrites every job row twice (claimed, then succeeded), and every index over state took
-- an entry at each rewrite: on PostgreSQL a non-HOT update inserts into each index whose predicate
-- the new row meets, on SQLite an index whose columns change loses one entry and gains another.
-- (state, id) was one of them for every state change, only so listings by state could read
-- newest-first. Listings by state keep an index where they need one:
--   queued: jobs_claim (only queued rows); running: jobs_running_lease (only running rows; at most
--   what all nodes hold); succeeded: the primary key read newest-first (most rows are succeeded);
--   the rare outcomes: an index each, which only a job that ends that way writes.
-- The queries name the state as a literal, so both engines can prove the partial index applies.
DROP INDEX jobs_state_id;
CREATE INDEX jobs_failed ON jobs (id) WHERE state = 'failed';
CREATE INDEX jobs_escalated ON jobs (id) WHERE state = 'escalated';
CREATE INDEX jobs_cancelled ON jobs (id) WHERE state = 'cancelled';
CREATE INDEX jobs_dead ON jobs (id) WHERE state = 'dead';
