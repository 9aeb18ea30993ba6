package dev.warden.testing;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PostgreSQL server for the store contract tests: {@code WARDEN_TEST_PG_URL}
 * ({@code postgresql://HOST:PORT/DB?user=…&password=…}, a role that may create databases). Each
 * test gets a database of its own. Without the variable the PostgreSQL tests are skipped, unless
 * {@code WARDEN_REQUIRE_PG=1} (as in CI), which makes a missing server a failure.
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
        if (url == null || url.isBlank()) {
            if ("1".equals(System.getenv("WARDEN_REQUIRE_PG"))) {
                throw new AssertionError("WARDEN_REQUIRE_PG=1 but WARDEN_TEST_PG_URL is not set");
            }
            Assumptions.abort("no PostgreSQL for the tests: set WARDEN_TEST_PG_URL");
        }
        return url;
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
