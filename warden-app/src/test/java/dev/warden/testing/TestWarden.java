package dev.warden.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.job.JobSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/** Builds a real {@link WardenApp} on a temporary data directory (real SQLite file) for tests. */
public final class TestWarden {
    private TestWarden() {}

    public static WardenApp open(Path dataDir, Clock clock, String configYaml) {
        return open(dataDir, clock, Optional.empty(), configYaml);
    }

    public static WardenApp open(Path dataDir, Clock clock, Optional<String> storeUrl, String configYaml) {
        try {
            Files.createDirectories(dataDir);
            if (configYaml != null) {
                Files.writeString(dataDir.resolve("warden.yaml"), configYaml);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return WardenApp.open(new WardenApp.Options(dataDir, storeUrl, Optional.empty(), clock));
    }

    /** A minimal valid noop spec. */
    public static ObjectNode noop() {
        ObjectNode s = Json.object().put("kind", "noop");
        s.putObject("budgets").put("wall_time_s", 60).put("tool_calls", 0).put("output_bytes", 1_000_000);
        return s;
    }

    public static JobSpec parse(WardenApp app, ObjectNode spec) {
        return app.parser().parse(spec);
    }
}
