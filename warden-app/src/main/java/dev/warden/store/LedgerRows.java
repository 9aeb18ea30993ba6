package dev.warden.store;

import dev.warden.store.Tx.LedgerRow;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * The ledger's storage on SQLite: a {@code ledger} row per entry, keyed {@code (chain, seq)}, with
 * {@code ledger_corr (corr_id)} for a job's entries. Its one writer is in process, so a row costs
 * it a few microseconds, and it appends in commit order, so the rowid is the append order.
 */
final class LedgerRows extends LedgerTable {
    LedgerRows(StatementCache statements) {
        super(statements);
    }

    @Override
    void insert(List<LedgerRow> rows) throws SQLException {
        PreparedStatement ps = statements.prepare("INSERT INTO ledger (chain, seq, ts, event, corr_id, entry) VALUES (?,?,?,?,?,?)");
        for (LedgerRow r : rows) {
            ps.setString(1, r.chain());
            ps.setLong(2, r.seq());
            ps.setLong(3, r.tsMillis());
            ps.setString(4, r.event());
            ps.setString(5, r.corrId());
            ps.setString(6, r.entry());
            ps.addBatch();
        }
        ps.executeBatch();
    }

    @Override
    List<String> chains() throws SQLException {
        return chains("ledger");
    }

    @Override
    List<LedgerRow> page(String chain, long afterSeq, int limit) throws SQLException {
        return query("SELECT chain, seq, ts, event, corr_id, entry FROM ledger WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?",
                chain, afterSeq, limit);
    }

    @Override
    List<LedgerRow> byCorrId(String corrId) throws SQLException {
        return query("SELECT chain, seq, ts, event, corr_id, entry FROM ledger WHERE corr_id = ? ORDER BY ts, chain, seq", corrId);
    }

    @Override
    List<LedgerRow> tailNewestFirst(int limit) throws SQLException {
        return query("SELECT chain, seq, ts, event, corr_id, entry FROM ledger ORDER BY rowid DESC LIMIT ?", limit);
    }
}
