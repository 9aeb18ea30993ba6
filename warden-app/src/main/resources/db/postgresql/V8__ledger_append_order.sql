-- Nothing changes on PostgreSQL: several nodes append to their own chains, and the ledger's tail
-- is ordered by time through the ts index. (SQLite drops that index in this version.)
SELECT 1;
