package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationsTest {
    @TempDir
    Path dir;

    /** A migration resource that is not named in {@link Migrations#NAMES} is never applied. */
    @Test
    void everyMigrationResourceIsApplied() throws Exception {
        TreeSet<String> resources = new TreeSet<>();
        for (String engine : List.of("common", "sqlite", "postgresql")) {
            try (Stream<Path> files = Files.list(resourceDir(engine))) {
                files.map(f -> f.getFileName().toString()).filter(n -> n.matches("V\\d+__.+\\.sql")).forEach(resources::add);
            }
        }
        assertThat(Arrays.asList(Migrations.NAMES)).containsExactlyInAnyOrderElementsOf(resources);
        for (int i = 0; i < Migrations.NAMES.length; i++) {
            assertThat(Migrations.NAMES[i]).as("migration %d", i + 1).startsWith("V" + (i + 1) + "__");
        }
    }

    @Test
    void aFreshSqliteDatabaseGetsEveryMigrationOnceAndTheLatestTakeEffect() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("m.db"))) {
            assertThat(Migrations.apply(c, Dialect.SQLITE)).isEqualTo(Migrations.NAMES.length);
            assertThat(Migrations.apply(c, Dialect.SQLITE)).as("second run").isZero();
            assertThat(scalar(c, "SELECT MAX(version) FROM schema_version")).isEqualTo(String.valueOf(Migrations.NAMES.length));
            // V7 dropped the partial indexes that one running-jobs index replaces
            assertThat(scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('jobs_running_slot', 'jobs_running_owner')"))
                    .isEqualTo("0");
            // V8: the ledger tail reads the append order, so no ts index is kept up
            assertThat(scalar(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ledger_ts'")).isEqualTo("0");
            // V9: listings by id; V12: no index over every row's state, one per rare outcome instead
            assertThat(scalar(c, "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
                    + "AND tbl_name = 'jobs' AND name LIKE 'jobs_%' ORDER BY name)"))
                    .isEqualTo("jobs_cancelled,jobs_claim,jobs_dead,jobs_escalated,jobs_failed,jobs_running_lease");
        }
    }

    private static Path resourceDir(String engine) throws URISyntaxException {
        return Path.of(Objects.requireNonNull(MigrationsTest.class.getResource("/db/" + engine)).toURI());
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
