package dev.warden.kinds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.store.JobRow;
import dev.warden.testing.TestWarden;
import dev.warden.worker.WorkerPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocCompactorKindTest {
    @TempDir
    Path data;

    @TempDir
    Path docs;

    @Test
    void compactsDocumentsReadThroughThePolicyIntoAnArtifact() throws Exception {
        StringBuilder text = new StringBuilder("# Guide\n\n");
        for (int i = 0; i < 200; i++) {
            text.append("Paragraph ").append(i).append(" is long. It says many things that do not matter here.\n\n");
        }
        text.append("IMPORTANT: back up before upgrading.\n");
        Files.writeString(docs.resolve("guide.md"), text);
        Files.writeString(docs.resolve("faq.md"), "# FAQ\n\nWhy? Because.\n");
        try (WardenApp app = TestWarden.open(data, Clock.systemUTC(), """
                worker: {tick_ms: 100, poll_ms: 20}
                policy: {paths: {read: [%s]}}
                """.formatted(docs))) {
            ObjectNode spec = Json.object().put("kind", "doc_compactor");
            spec.putObject("payload").put("target_bytes", 2000).putArray("inputs")
                    .add(docs.resolve("guide.md").toString()).add(docs.resolve("faq.md").toString());
            spec.putObject("policy").putObject("paths").putArray("read").add(docs.toString());
            spec.putObject("budgets").put("wall_time_s", 30).put("tool_calls", 0).put("output_bytes", 100_000);

            JobRow job = app.queue().enqueue(app.parser().parse(spec), "test").job();
            WorkerPool pool = app.newWorkerPool(1);
            pool.drainOnce();
            pool.shutdown(Duration.ZERO);

            JobRow done = app.queue().get(job.id());
            assertThat(done.state()).as(String.valueOf(done.errorMessage())).isEqualTo(JobState.succeeded);
            JsonNode r = Json.parse(done.result());
            assertThat(r.path("met_target").asBoolean()).isTrue();
            assertThat(r.path("output_bytes").asInt()).isLessThanOrEqualTo(2000);
            assertThat(r.path("input_bytes").asInt()).isGreaterThan(10_000);
            String out = Files.readString(app.evidence().artifacts(job.id()).resolve("compacted.md"));
            assertThat(out).contains("# Guide", "# FAQ", "IMPORTANT: back up before upgrading.");

            ObjectNode outside = spec.deepCopy();
            ((ObjectNode) outside.get("payload")).putArray("inputs").add("/etc/hostname");
            assertThatThrownBy(() -> app.parser().parse(outside)).isInstanceOf(WardenException.class)
                    .hasMessageContaining("payload.inputs[0]: /etc/hostname is outside the job's policy paths.read");
        }
    }
}
