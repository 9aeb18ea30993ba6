package dev.warden.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a system's PostgreSQL backends spend a drain on, sampled from {@code pg_stat_activity}
 * (its database only, not the probe's own backend) at every progress poll, plus the WAL the
 * drain wrote ({@code pg_current_wal_lsn()} before and after; server-wide, so other databases'
 * writes would count too). The sample says, per poll, how many of the system's connections were
 * running a statement, waiting for a lock held by another transaction, waiting for a WAL
 * write/flush (commit), or sitting "idle in transaction" (the client is between statements of an
 * open transaction: round trips and client-side work while the transaction holds its locks). Busy
 * backends of other databases are counted apart: they are someone else's load on the server.
 */
final class PgProbe {
    /** Average number of the system's backends in each state over the drain, and WAL bytes per job. */
    record Summary(Map<String, Double> backends, double walBytesPerJob, int samples, Map<String, Long> statements) {
        /** The statements most often found executing (state {@code active}), with their share of those samples. */
        String topStatements(int n) {
            long total = statements.values().stream().mapToLong(Long::longValue).sum();
            StringBuilder sb = new StringBuilder();
            statements.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n)
                    .forEach(e -> sb.append(sb.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%.0f%% `%s`",
                            100.0 * e.getValue() / total, e.getKey())));
            return sb.toString();
        }

        String cell() {
            StringBuilder sb = new StringBuilder();
            backends.forEach((k, v) -> {
                if (v >= 0.05) {
                    sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f %s", v, k));
                }
            });
            return String.format(Locale.ROOT, "%.0f B WAL/job; backends: %s", walBytesPerJob,
                    sb.length() == 0 ? "idle" : sb.toString());
        }
    }

    static final String RUNNING = "running";
    static final String LOCK = "lock wait";
    static final String WAL = "WAL write/flush";
    static final String IDLE_IN_TX = "idle in tx";
    static final String OTHER = "other wait";
    /** Busy backends of other databases on the same server: someone else's load, a disturbance. */
    static final String OTHER_DB = "other databases";

    private final Connection c;
    private final double lsn0;
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final Map<String, Long> statements = new java.util.HashMap<>();
    private int samples;

    private PgProbe(Connection c, double lsn0) {
        this.c = c;
        this.lsn0 = lsn0;
        for (String k : new String[] {RUNNING, LOCK, WAL, IDLE_IN_TX, OTHER, OTHER_DB}) {
            counts.put(k, 0L);
        }
    }

    /** Null unless {@code c} is a PostgreSQL connection. */
    static PgProbe start(Connection c) {
        try {
            if (!c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres")) {
                return null;
            }
            return new PgProbe(c, lsn(c));
        } catch (SQLException e) {
            return null;
        }
    }

    private static double lsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            return rs.getDouble(1);
        }
    }

    void sample() {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT state, wait_event_type, wait_event, datname = current_database(), "
                        + "left(regexp_replace(query, '\\s+', ' ', 'g'), 300) FROM pg_stat_activity "
                        + "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
            while (rs.next()) {
                String state = rs.getString(1);
                String type = rs.getString(2);
                String event = rs.getString(3);
                String k;
                if ("idle".equals(state) || state == null) {
                    continue;
                } else if (!rs.getBoolean(4)) {
                    k = OTHER_DB;
                } else if (state.startsWith("idle in transaction")) {
                    k = IDLE_IN_TX;
                } else if (type == null) {
                    k = RUNNING;
                } else if (type.equals("Lock")) {
                    k = LOCK;
                } else if (event != null && event.startsWith("WAL")) {
                    k = WAL;
                } else {
                    k = OTHER;
                }
                counts.merge(k, 1L, Long::sum);
                if (state.equals("active")) {
                    statements.merge(shorten(rs.getString(5)), 1L, Long::sum);
                }
            }
            samples++;
        } catch (SQLException e) {
            // a missed sample
        }
    }

    /** A statement's text, short: the column list of a SELECT elided, at most 70 characters. */
    static String shorten(String sql) {
        String s = sql.strip().replaceFirst("(?i)^SELECT (?!COUNT).{30,}? FROM ", "SELECT … FROM ");
        return s.length() > 70 ? s.substring(0, 70) + "…" : s;
    }

    Summary finish(int jobs) {
        double wal;
        try {
            wal = (lsn(c) - lsn0) / jobs;
        } catch (SQLException e) {
            wal = Double.NaN;
        }
        Map<String, Double> avg = new LinkedHashMap<>();
        int n = Math.max(1, samples);
        counts.forEach((k, v) -> avg.put(k, (double) v / n));
        return new Summary(avg, wal, samples, Map.copyOf(statements));
    }
}
