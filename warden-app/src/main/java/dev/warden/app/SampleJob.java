package dev.warden.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.store.Tx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** On first start with an empty queue, one {@code repo_index} job over sample files, so the console has something to show. */
public final class SampleJob {
    private static final Logger LOG = LoggerFactory.getLogger(SampleJob.class);

    private SampleJob() {}

    public static Optional<String> enqueueIfFirstStart(WardenApp app) {
        if (!app.queue().list(Tx.JobFilter.all(1)).isEmpty()) {
            return Optional.empty();
        }
        Path dir = app.dataDir().resolve("sample");
        try {
            Files.createDirectories(dir.resolve("src"));
            Files.writeString(dir.resolve("README.md"), """
                    # Sample repository

                    Warden indexed this directory as its first job.
                    TODO: point a repo_index job at one of your own repositories.
                    """);
            Files.writeString(dir.resolve("src/app.py"), """
                    def main():
                        # TODO: handle the empty input case
                        return 0  # FIXME: return a real exit code
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode spec = Json.object().put("kind", "repo_index").put("project", "default");
        spec.putObject("payload").put("repo", dir.toString()).putArray("patterns").add("TODO").add("FIXME");
        ObjectNode policy = spec.putObject("policy");
        policy.putObject("paths").putArray("read").add(dir.toString());
        policy.putArray("repos").add(dir.toString());
        spec.putObject("budgets").put("wall_time_s", 60).put("tool_calls", 0).put("output_bytes", 1_048_576);
        spec.put("idempotency_key", "warden-sample-job");
        spec.putObject("labels").put("sample", "true");
        try {
            return Optional.of(app.queue().enqueue(app.parser().parse(spec), "warden:up").job().id());
        } catch (WardenException e) {
            LOG.warn("sample job not enqueued: {}", e.getMessage());
            return Optional.empty();
        }
    }
}
