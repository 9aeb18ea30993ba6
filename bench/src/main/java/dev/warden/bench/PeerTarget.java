package dev.warden.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import javax.sql.DataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * One scenario's empty database: a fresh PostgreSQL database on the shared server (dropped by
 * {@link #close()}) or a fresh SQLite file in a temporary directory (deleted by {@link #close()}).
 * Every system under test gets its connections from here, so all of them see the same server,
 * the same SQLite settings and the same pool size.
 */
abstract class PeerTarget implements AutoCloseable {
    enum Kind {
        POSTGRESQL("PostgreSQL"), SQLITE("SQLite");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    private final List<HikariDataSource> pools = new ArrayList<>();

    abstract Kind kind();

    /** A URL Warden's {@code --store} accepts. */
    abstract String wardenStoreUrl();

    /** A plain connection outside any pool (schema set-up, progress checks, reading results). */
    abstract Connection connect() throws SQLException;

    abstract HikariConfig poolConfig();

    /** A HikariCP pool of exactly {@code size} connections (min idle = max: no ramp-up inside the timing). */
    final HikariDataSource pool(String name, int size) {
        HikariConfig cfg = poolConfig();
        cfg.setPoolName(name);
        cfg.setMaximumPoolSize(size);
        cfg.setMinimumIdle(size);
        cfg.setConnectionTimeout(60_000);
        HikariDataSource ds = new HikariDataSource(cfg);
        pools.add(ds);
        return ds;
    }

    /** Closes the pools handed out, then drops the database or deletes the file. */
    @Override
    public void close() {
        pools.forEach(HikariDataSource::close);
        pools.clear();
        dispose();
    }

    abstract void dispose();

    static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void execute(Connection c, String... sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    // ------------------------------------------------------------------ PostgreSQL

    /** The PostgreSQL server every PostgreSQL scenario uses, given as Warden's store URL form. */
    static final class PgServer {
        private final String host;
        private final int port;
        private final String adminDb;
        private final Properties props = new Properties();
        private final String rawQuery;

        PgServer(String url) {
            URI u = URI.create(url.startsWith("jdbc:") ? url.substring(5) : url);
            this.host = u.getHost();
            this.port = u.getPort() > 0 ? u.getPort() : 5432;
            this.adminDb = u.getPath() == null || u.getPath().length() < 2 ? "postgres" : u.getPath().substring(1);
            this.rawQuery = u.getRawQuery();
            if (u.getRawUserInfo() != null) {
                String[] ui = u.getRawUserInfo().split(":", 2);
                props.setProperty("user", URLDecoder.decode(ui[0], StandardCharsets.UTF_8));
                if (ui.length > 1) {
                    props.setProperty("password", URLDecoder.decode(ui[1], StandardCharsets.UTF_8));
                }
            }
            if (rawQuery != null) {
                for (String kv : rawQuery.split("&")) {
                    String[] p = kv.split("=", 2);
                    props.setProperty(p[0], p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
                }
            }
        }

        String jdbcUrl(String db) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + db;
        }

        /** host:port only: the report never shows the password. */
        String describe() {
            return host + ":" + port;
        }

        Connection connect(String db) throws SQLException {
            return DriverManager.getConnection(jdbcUrl(db), props);
        }

        /** Server version and the settings that matter for a write-heavy queue. */
        String settings() {
            try (Connection c = connect(adminDb)) {
                StringBuilder sb = new StringBuilder();
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
                    rs.next();
                    sb.append("PostgreSQL ").append(rs.getString(1));
                }
                for (String name : List.of("shared_buffers", "synchronous_commit", "fsync", "wal_level", "max_connections")) {
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + name)) {
                        rs.next();
                        sb.append(", ").append(name).append('=').append(rs.getString(1));
                    }
                }
                return sb.toString();
            } catch (SQLException e) {
                return "unreachable: " + e.getMessage();
            }
        }

        boolean reachable() {
            try (Connection c = connect(adminDb)) {
                return c.isValid(5);
            } catch (SQLException e) {
                return false;
            }
        }

        PeerTarget freshDatabase(String label) throws SQLException {
            String db = ("bench_" + label + "_" + Long.toHexString(System.nanoTime())).toLowerCase(Locale.ROOT)
                    .replaceAll("[^a-z0-9_]", "_");
            try (Connection c = connect(adminDb)) {
                execute(c, "CREATE DATABASE " + db);
            }
            return new Pg(this, db);
        }

        void drop(String db) {
            try (Connection c = connect(adminDb)) {
                execute(c, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            } catch (SQLException e) {
                System.err.println("bench: could not drop database " + db + ": " + e.getMessage());
            }
        }
    }

    private static final class Pg extends PeerTarget {
        private final PgServer server;
        private final String db;

        Pg(PgServer server, String db) {
            this.server = server;
            this.db = db;
        }

        @Override
        Kind kind() {
            return Kind.POSTGRESQL;
        }

        @Override
        String wardenStoreUrl() {
            return "postgresql://" + server.host + ":" + server.port + "/" + db
                    + (server.rawQuery == null ? "" : "?" + server.rawQuery);
        }

        @Override
        Connection connect() throws SQLException {
            return server.connect(db);
        }

        @Override
        HikariConfig poolConfig() {
            HikariConfig cfg = new HikariConfig();
            cfg.setJdbcUrl(server.jdbcUrl(db));
            server.props.forEach((k, v) -> cfg.addDataSourceProperty((String) k, v));
            return cfg;
        }

        @Override
        void dispose() {
            server.drop(db);
        }
    }

    // ------------------------------------------------------------------ SQLite

    /**
     * A fresh SQLite file with the settings Warden's own store uses (WAL, synchronous=NORMAL,
     * busy timeout 60 s, temp store in memory), so the peers are not handicapped by SQLite's
     * rollback-journal defaults.
     */
    static PeerTarget freshSqlite(Path tmpRoot, String label) throws java.io.IOException {
        Path dir = Files.createTempDirectory(tmpRoot, "peer-" + label + "-");
        return new Sqlite(dir);
    }

    static SQLiteConfig sqliteConfig() {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        cfg.setBusyTimeout(60_000);
        cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
        return cfg;
    }

    private static final class Sqlite extends PeerTarget {
        private final Path dir;
        private final Path file;

        Sqlite(Path dir) {
            this.dir = dir;
            this.file = dir.resolve("store.db");
        }

        @Override
        Kind kind() {
            return Kind.SQLITE;
        }

        @Override
        String wardenStoreUrl() {
            return "sqlite:" + file;
        }

        @Override
        Connection connect() throws SQLException {
            return sqliteConfig().createConnection("jdbc:sqlite:" + file);
        }

        @Override
        HikariConfig poolConfig() {
            SQLiteDataSource ds = new SQLiteDataSource(sqliteConfig());
            ds.setUrl("jdbc:sqlite:" + file);
            HikariConfig cfg = new HikariConfig();
            cfg.setDataSource((DataSource) ds);
            return cfg;
        }

        @Override
        void dispose() {
            Files2.deleteTree(dir);
        }
    }
}
