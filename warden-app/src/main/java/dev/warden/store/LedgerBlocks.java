package dev.warden.store;

import dev.warden.store.Tx.LedgerHead;
import dev.warden.store.Tx.LedgerRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * The ledger's storage on PostgreSQL (migration V10): the entries of one append, up to
 * {@link #MAX_ENTRIES} consecutive seqs of one chain, as one {@code ledger_blocks} row of aligned
 * arrays. Every entry keeps its own canonical JSON (seq, hash, prev_hash); the reads unnest the
 * blocks into the same rows SQLite's row-per-entry table gives, so nothing above the store sees the
 * difference. A worker's turn writes one row and one key for all its entries instead of a row and
 * two keys per entry. The corr_id index is written behind the appends (migration V13, {@link
 * #indexCorrIds}), and a look-up reads what it has not indexed yet.
 */
final class LedgerBlocks extends LedgerTable {
    /** Entries per block at most (the table's CHECK says the same): a page read is an index range on last_seq. */
    static final int MAX_ENTRIES = 256;

    private static final String INSERT = "INSERT INTO ledger_blocks (chain, last_seq, first_seq, ts, events, corr_ids, entries) ";
    /** A block's entries as rows: chain, seq, ts, event, corr_id, entry (the columns {@link LedgerTable#query} reads). */
    private static final String ENTRY_ROWS = "SELECT b.chain, b.first_seq + e.i - 1 AS seq, e.ts, e.event, e.corr_id, e.entry "
            + "FROM %s CROSS JOIN LATERAL unnest(b.ts, b.events, b.corr_ids, b.entries) "
            + "WITH ORDINALITY AS e(ts, event, corr_id, entry, i) ";

    /**
     * Entries after a seq, in seq order: from the block holding the next stored seq (a gap, which
     * only tampering leaves, is stepped over, so verification reaches the entry after it), only
     * the blocks the page can reach. Parameters: after, chain, after, chain, limit, limit, limit.
     */
    private static final String PAGE = "WITH w AS (SELECT GREATEST(?::bigint + 1, (SELECT first_seq FROM ledger_blocks "
            + "WHERE chain = ? AND last_seq > ? ORDER BY last_seq LIMIT 1)) AS start) "
            + ENTRY_ROWS.formatted("w CROSS JOIN ledger_blocks b")
            + "WHERE b.chain = ? AND b.last_seq >= w.start AND b.last_seq < w.start + ? + " + MAX_ENTRIES
            + " AND b.first_seq < w.start + ? AND b.first_seq + e.i - 1 >= w.start ORDER BY 2 LIMIT ?";

    /** Block {@code b} of head {@code h}'s chain lies past that chain's last index row: not indexed yet. */
    private static final String NOT_INDEXED = "b.chain = h.chain AND b.last_seq > coalesce((SELECT max(x.last_seq) "
            + "FROM ledger_corr_index x WHERE x.chain = h.chain), 0)";

    /**
     * A correlation id's entries, in one snapshot: the blocks in the ranges of {@code
     * ledger_corr_index} rows that list it (its GIN index), and every chain's blocks past its last
     * index row (not indexed yet); each block once, and only blocks that hold the id are unnested.
     * Each {@code LATERAL … OFFSET 0} keeps a look-up by the blocks' primary key: flattened into
     * joins, the planner hashed the whole block table and tested every block's corr_ids (~40 ms
     * at a million entries, against ~0.5 ms). Parameters: corr_id three times.
     */
    private static final String BY_CORR_ID = "WITH hit AS (SELECT b.chain, b.last_seq FROM ledger_corr_index x "
            + "CROSS JOIN LATERAL (SELECT b.chain, b.last_seq FROM ledger_blocks b WHERE b.chain = x.chain "
            + "AND b.last_seq BETWEEN x.first_seq AND x.last_seq OFFSET 0) b WHERE x.corr_ids @> ARRAY[?::text] "
            + "UNION SELECT b.chain, b.last_seq FROM ledger_heads h CROSS JOIN LATERAL (SELECT b.chain, b.last_seq "
            + "FROM ledger_blocks b WHERE " + NOT_INDEXED + " OFFSET 0) b) "
            + ENTRY_ROWS.formatted("hit CROSS JOIN LATERAL (SELECT b.* FROM ledger_blocks b WHERE b.chain = hit.chain "
                    + "AND b.last_seq = hit.last_seq AND b.corr_ids @> ARRAY[?::text] OFFSET 0) b")
            + "WHERE e.corr_id = ? ORDER BY e.ts, b.chain, 2";

    /**
     * One indexing pass ({@link #indexCorrIds}): for every chain, up to {@code limit} blocks past its
     * last index row become one index row with their distinct corr ids. One process's pass runs at
     * a time ({@link #INDEX_LOCK}); should two overlap anyway, they write overlapping rows
     * (harmless: a look-up names each block once) or the same row (kept once). Answers, per new
     * row, its entries and how many blocks it covers. Parameter: limit.
     */
    private static final String INDEX_PASS = "WITH pending AS (SELECT b.chain, b.first_seq, b.last_seq, b.corr_ids "
            + "FROM ledger_heads h CROSS JOIN LATERAL (SELECT b.chain, b.first_seq, b.last_seq, b.corr_ids FROM ledger_blocks b "
            + "WHERE " + NOT_INDEXED + " ORDER BY b.last_seq LIMIT ?) b), "
            + "added AS (INSERT INTO ledger_corr_index (chain, last_seq, first_seq, corr_ids) "
            + "SELECT p.chain, max(p.last_seq), min(p.first_seq), "
            + "coalesce(array_agg(DISTINCT c.id) FILTER (WHERE c.id IS NOT NULL), '{}') "
            + "FROM pending p LEFT JOIN LATERAL unnest(p.corr_ids) AS c(id) ON TRUE GROUP BY p.chain "
            + "ON CONFLICT (chain, last_seq) DO NOTHING RETURNING chain, last_seq - first_seq + 1 AS entries) "
            + "SELECT a.entries, (SELECT count(*) FROM pending p WHERE p.chain = a.chain) FROM added a";

    /** The newest entries: each chain's newest from its head backwards, merged by time. Parameters: limit, limit, limit. */
    private static final String TAIL = "SELECT l.chain, l.seq, l.ts, l.event, l.corr_id, l.entry FROM ledger_heads h CROSS JOIN LATERAL ("
            + ENTRY_ROWS.formatted("ledger_blocks b") + "WHERE b.chain = h.chain AND b.last_seq > h.seq - ? ORDER BY 2 DESC LIMIT ?) l "
            + "ORDER BY l.ts DESC, l.chain DESC, l.seq DESC LIMIT ?";

    LedgerBlocks(StatementCache statements) {
        super(statements);
    }

    @Override
    List<String> chains() throws SQLException {
        return chains("ledger_blocks");
    }

    @Override
    List<LedgerRow> page(String chain, long afterSeq, int limit) throws SQLException {
        return query(PAGE, afterSeq, chain, afterSeq, chain, limit, limit, limit);
    }

    @Override
    List<LedgerRow> byCorrId(String corrId) throws SQLException {
        return query(BY_CORR_ID, corrId, corrId, corrId);
    }

    /** Held (transaction-scoped) by the one process whose indexing pass runs; the others skip theirs meanwhile. */
    static final long INDEX_LOCK = JdbcTx.advisoryLockKey("warden-ledger-corr-index");

    @Override
    Tx.IndexPass indexCorrIds(int maxBlocksPerChain) throws SQLException {
        PreparedStatement lock = statements.prepare("SELECT pg_try_advisory_xact_lock(?)");
        lock.setLong(1, INDEX_LOCK);
        try (java.sql.ResultSet rs = lock.executeQuery()) {
            if (!rs.next() || !rs.getBoolean(1)) {
                return Tx.IndexPass.NONE; // another process is indexing: its pass covers every chain
            }
        }
        PreparedStatement ps = statements.prepare(INDEX_PASS);
        ps.setInt(1, maxBlocksPerChain);
        long entries = 0;
        boolean more = false;
        try (java.sql.ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                entries += rs.getLong(1);
                more |= rs.getLong(2) >= maxBlocksPerChain;
            }
        }
        return new Tx.IndexPass(entries, more);
    }

    @Override
    List<LedgerRow> tailNewestFirst(int limit) throws SQLException {
        return query(TAIL, limit, limit, limit);
    }

    /** Blocks one append writes in its single statement at most; a longer append (a large enqueue) takes two round trips. */
    static final int MAX_BLOCKS_AT_ONCE = 4;

    /** At index k (1 to {@link #MAX_BLOCKS_AT_ONCE}): move the head and insert k blocks, in one statement. */
    private static final String[] APPEND_IF_HEAD = java.util.stream.IntStream.rangeClosed(0, MAX_BLOCKS_AT_ONCE)
            .mapToObj(k -> k == 0 ? null : "WITH head AS (UPDATE ledger_heads SET seq = ?, hash = ? WHERE chain = ? AND seq = ? AND hash = ? "
                    + "RETURNING chain) " + INSERT + "SELECT head.chain, b.* FROM head CROSS JOIN (VALUES "
                    + String.join(", ", java.util.Collections.nCopies(k, "(?::bigint, ?::bigint, ?::bigint[], ?::text[], ?::text[], ?::text[])"))
                    + ") AS b(last_seq, first_seq, ts, events, corr_ids, entries)")
            .toArray(String[]::new);

    /**
     * As {@link LedgerTable#appendIfHead}, in one round trip when the rows fit {@link
     * #MAX_BLOCKS_AT_ONCE} blocks (a data-modifying CTE runs once; the head stays row-locked until
     * COMMIT). A worker's turn holds up to a claim batch and its outcomes: more than one block's
     * worth while jobs are short.
     */
    @Override
    boolean appendIfHead(LedgerHead expected, List<LedgerRow> rows, LedgerHead next) throws SQLException {
        int blocks = (rows.size() + MAX_ENTRIES - 1) / MAX_ENTRIES;
        if (blocks > MAX_BLOCKS_AT_ONCE) {
            return super.appendIfHead(expected, rows, next);
        }
        PreparedStatement ps = statements.prepare(APPEND_IF_HEAD[blocks]);
        bindHeadMove(ps, 1, expected, next);
        for (int b = 0; b < blocks; b++) {
            bindBlock(ps, 6 + 6 * b, rows.subList(b * MAX_ENTRIES, Math.min(rows.size(), (b + 1) * MAX_ENTRIES)), next.chain());
        }
        return ps.executeUpdate() == blocks;
    }

    /** Stores the rows as blocks of up to {@link #MAX_ENTRIES}. */
    @Override
    void insert(List<LedgerRow> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        PreparedStatement ps = statements.prepare(INSERT + "VALUES (?, ?, ?, ?::bigint[], ?::text[], ?::text[], ?::text[])");
        String chain = rows.get(0).chain();
        for (int from = 0; from < rows.size(); from += MAX_ENTRIES) {
            ps.setString(1, chain);
            bindBlock(ps, 2, rows.subList(from, Math.min(rows.size(), from + MAX_ENTRIES)), chain);
            ps.addBatch();
        }
        ps.executeBatch();
    }

    /** Binds last_seq, first_seq and the four arrays of one block from {@code at}. */
    private static void bindBlock(PreparedStatement ps, int at, List<LedgerRow> rows, String chain) throws SQLException {
        int n = rows.size();
        long first = rows.get(0).seq();
        Long[] ts = new Long[n];
        String[] events = new String[n];
        String[] corr = new String[n];
        String[] entries = new String[n];
        for (int i = 0; i < n; i++) {
            LedgerRow r = rows.get(i);
            if (!r.chain().equals(chain)) {
                throw new SQLException("entry of chain " + r.chain() + " appended to chain " + chain);
            }
            if (r.seq() != first + i) {
                throw new SQLException("ledger block of chain " + chain + " would hold seq " + r.seq() + " at seq " + (first + i));
            }
            ts[i] = r.tsMillis();
            events[i] = r.event();
            corr[i] = r.corrId();
            entries[i] = r.entry();
        }
        Connection c = ps.getConnection();
        ps.setLong(at, first + n - 1);
        ps.setLong(at + 1, first);
        ps.setArray(at + 2, c.createArrayOf("bigint", ts));
        ps.setArray(at + 3, c.createArrayOf("text", events));
        ps.setArray(at + 4, c.createArrayOf("text", corr));
        ps.setArray(at + 5, c.createArrayOf("text", entries));
    }
}
