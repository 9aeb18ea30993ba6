package dev.warden.store;

import static dev.warden.store.JdbcTx.sql;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ApprovalsTx} on the transaction's connection (the same SQL on SQLite and PostgreSQL). */
final class JdbcApprovals implements ApprovalsTx {
    private static final String COLUMNS = "id, job_id, action_key, action, reasons, summary, state, requested_at, "
            + "expires_at, decided_at, decided_by, note";

    private final StatementCache statements;

    JdbcApprovals(StatementCache statements) {
        this.statements = statements;
    }

    @Override
    public Optional<String> plan(String jobId) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare("SELECT plan FROM job_plans WHERE job_id = ?");
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        });
    }

    @Override
    public void putPlan(String jobId, String planJson, long now) {
        sql(() -> {
            PreparedStatement ps = statements.prepare("INSERT INTO job_plans (job_id, plan, updated_at) VALUES (?,?,?) "
                    + "ON CONFLICT (job_id) DO UPDATE SET plan = excluded.plan, updated_at = excluded.updated_at");
            ps.setString(1, jobId);
            ps.setString(2, planJson);
            ps.setLong(3, now);
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public boolean insert(ApprovalRow r) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare("INSERT INTO approvals (" + COLUMNS
                    + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (job_id, action_key) DO NOTHING");
            ps.setString(1, r.id());
            ps.setString(2, r.jobId());
            ps.setString(3, r.actionKey());
            ps.setString(4, r.action());
            ps.setString(5, r.reasons());
            ps.setString(6, r.summary());
            ps.setString(7, r.state());
            ps.setLong(8, r.requestedAt());
            ps.setLong(9, r.expiresAt());
            if (r.decidedAt() == null) {
                ps.setNull(10, java.sql.Types.BIGINT);
            } else {
                ps.setLong(10, r.decidedAt());
            }
            ps.setString(11, r.decidedBy());
            ps.setString(12, r.note());
            return ps.executeUpdate() == 1;
        });
    }

    @Override
    public Optional<ApprovalRow> find(String id) {
        return query("SELECT " + COLUMNS + " FROM approvals WHERE id = ?", id).stream().findFirst();
    }

    @Override
    public Optional<ApprovalRow> find(String jobId, String actionKey) {
        return query("SELECT " + COLUMNS + " FROM approvals WHERE job_id = ? AND action_key = ?", jobId, actionKey)
                .stream().findFirst();
    }

    @Override
    public List<ApprovalRow> forJob(String jobId) {
        return query("SELECT " + COLUMNS + " FROM approvals WHERE job_id = ? ORDER BY requested_at, id", jobId);
    }

    @Override
    public List<ApprovalRow> list(String state, int limit) {
        if (state == null) {
            return query("SELECT " + COLUMNS + " FROM approvals ORDER BY CASE WHEN state = 'pending' THEN 0 ELSE 1 END, "
                    + "COALESCE(decided_at, requested_at) DESC, id LIMIT ?", limit);
        }
        String order = "pending".equals(state) ? "requested_at, id" : "decided_at DESC, id";
        return query("SELECT " + COLUMNS + " FROM approvals WHERE state = ? ORDER BY " + order + " LIMIT ?", state, limit);
    }

    @Override
    public long countPending(String jobId) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare("SELECT COUNT(*) FROM approvals WHERE job_id = ? AND state = 'pending'");
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Override
    public long countPending() {
        return sql(() -> {
            try (ResultSet rs = statements.prepare("SELECT COUNT(*) FROM approvals WHERE state = 'pending'").executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Override
    public boolean decide(String id, String state, String actor, String note, long now) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare("UPDATE approvals SET state = ?, decided_at = ?, decided_by = ?, note = ? "
                    + "WHERE id = ? AND state = 'pending' AND expires_at > ?");
            ps.setString(1, state);
            ps.setLong(2, now);
            ps.setString(3, actor);
            ps.setString(4, note);
            ps.setString(5, id);
            ps.setLong(6, now);
            return ps.executeUpdate() == 1;
        });
    }

    @Override
    public List<ApprovalRow> expiredPending(long now, int limit) {
        return query("SELECT " + COLUMNS + " FROM approvals WHERE state = 'pending' AND expires_at <= ? "
                + "ORDER BY expires_at, id LIMIT ?", now, limit);
    }

    @Override
    public boolean close(String id, String state, long now) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare("UPDATE approvals SET state = ?, decided_at = ? WHERE id = ? AND state = 'pending'");
            ps.setString(1, state);
            ps.setLong(2, now);
            ps.setString(3, id);
            return ps.executeUpdate() == 1;
        });
    }

    private List<ApprovalRow> query(String sqlText, Object... args) {
        return sql(() -> {
            PreparedStatement ps = statements.prepare(sqlText);
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            List<ApprovalRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long decided = rs.getLong(10);
                    Long decidedAt = rs.wasNull() ? null : decided;
                    out.add(new ApprovalRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getLong(8), rs.getLong(9), decidedAt,
                            rs.getString(11), rs.getString(12)));
                }
            }
            return out;
        });
    }
}
