-- Job ids, job states and ledger chain names compare byte by byte ("C"), whatever the database's
-- default collation: they are ASCII identifiers, so their order is the same, and every index
-- insertion and look-up on them (the primary key, the claim, state listings, each job-row update
-- of a drain) skips the locale's comparison. On a C.UTF-8 database a drain's per-job update cost
-- fell by about a fifth; under en_US.UTF-8 the locale's comparisons cost more.
ALTER TABLE jobs ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN state TYPE TEXT COLLATE "C";
ALTER TABLE ledger_heads ALTER COLUMN chain TYPE TEXT COLLATE "C";
ALTER TABLE ledger_blocks ALTER COLUMN chain TYPE TEXT COLLATE "C";
