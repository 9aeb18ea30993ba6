package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.job.JobState;
import dev.warden.store.JobRow;
import dev.warden.testing.TestPostgres;
import dev.warden.testing.TestWarden;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With PostgreSQL, a job's evidence (artifacts included) is served by a node that did not run it. */
class EvidenceFromAnyNodeTest {
    @TempDir
    Path nodeA;

    @TempDir
    Path nodeB;

    @TempDir
    Path repo;

    String url;

    @AfterEach
    void drop() {
        TestPostgres.drop(url);
    }

    @Test
    void anotherNodeServesTheBundleWithItsArtifacts() throws Exception {
        url = TestPostgres.freshDatabase();
        Files.writeString(repo.resolve("a.txt"), "TODO one\nTODO two\n");
        String cfg = "policy: {paths: {read: [%s]}, repos: [%s]}\n".formatted(repo, repo);
        String jobId;
        String artifact;
        try (WardenApp a = TestWarden.open(nodeA, Clock.systemUTC(), Optional.of(url), cfg)) {
            ObjectNode spec = Json.object().put("kind", "repo_index");
            spec.putObject("payload").put("repo", repo.toString()).putArray("patterns").add("TODO");
            ObjectNode pol = spec.putObject("policy");
            pol.putObject("paths").putArray("read").add(repo.toString());
            pol.putArray("repos").add(repo.toString());
            spec.putObject("budgets").put("wall_time_s", 30).put("tool_calls", 0).put("output_bytes", 100_000);
            JobRow job = a.queue().enqueue(a.parser().parse(spec), "test").job();
            WorkerPool pool = a.newWorkerPool(1);
            pool.drainOnce();
            pool.shutdown(Duration.ZERO);
            assertThat(a.queue().get(job.id()).state()).isEqualTo(JobState.succeeded);
            jobId = job.id();
            artifact = Files.readString(a.evidence().artifacts(jobId).resolve("index.jsonl"));
        }
        StringWriter out = new StringWriter();
        int code = dev.warden.cli.Main.execute(new String[] {"--data-dir", nodeB.toString(), "--store", url, "evidence", jobId},
                new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(code).isZero();
        Path bundle = Path.of(out.toString().strip());
        assertThat(bundle).startsWith(nodeB);
        assertThat(bundle.resolve("artifacts/index.jsonl")).hasContent(artifact.strip());
        assertThat(Files.readString(bundle.resolve("summary.md"))).contains("succeeded", "index.jsonl");
        assertThat(Files.readString(bundle.resolve("events.jsonl"))).contains("job.succeeded", "artifact.written");
    }
}
