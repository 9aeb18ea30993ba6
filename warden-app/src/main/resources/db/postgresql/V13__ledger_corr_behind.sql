-- The ledger's corr_id index moves off the append. Every block's corr_ids cost an insertion into
-- the GIN index inside the worker's turn (~12% of a noop drain's throughput, measured by dropping
-- it). Now a block is written without any index beyond its key, and LedgerIndexer, a background
-- thread of every long-running process, indexes the blocks after they commit: one
-- ledger_corr_index row per pass and chain covers consecutive blocks (first_seq..last_seq) with
-- their distinct corr ids, so a job's several entries of one pass are one key. A look-up reads the blocks an index row
-- names and, for each chain, every block past its last index row (the part not indexed yet),
-- in one snapshot, so an entry is found whether or not it is indexed yet. Every process indexes
-- every chain, one pass at a time (an advisory try-lock); rows that overlap anyway are harmless:
-- a look-up names each block once.
CREATE TABLE ledger_corr_index (
  chain     TEXT COLLATE "C" NOT NULL,
  last_seq  BIGINT NOT NULL,
  first_seq BIGINT NOT NULL,
  corr_ids  TEXT[] NOT NULL,
  PRIMARY KEY (chain, last_seq),
  CHECK (first_seq >= 1 AND last_seq >= first_seq)
);
CREATE INDEX ledger_corr_index_ids ON ledger_corr_index USING gin (corr_ids) WITH (fastupdate = off);
-- an index row's corr_ids exceed 2 kB during a drain (thousands of ids): lz4 as for the blocks (V10)
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN EXECUTE 'ALTER TABLE ledger_corr_index ALTER COLUMN corr_ids SET COMPRESSION lz4'; END IF; END $$;
INSERT INTO ledger_corr_index (chain, last_seq, first_seq, corr_ids)
SELECT b.chain, b.last_seq, b.first_seq,
       coalesce((SELECT array_agg(DISTINCT c) FROM unnest(b.corr_ids) AS c WHERE c IS NOT NULL), '{}')
FROM ledger_blocks b;
DROP INDEX ledger_blocks_corr;
