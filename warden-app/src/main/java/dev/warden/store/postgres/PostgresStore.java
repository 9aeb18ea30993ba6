package dev.warden.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.warden.common.WardenException;
import dev.warden.store.Dialect;
import dev.warden.store.JdbcStoreSupport;
import dev.warden.store.StatementCache;
import dev.warden.store.Store;
import dev.warden.store.StoreException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PostgreSQL store, for several worker processes on several machines: a HikariCP pool,
 * explicit short transactions, claims with {@code FOR UPDATE SKIP LOCKED} (see {@link Dialect#POSTGRES}).
 * Migrations run under a transaction-scoped advisory lock, so nodes starting together apply them once.
 */
public final class PostgresStore implements Store {
    private static final long MIGRATION_LOCK = 0x5741524445L; // "WARDE"

    private final HikariDataSource pool;
    private final String described;

    /** {@code postgresql://host:port/db?user=…&password=…}; the password may also come from {@code PGPASSWORD}. */
    public PostgresStore(String url, int poolSize) {
        Parsed p = parse(url);
        this.described = "postgresql://" + p.hostPort + "/" + p.database;
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl("jdbc:postgresql://" + p.hostPort + "/" + p.database);
        p.params.forEach(cfg::addDataSourceProperty);
        if (!p.params.containsKey("password") && System.getenv("PGPASSWORD") != null) {
            cfg.addDataSourceProperty("password", System.getenv("PGPASSWORD"));
        }
        // a batch of inserts (enqueue) becomes multi-row INSERTs: far fewer statements to parse and run
        if (!p.params.containsKey("reWriteBatchedInserts")) {
            cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        }
        cfg.setMaximumPoolSize(poolSize);
        cfg.setMinimumIdle(1);
        cfg.setAutoCommit(true);
        cfg.setPoolName("warden-pg");
        cfg.setConnectionTimeout(10_000);
        cfg.setInitializationFailTimeout(10_000);
        try {
            this.pool = new HikariDataSource(cfg);
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to " + described + ": " + e.getMessage(), e);
        }
        try (Connection c = pool.getConnection()) {
            migrate(c);
        } catch (SQLException e) {
            pool.close();
            throw new StoreException("cannot prepare the schema in " + described + ": " + e.getMessage(), e);
        }
    }

    private static void migrate(Connection c) throws SQLException {
        try (var s = c.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
        }
        try {
            JdbcStoreSupport.migrate(c, Dialect.POSTGRES);
        } finally {
            try (var s = c.createStatement()) {
                s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
            }
        }
    }

    private record Parsed(String hostPort, String database, Map<String, String> params) {}

    static Parsed parse(String url) {
        String u = url.startsWith("jdbc:") ? url.substring(5) : url;
        if (u.startsWith("postgres://")) {
            u = "postgresql://" + u.substring("postgres://".length());
        }
        URI uri;
        try {
            uri = URI.create(u);
        } catch (IllegalArgumentException e) {
            throw WardenException.badInput("--store: not a PostgreSQL URL (postgresql://HOST[:PORT]/DB?user=…)");
        }
        if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
            throw WardenException.badInput("--store: a PostgreSQL URL needs a host and a database: postgresql://HOST[:PORT]/DB?user=…");
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (uri.getRawUserInfo() != null) {
            String[] ui = uri.getRawUserInfo().split(":", 2);
            params.put("user", URLDecoder.decode(ui[0], StandardCharsets.UTF_8));
            if (ui.length > 1) {
                params.put("password", URLDecoder.decode(ui[1], StandardCharsets.UTF_8));
            }
        }
        if (uri.getRawQuery() != null) {
            for (String kv : uri.getRawQuery().split("&")) {
                String[] p = kv.split("=", 2);
                params.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8),
                        p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
            }
        }
        String hostPort = uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        return new Parsed(hostPort, uri.getPath().substring(1), params);
    }

    /** The password in a store URL, if it carries one (registered as a secret by the caller). */
    public static String passwordIn(String url) {
        return parse(url).params.get("password");
    }

    @Override
    public <T> T write(Work<T> work) {
        return inTransaction(false, work);
    }

    @Override
    public <T> T read(Work<T> work) {
        return inTransaction(true, work);
    }

    private <T> T inTransaction(boolean readOnly, Work<T> work) {
        try (Connection c = pool.getConnection(); StatementCache statements = new StatementCache(c)) {
            return JdbcStoreSupport.inDriverTransaction(statements, Dialect.POSTGRES, readOnly, work);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /**
     * The columns the claim, the reaper and the look-ups by id filter or order on: the wide ones
     * (spec, labels, results) cost ANALYZE most and no hot plan depends on them (autovacuum's own
     * analyses still cover every column).
     */
    static final String ANALYZE_JOBS = "ANALYZE jobs (id, state, priority, run_after, slot, lease_expires_at)";

    @Override
    public void refreshJobStatistics() {
        try (Connection c = pool.getConnection(); java.sql.Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute(ANALYZE_JOBS);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public String describe() {
        return described;
    }

    @Override
    public void close() {
        pool.close();
    }
}
