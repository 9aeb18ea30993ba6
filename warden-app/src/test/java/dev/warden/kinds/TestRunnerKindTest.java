package dev.warden.kinds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code test_runner} end to end: a real git repository, a real test script, bubblewrap, JUnit XML. */
class TestRunnerKindTest {
    static final String SUITE = """
            #!/bin/sh
            mkdir -p reports
            cat > reports/TEST-suite.xml <<'XML'
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="suite" tests="4">
              <testcase name="a"/>
              <testcase name="b"/>
              <testcase name="c"><failure message="boom"/></testcase>
              <testcase name="d"><skipped/></testcase>
            </testsuite>
            XML
            echo "ran at $(git rev-parse --short HEAD 2>/dev/null || echo copy)"
            exit 1
            """;

    @TempDir
    Path data;

    @TempDir
    Path repo;

    WardenApp app;
    WorkerPool pool;
    String first;

    @BeforeEach
    void setUp() throws Exception {
        git("init", "-q", "-b", "main");
        Files.writeString(repo.resolve("run_tests.sh"), SUITE);
        git("add", ".");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first");
        first = new String(new ProcessBuilder("git", "-C", repo.toString(), "rev-parse", "HEAD").start()
                .getInputStream().readAllBytes()).strip();
        Files.writeString(repo.resolve("run_tests.sh"), "#!/bin/sh\necho second version\nexit 0\n");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "second");
        app = TestWarden.open(data, Clock.systemUTC(), """
                worker: {tick_ms: 100, poll_ms: 20}
                policy:
                  exec: {allow: [{path: /bin/sh}, {path: /usr/bin/sleep}]}
                  paths: {read: [%s], write: [%s]}
                  repos: [%s]
                """.formatted(repo, repo, repo));
        pool = app.newWorkerPool(2);
        pool.start();
    }

    @AfterEach
    void tearDown() {
        pool.shutdown(Duration.ofSeconds(2));
        app.close();
    }

    private void git(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", repo.toString()));
        cmd.addAll(List.of(args));
        assertThat(new ProcessBuilder(cmd).inheritIO().start().waitFor()).isZero();
    }

    private ObjectNode spec(String commit, String... argv) {
        ObjectNode s = Json.object().put("kind", "test_runner");
        ObjectNode p = s.putObject("payload").put("repo", repo.toString()).put("commit", commit);
        for (String a : argv) {
            p.withArray("argv").add(a);
        }
        p.putArray("junit_reports").add("reports/*.xml");
        ObjectNode pol = s.putObject("policy");
        pol.putObject("exec").putArray("allow").addObject().put("path", "/bin/sh");
        pol.putObject("paths").putArray("read").add(repo.toString());
        pol.putArray("repos").add(repo.toString());
        s.putObject("budgets").put("wall_time_s", 60).put("tool_calls", 0).put("output_bytes", 1_000_000);
        return s;
    }

    private JobRow run(ObjectNode spec) {
        JobRow job = app.queue().enqueue(app.parser().parse(spec), "test").job();
        pool.wakeUp();
        await().atMost(Duration.ofSeconds(60)).until(() -> app.queue().get(job.id()).state().isTerminal());
        return app.queue().get(job.id());
    }

    @Test
    void runsThePinnedCommitAndCountsJUnitResultsWhateverTheExitCode() throws Exception {
        JobRow done = run(spec(first, "sh", "run_tests.sh"));
        assertThat(done.state()).as(done.errorMessage()).isEqualTo(JobState.succeeded);
        JsonNode r = Json.parse(done.result());
        assertThat(r.path("exit_code").asInt()).isEqualTo(1);
        assertThat(r.path("commit").asText()).isEqualTo(first);
        assertThat(r.at("/tests/passed").asInt()).isEqualTo(2);
        assertThat(r.at("/tests/failed").asInt()).isEqualTo(1);
        assertThat(r.at("/tests/skipped").asInt()).isEqualTo(1);
        assertThat(r.at("/tests/reports").asInt()).isEqualTo(1);
        assertThat(Files.readString(app.evidence().artifacts(done.id()).resolve("stdout.txt"))).startsWith("ran at");
        assertThat(repo.resolve("reports")).as("the original repository was not touched").doesNotExist();
        assertThat(data.resolve("work")).isEmptyDirectory();
    }

    @Test
    void defaultCommitIsHead() {
        JobRow done = run(spec("HEAD", "sh", "run_tests.sh"));
        assertThat(Json.parse(done.result()).path("exit_code").asInt()).isZero();
        assertThat(Files.exists(app.evidence().artifacts(done.id()).resolve("stdout.txt"))).isTrue();
    }

    @Test
    void aCommandThatChangesTheOriginalRepositoryIsMutationDetected() {
        // the repo is writable by policy, and the command writes into it instead of its copy
        ObjectNode s = spec("HEAD", "sh", "-c", "echo tampered >> " + repo.resolve("run_tests.sh"));
        ((ObjectNode) s.get("policy").get("paths")).putArray("write").add(repo.toString());
        JobRow done = run(s);
        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("MUTATION_DETECTED");
        assertThat(done.errorMessage()).contains("run_tests.sh");
    }

    @Test
    void aCommandThatDoesNotFinishInTimeFailsAndIsKilled() {
        ObjectNode s = spec("HEAD", "sh", "-c", "sleep 30");
        ((ObjectNode) s.get("payload")).put("timeout_s", 1);
        JobRow done = run(s);
        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("timeout");
    }

    @Test
    void unknownCommitFailsClearly() {
        JobRow done = run(spec("no-such-branch", "sh", "run_tests.sh"));
        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("checkout_failed");
        assertThat(done.errorMessage()).contains("commit 'no-such-branch' not found");
    }

    @Test
    void executableOutsideTheAllowlistIsRefusedAtEnqueue() {
        ObjectNode s = spec("HEAD", "python3", "-c", "print(1)");
        assertThatThrownBy(() -> app.parser().parse(s)).isInstanceOf(WardenException.class)
                .hasMessageContaining("payload.argv: executable /usr/bin/python3.11 (from 'python3') is not in exec.allow");
    }

    @Test
    void optionLookingCommitIsBadInput() {
        assertThatThrownBy(() -> app.parser().parse(spec("--upload-pack=evil", "sh", "run_tests.sh")))
                .isInstanceOf(WardenException.class).hasMessageContaining("payload.commit:");
    }
}
