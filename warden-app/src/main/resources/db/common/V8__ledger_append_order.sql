-- Every ledger entry was written to the table and three indexes: its (chain, seq) key, corr_id and
-- ts. The ts index served only the ledger's tail, which now reads the append order instead
-- (JdbcTx.ledgerTail): SQLite's rowid (its one writer appends in commit order); on PostgreSQL
-- each chain's newest entries from the primary key, read backwards, merged by time.
DROP INDEX ledger_ts;
