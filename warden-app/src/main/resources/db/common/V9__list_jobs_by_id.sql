-- Job listings are ordered by id, newest first: a job id is "job-" and a ULID of its enqueue time
-- (the same millisecond as created_at), so the primary key serves the unfiltered listing and
-- (state, id) the listing by state. One index fewer on the hot path: every claim and every outcome
-- rewrites the job row, and on PostgreSQL such an update inserts into each index on the table.
DROP INDEX jobs_created;
DROP INDEX jobs_state_created;
CREATE INDEX jobs_state_id ON jobs (state, id);
