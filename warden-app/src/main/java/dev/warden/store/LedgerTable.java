package dev.warden.store;

import dev.warden.store.Tx.LedgerHead;
import dev.warden.store.Tx.LedgerRow;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the ledger's entries are stored, one layout per engine: {@link LedgerRows} (SQLite, a row
 * per entry) and {@link LedgerBlocks} (PostgreSQL, a row per append). Both read back the same rows
 * (chain, seq, ts, event, corr_id, entry), so nothing above the store sees the layout. The chain
 * heads ({@code ledger_heads}) are the same on both.
 */
abstract sealed class LedgerTable permits LedgerRows, LedgerBlocks {
    final StatementCache statements;

    LedgerTable(StatementCache statements) {
        this.statements = statements;
    }

    /** Stores rows (consecutive seqs of one chain) after the caller moved the chain's head. */
    abstract void insert(List<LedgerRow> rows) throws SQLException;

    /** Every chain with a head or an entry, by name. */
    abstract List<String> chains() throws SQLException;

    /** Up to {@code limit} entries of a chain after {@code afterSeq}, in seq order. */
    abstract List<LedgerRow> page(String chain, long afterSeq, int limit) throws SQLException;

    /** A correlation id's entries, by time. */
    abstract List<LedgerRow> byCorrId(String corrId) throws SQLException;

    /**
     * Indexes by corr_id, up to {@code maxBlocksPerChain} blocks of each chain, what was stored
     * since the last pass, where the layout indexes behind its appends (PostgreSQL's blocks). A
     * no-op where every insert indexes (SQLite).
     */
    Tx.IndexPass indexCorrIds(int maxBlocksPerChain) throws SQLException {
        return Tx.IndexPass.NONE;
    }

    /** The newest {@code limit} entries, newest first: the append order where one writer appends (SQLite), else by time. */
    abstract List<LedgerRow> tailNewestFirst(int limit) throws SQLException;

    /**
     * Moves the head from {@code expected} to {@code next} and stores the rows; false, writing
     * nothing, when the head was not {@code expected} (another appender moved it).
     */
    boolean appendIfHead(LedgerHead expected, List<LedgerRow> rows, LedgerHead next) throws SQLException {
        PreparedStatement ps = statements.prepare("UPDATE ledger_heads SET seq = ?, hash = ? WHERE chain = ? AND seq = ? AND hash = ?");
        bindHeadMove(ps, 1, expected, next);
        if (ps.executeUpdate() != 1) {
            return false;
        }
        insert(rows);
        return true;
    }

    /** Binds the head move's five parameters from {@code at}: the new seq and hash, then the expected chain, seq and hash. */
    static void bindHeadMove(PreparedStatement ps, int at, LedgerHead expected, LedgerHead next) throws SQLException {
        ps.setLong(at, next.seq());
        ps.setString(at + 1, next.hash());
        ps.setString(at + 2, expected.chain());
        ps.setLong(at + 3, expected.seq());
        ps.setString(at + 4, expected.hash());
    }

    /** Runs a query whose columns are chain, seq, ts, event, corr_id, entry. */
    final List<LedgerRow> query(String sql, Object... args) throws SQLException {
        PreparedStatement ps = statements.prepare(sql);
        JdbcTx.bind(ps, args);
        List<LedgerRow> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new LedgerRow(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5), rs.getString(6)));
            }
        }
        return out;
    }

    /** The chains of {@code ledger_heads} and of an entry table. */
    final List<String> chains(String entryTable) throws SQLException {
        List<String> out = new ArrayList<>();
        PreparedStatement ps = statements.prepare("SELECT chain FROM ledger_heads UNION SELECT DISTINCT chain FROM " + entryTable + " ORDER BY 1");
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
