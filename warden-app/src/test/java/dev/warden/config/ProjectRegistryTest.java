package dev.warden.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.WardenException;
import dev.warden.testing.CliRun;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProjectRegistryTest {
    @TempDir
    Path dir;

    static final String NOOP = "{\"kind\":\"noop\",\"project\":\"%s\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}";

    @Test
    void anInvalidRegistryRefusesToStartListingEveryViolation() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("projects.json"), """
                {"projects": [{"id": "App", "colour": "red"}, {"id": "web", "repo": "relative/path"}, {"id": "web"}]}
                """);
        WardenException e = Assertions.catchThrowableOfType(WardenException.class, () -> TestWarden.open(data, Clock.systemUTC(), null));
        assertThat(e.getMessage()).contains("projects[0].id").contains("colour").contains("projects[1].repo")
                .contains("projects[2].id: 'web' is used by another project");
        CliRun r = CliRun.in(data, "jobs", "list");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("refusing to start");
    }

    @Test
    void jobsMayOnlyNameRegisteredProjects() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("projects.json"), """
                {"projects": [{"id": "app", "name": "The app", "repo": "/srv/repos/app", "owner": "ops", "labels": {"team": "core"}}]}
                """);
        Path ok = Files.writeString(dir.resolve("ok.json"), NOOP.formatted("app"));
        Path unknown = Files.writeString(dir.resolve("unknown.json"), NOOP.formatted("ghost"));
        Path dflt = Files.writeString(dir.resolve("default.json"), NOOP.formatted("default"));
        assertThat(CliRun.in(data, "enqueue", ok.toString()).code()).isZero();
        assertThat(CliRun.in(data, "enqueue", dflt.toString()).code()).isZero();
        CliRun refused = CliRun.in(data, "enqueue", unknown.toString());
        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.err()).contains("project: 'ghost' is not in the project registry (app)");
        try (var app = TestWarden.open(data, Clock.systemUTC(), null)) {
            var rows = dev.warden.web.ProjectSummary.of(app);
            assertThat(rows).extracting(dev.warden.web.ProjectSummary.Row::id).containsExactly("app", "default");
            assertThat(rows.get(0).registered().owner()).isEqualTo("ops");
            assertThat(rows.get(0).recentJobs()).isEqualTo(1);
        }
    }
}
