package dev.warden.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Versioned schema migrations: {@code db/<dialect>/V<n>__<name>.sql} resources (or
 * {@code db/common/…} for SQL both engines accept as written) applied in order,
 * each in its own transaction, recorded in {@code schema_version}. Safe when several processes
 * start at once: the version check and the migration share a write transaction.
 */
final class Migrations {
    /** Every migration, in order: a new resource must be named here (MigrationsTest checks). */
    static final String[] NAMES = {"V1__init.sql", "V2__workers.sql", "V3__evidence_files.sql", "V4__schedules.sql", "V5__models.sql",
            "V6__approvals.sql", "V7__lean_job_indexes.sql", "V8__ledger_append_order.sql",
            "V9__list_jobs_by_id.sql", "V10__ledger_blocks.sql",
            "V11__c_collation_keys.sql", "V12__lean_state_indexes.sql", "V13__ledger_corr_behind.sql"};

    private Migrations() {}

    /** Applies pending migrations on a connection in auto-commit mode, each in an explicit write transaction. */
    static int apply(Connection c, Dialect dialect) throws SQLException {
        return apply(c, dialect, NAMES.length);
    }

    /** Applies pending migrations up to and including version {@code through} (a test starts from an older schema). */
    static int apply(Connection c, Dialect dialect, int through) throws SQLException {
        if (currentVersion(c) >= through) {
            return 0; // up to date: no write lock taken (a read-only command must not queue behind a busy writer)
        }
        int applied = 0;
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        }
        {
            for (int i = 0; i < through; i++) {
                int version = i + 1;
                exec(c, dialect.beginWriteSql());
                try {
                    if (isApplied(c, version)) {
                        exec(c, "COMMIT");
                        continue;
                    }
                    for (String stmt : statements(load(dialect.name(), NAMES[i]))) {
                        try (Statement s = c.createStatement()) {
                            s.execute(stmt);
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO schema_version(version, name, applied_at) VALUES (?,?,?)")) {
                        ps.setInt(1, version);
                        ps.setString(2, NAMES[i]);
                        ps.setLong(3, System.currentTimeMillis());
                        ps.executeUpdate();
                    }
                    exec(c, "COMMIT");
                    applied++;
                } catch (SQLException | RuntimeException e) {
                    exec(c, "ROLLBACK");
                    throw e;
                }
            }
        }
        return applied;
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int currentVersion(Connection c) {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            return 0; // no schema_version table yet
        }
    }

    private static boolean isApplied(Connection c, int version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM schema_version WHERE version = ?")) {
            ps.setInt(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String load(String dialect, String name) {
        String path = "/db/" + dialect + "/" + name;
        InputStream found = Migrations.class.getResourceAsStream(path);
        if (found == null) {
            path = "/db/common/" + name;
            found = Migrations.class.getResourceAsStream(path);
        }
        try (InputStream in = found) {
            if (in == null) {
                throw new IllegalStateException("missing migration resource " + name + " for " + dialect);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits a script at semicolons that end a line; strips {@code --} comment lines. */
    static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : script.split("\n")) {
            String t = line.strip();
            if (t.startsWith("--") || t.isEmpty()) {
                continue;
            }
            cur.append(line).append('\n');
            if (t.endsWith(";")) {
                String stmt = cur.toString().strip();
                out.add(stmt.substring(0, stmt.length() - 1));
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().strip());
        }
        return out;
    }
}
