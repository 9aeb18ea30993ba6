-- PostgreSQL keeps the entries one append wrote (a worker's turn: every claim and outcome in it)
-- as one row of aligned arrays instead of a row per entry. Each entry is unchanged (its own seq,
-- hash and prev_hash in its canonical JSON) and is read back one by one through unnest, so
-- verification, the tail, paging and the corr_id look-up see the same entries as before. What
-- goes is the per-entry row and index cost: a drain wrote two rows and four index entries per job
-- for its ledger, about 950 bytes of WAL per entry; a block is one row and one key, its arrays are
-- compressed, and only its corr_ids still cost an index insertion each (GIN; fastupdate off, so a
-- look-up never scans a pending list: with a few MB pending one took ~4 ms instead of ~0.4).
-- A block holds at most 256 entries (JdbcTx splits longer appends), so a page of entries after a
-- seq is an index range on last_seq. SQLite keeps a row per entry (V10 is empty there): its
-- writer is in process and a row costs it a few microseconds.
CREATE TABLE ledger_blocks (
  chain     TEXT NOT NULL,
  last_seq  BIGINT NOT NULL,
  first_seq BIGINT NOT NULL,
  ts        BIGINT[] NOT NULL,
  events    TEXT[] NOT NULL,
  corr_ids  TEXT[] NOT NULL,
  entries   TEXT[] NOT NULL,
  PRIMARY KEY (chain, last_seq),
  CHECK (first_seq >= 1 AND last_seq >= first_seq AND last_seq - first_seq < 256
         AND cardinality(entries) = last_seq - first_seq + 1 AND cardinality(ts) = cardinality(entries)
         AND cardinality(events) = cardinality(entries) AND cardinality(corr_ids) = cardinality(entries))
);
CREATE INDEX ledger_blocks_corr ON ledger_blocks USING gin (corr_ids) WITH (fastupdate = off);
-- a block's arrays exceed the 2 kB at which PostgreSQL compresses a row: its default, pglz, cost
-- more than the rows it replaced (about 8 us per entry); lz4 costs under 1 us per entry at the
-- same size (servers since 14 built with lz4, as Debian's and PGDG's are; the others, such as
-- the embedded test server, keep pglz)
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN EXECUTE 'ALTER TABLE ledger_blocks ALTER COLUMN ts SET COMPRESSION lz4, ALTER COLUMN events SET COMPRESSION lz4, ALTER COLUMN corr_ids SET COMPRESSION lz4, ALTER COLUMN entries SET COMPRESSION lz4'; END IF; END $$;
-- existing entries move into blocks of up to 256 consecutive seqs (a gap, which only tampering
-- leaves, starts a new block, so verification still finds it)
WITH numbered AS (
  SELECT l.*, seq - row_number() OVER (PARTITION BY chain ORDER BY seq) AS run FROM ledger l
), placed AS (
  SELECT n.*, (row_number() OVER (PARTITION BY chain, run ORDER BY seq) - 1) / 256 AS part FROM numbered n
)
INSERT INTO ledger_blocks (chain, last_seq, first_seq, ts, events, corr_ids, entries)
SELECT chain, max(seq), min(seq), array_agg(ts ORDER BY seq), array_agg(event ORDER BY seq),
       array_agg(corr_id ORDER BY seq), array_agg(entry ORDER BY seq)
FROM placed GROUP BY chain, run, part;
DROP TABLE ledger;
