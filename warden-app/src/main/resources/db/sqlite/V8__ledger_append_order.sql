-- Every ledger entry was inserted into four b-trees: the table, its (chain, seq) key, corr_id and
-- ts. The ts index served only the ledger's tail, which on SQLite reads the rowid instead: the one
-- writer appends in commit order, so the rowid is the append order.
DROP INDEX ledger_ts;
