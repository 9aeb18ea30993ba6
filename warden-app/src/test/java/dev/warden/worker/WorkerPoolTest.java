package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker pool end to end on a real SQLite store, real files and real threads. */
class WorkerPoolTest {
    static final String SECRET = "sk-planted-SECRET-4f9a1c2e7b";

    @TempDir
    Path dir;

    @TempDir
    Path repo;

    @TempDir
    Path outsideRoots;

    WardenApp app;
    WorkerPool pool;

    @BeforeEach
    void open() throws Exception {
        Files.writeString(dir.resolve("secret.key"), SECRET + "\n");
        String cfg = """
                worker: {tick_ms: 100, poll_ms: 20, lease_s: 10}
                secrets: {files: [%s]}
                policy:
                  paths: {read: [%s, %s], write: [%s]}
                  repos: [%s]
                """.formatted(dir.resolve("secret.key"), repo, dir, dir, repo);
        app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), cfg);
        pool = app.newWorkerPool(4);
        pool.start();
    }

    @AfterEach
    void close() {
        pool.shutdown(Duration.ofSeconds(2));
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        app.close();
    }

    private JobRow enqueue(ObjectNode spec) {
        JobRow r = app.queue().enqueue(app.parser().parse(spec), "test").job();
        pool.wakeUp();
        return r;
    }

    private JobRow awaitTerminal(String id) {
        await().atMost(Duration.ofSeconds(20)).until(() -> app.queue().get(id).state().isTerminal());
        return app.queue().get(id);
    }

    /** The job's evidence directory once its bundle shows the job's final state (bundles trail outcomes). */
    private Path evidenceOf(JobRow done) {
        Path dir = app.evidence().dir(done.id());
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("summary.md"))
                && Files.readString(dir.resolve("summary.md")).contains("| state | " + done.state() + " |"));
        return dir;
    }

    private ObjectNode repoIndex(String... patterns) {
        ObjectNode s = Json.object().put("kind", "repo_index");
        ObjectNode p = s.putObject("payload").put("repo", repo.toString());
        for (String pat : patterns) {
            p.withArray("patterns").add(pat);
        }
        ObjectNode pol = s.putObject("policy");
        pol.putObject("paths").putArray("read").add(repo.toString());
        pol.putArray("repos").add(repo.toString());
        s.putObject("budgets").put("wall_time_s", 30).put("tool_calls", 0).put("output_bytes", 1_000_000);
        return s;
    }

    @Test
    void repoIndexIndexesTextFilesAndSkipsGitBinariesAndSymlinks() throws Exception {
        Files.createDirectories(repo.resolve("src/deep"));
        Files.writeString(repo.resolve("src/a.py"), "x = 1\n# TODO: fix\nprint('FIXME later')\n");
        Files.writeString(repo.resolve("src/deep/b.md"), "nothing here\nTODO twice TODO\n");
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve(".git/HEAD"), "TODO in git must be skipped\n");
        Files.write(repo.resolve("blob.bin"), new byte[] {'T', 'O', 'D', 'O', 0, 1, 2});
        Path outside = outsideRoots.resolve("outside.txt");
        Files.writeString(outside, "TODO outside the repo\n");
        Files.createSymbolicLink(repo.resolve("escape.txt"), outside);

        JobRow done = awaitTerminal(enqueue(repoIndex("TODO", "FIX\\w+")).id());

        assertThat(done.state()).isEqualTo(JobState.succeeded);
        JsonNode result = Json.parse(done.result());
        assertThat(result.path("files_considered").asInt()).isEqualTo(3);
        assertThat(result.path("files_indexed").asInt()).isEqualTo(2);
        assertThat(result.path("skipped_binary").asInt()).isEqualTo(1);
        assertThat(result.path("skipped_symlinks").asInt()).isEqualTo(1);
        assertThat(result.path("matches").asInt()).isEqualTo(3);
        List<String> lines = Files.readAllLines(app.evidence().artifacts(done.id()).resolve("index.jsonl"));
        assertThat(lines).hasSize(3);
        assertThat(lines).anySatisfy(l -> assertThat(Json.parse(l).path("path").asText()).isEqualTo("src/a.py"));
        assertThat(String.join("\n", lines)).doesNotContain("outside the repo", "in git");
        Path ev = evidenceOf(done);
        assertThat(ev.resolve("events.jsonl")).exists();
        String summary = Files.readString(ev.resolve("summary.md"));
        assertThat(summary).contains("succeeded", "index.jsonl", "\"matches\" : 3", "## What it cost");
        long indexBytes = Files.size(app.evidence().artifacts(done.id()).resolve("index.jsonl"));
        assertThat(summary).contains("| output | " + indexBytes + " bytes | 1000000 bytes |");
        assertThat(Files.readAllLines(ev.resolve("events.jsonl"))).extracting(l -> Json.parse(l).path("event").asText())
                .containsSubsequence("job.enqueued", "job.claimed", "fs.listed", "artifact.written", "job.succeeded");
    }

    @Test
    void aSucceededJobWithoutFilesGetsItsBundleWhenFirstReadAndAFailedOneAtOnce() throws Exception {
        JobRow ok = awaitTerminal(enqueue(TestWarden.noop()).id());
        ObjectNode failing = TestWarden.noop().put("max_attempts", 1);
        failing.putObject("payload").put("fail", "permanent");
        JobRow bad = awaitTerminal(enqueue(failing).id());
        assertThat(ok.state()).isEqualTo(JobState.succeeded);
        assertThat(bad.state()).isEqualTo(JobState.failed);
        assertThat(Files.readString(evidenceOf(bad).resolve("events.jsonl"))).contains("job.failed"); // written unasked
        assertThat(app.evidence().dir(ok.id())).doesNotExist();
        Path bundle = app.evidence().materialize(app.queue().get(ok.id()));
        assertThat(Files.readString(bundle.resolve("summary.md"))).contains("| state | succeeded |", "## What it cost");
        assertThat(Files.readAllLines(bundle.resolve("events.jsonl"))).extracting(l -> Json.parse(l).path("event").asText())
                .containsExactly("job.enqueued", "job.claimed", "job.succeeded");
    }

    @Test
    void noMoreAttemptsRunAtOnceThanTheConcurrency() throws Exception {
        Path log = dir.resolve("runs.log");
        List<dev.warden.job.JobSpec> specs = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ObjectNode s = TestWarden.noop();
            s.putObject("payload").put("sleep_ms", 30).put("log", log.toString());
            s.putObject("policy").putObject("paths").putArray("write").add(log.toString());
            specs.add(app.parser().parse(s));
        }
        List<String> ids = app.queue().enqueueAll(specs, "test").stream().map(e -> e.job().id()).toList();
        pool.wakeUp();
        for (String id : ids) {
            assertThat(awaitTerminal(id).state()).isEqualTo(JobState.succeeded);
        }
        List<long[]> edges = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(log)) {
            edges.add(new long[] {Long.parseLong(l.substring(l.lastIndexOf("t=") + 2)), l.startsWith("start") ? 1 : -1});
        }
        edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int now = 0;
        int max = 0;
        for (long[] e : edges) {
            now += (int) e[1];
            max = Math.max(max, now);
        }
        assertThat(edges).hasSize(80);
        assertThat(max).as("attempts running at once").isBetween(1, 4);
    }

    private ObjectNode sleeper(Path log, int sleepMs) {
        ObjectNode s = TestWarden.noop();
        s.putObject("payload").put("sleep_ms", sleepMs).put("log", log.toString());
        s.putObject("policy").putObject("paths").putArray("write").add(log.toString());
        return s;
    }

    private static long startLines(Path log) throws java.io.IOException {
        return Files.exists(log) ? Files.readAllLines(log).stream().filter(l -> l.startsWith("start")).count() : 0;
    }

    private long runningInStore() {
        return app.queue().countByState().getOrDefault(JobState.running, 0L);
    }

    @Test
    void aPoolHoldsAboutThreeQuartersOfASecondOfShortJobsPerSlotAndNoMoreThanMaxHold() {
        assertThat(WorkerPool.holdFactor(Double.NaN)).as("no handler has ended yet").isEqualTo(1);
        assertThat(WorkerPool.holdFactor(50.5)).as("long jobs are never claimed ahead").isEqualTo(1);
        assertThat(WorkerPool.holdFactor(50)).isEqualTo(16);
        assertThat(WorkerPool.holdFactor(25)).isEqualTo(31);
        assertThat(WorkerPool.holdFactor(12)).isEqualTo(63);
        assertThat(WorkerPool.holdFactor(11)).isEqualTo(WorkerPool.MAX_HOLD);
        assertThat(WorkerPool.holdFactor(0)).isEqualTo(WorkerPool.MAX_HOLD);
        assertThat(WorkerPool.claimBatch(java.util.OptionalInt.empty(), 8)).isEqualTo(8 * WorkerPool.MAX_HOLD);
        assertThat(WorkerPool.claimBatch(java.util.OptionalInt.empty(), 32)).isEqualTo(8 * WorkerPool.MAX_HOLD);
        assertThat(WorkerPool.claimBatch(java.util.OptionalInt.of(10_000), 2)).isEqualTo(2 * WorkerPool.MAX_HOLD);
    }

    @Test
    void whileJobsAreShortJobsAreClaimedAheadAndAWaitingOneIsReleasedOrCancelledWithoutRunning() throws Exception {
        Path log = dir.resolve("runs.log");
        for (int i = 0; i < 4; i++) {
            assertThat(awaitTerminal(enqueue(TestWarden.noop()).id()).state()).isEqualTo(JobState.succeeded);
        }
        // jobs are short now: the pool (4 slots) holds more than 4 (up to MAX_HOLD × 4): all 6, 4 running and 2 waiting for a slot
        List<dev.warden.job.JobSpec> specs = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            specs.add(app.parser().parse(sleeper(log, 60_000)));
        }
        List<String> ids = app.queue().enqueueAll(specs, "test").stream().map(e -> e.job().id()).toList();
        pool.wakeUp();
        await().atMost(Duration.ofSeconds(10)).until(() -> runningInStore() == 6 && startLines(log) == 4);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> startLines(log) == 4);
        String started = Files.readAllLines(log).toString();
        List<String> waiting = ids.stream().filter(id -> !started.contains(id)).toList();
        assertThat(waiting).hasSize(2);

        // an operator cancel of a waiting job ends it without it ever running
        JobRow cancelled = app.queue().cancel(waiting.get(0), "operator");
        assertThat(cancelled.state()).isEqualTo(JobState.running); // requested: the holder ends it
        assertThat(awaitTerminal(waiting.get(0)).state()).isEqualTo(JobState.cancelled);
        // the kill switch cancels the running ones and puts the waiting one back, its attempt not counted
        Files.writeString(app.dataDir().resolve("KILL_SWITCH"), "stop\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> app.queue().get(waiting.get(1)).state() == JobState.queued);
        assertThat(app.queue().get(waiting.get(1)).attempts()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> runningInStore() == 0);
        assertThat(ids.stream().filter(id -> !waiting.contains(id)).map(id -> app.queue().get(id).errorCode()))
                .containsOnly("kill_switch");
        assertThat(startLines(log)).isEqualTo(4);
        assertThat(Files.readString(log)).doesNotContain(waiting.get(0)).doesNotContain(waiting.get(1));
        assertThat(app.store().read(tx -> tx.ledgerTail(10_000)).stream()
                .filter(r -> r.event().equals("job.released") && waiting.get(1).equals(r.corrId()))).hasSize(1);
    }

    @Test
    void longJobsAreNeverClaimedAhead() throws Exception {
        Path log = dir.resolve("runs.log");
        assertThat(awaitTerminal(enqueue(sleeper(log, 200)).id()).state()).isEqualTo(JobState.succeeded);
        List<dev.warden.job.JobSpec> specs = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            specs.add(app.parser().parse(sleeper(log, 60_000)));
        }
        app.queue().enqueueAll(specs, "test");
        pool.wakeUp();
        await().atMost(Duration.ofSeconds(10)).until(() -> startLines(log) == 5);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> runningInStore() == 4);
        assertThat(app.queue().countByState().get(JobState.queued)).isEqualTo(1);
    }

    @Test
    void outputBudgetStopsTheJobWithTheBudgetNamed() throws Exception {
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            big.append("TODO line ").append(i).append('\n');
        }
        Files.writeString(repo.resolve("many.txt"), big);
        ObjectNode spec = repoIndex("TODO");
        ((ObjectNode) spec.get("budgets")).put("output_bytes", 500);

        JobRow done = awaitTerminal(enqueue(spec).id());

        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("budget_exceeded:output_bytes");
        assertThat(Files.size(app.evidence().artifacts(done.id()).resolve("index.jsonl"))).isLessThanOrEqualTo(500);
        assertThat(Files.readString(evidenceOf(done).resolve("events.jsonl"))).contains("budget.exceeded");
    }

    @Test
    void wallTimeBudgetStopsALongJob() {
        ObjectNode spec = TestWarden.noop();
        spec.putObject("payload").put("sleep_ms", 60_000);
        ((ObjectNode) spec.get("budgets")).put("wall_time_s", 1);
        JobRow done = awaitTerminal(enqueue(spec).id());
        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("budget_exceeded:wall_time_s");
    }

    @Test
    void operatorCancelStopsARunningJob() {
        ObjectNode spec = TestWarden.noop();
        spec.putObject("payload").put("sleep_ms", 60_000);
        JobRow job = enqueue(spec);
        await().atMost(Duration.ofSeconds(10)).until(() -> app.queue().get(job.id()).state() == JobState.running);
        app.queue().cancel(job.id(), "operator");
        JobRow done = awaitTerminal(job.id());
        assertThat(done.state()).isEqualTo(JobState.cancelled);
        assertThat(done.errorCode()).isEqualTo("cancelled");
    }

    @Test
    void killSwitchCancelsRunningJobsWithinFiveSecondsAndStopsClaims() throws Exception {
        ObjectNode spec = TestWarden.noop();
        spec.putObject("payload").put("sleep_ms", 60_000);
        JobRow job = enqueue(spec);
        await().atMost(Duration.ofSeconds(10)).until(() -> app.queue().get(job.id()).state() == JobState.running);
        Files.writeString(app.dataDir().resolve("KILL_SWITCH"), "stop\n");
        long t0 = System.nanoTime();
        JobRow done = awaitTerminal(job.id());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(done.state()).isEqualTo(JobState.cancelled);
        assertThat(done.errorCode()).isEqualTo("kill_switch");
        JobRow waiting = enqueue(TestWarden.noop());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> app.queue().get(waiting.id()).state() == JobState.queued);
        Files.delete(app.dataDir().resolve("KILL_SWITCH"));
        pool.wakeUp();
        assertThat(awaitTerminal(waiting.id()).state()).isEqualTo(JobState.succeeded);
    }

    @Test
    void transientFailuresAreRetriedUntilDead() {
        ObjectNode spec = TestWarden.noop().put("max_attempts", 2);
        spec.putObject("payload").put("fail", "transient");
        JobRow job = enqueue(spec);
        // backoff is 2 s by default: the second attempt comes after it
        JobRow done = awaitTerminal(job.id());
        assertThat(done.state()).isEqualTo(JobState.dead);
        assertThat(done.attempts()).isEqualTo(2);
    }

    @Test
    void symlinkSwappedInAfterEnqueueIsDeniedAtRunTime() throws Exception {
        // passes the enqueue checks as a real directory, then becomes a symlink out of the allowed roots
        Path sub = Files.createDirectories(repo.resolve("sub"));
        Files.writeString(sub.resolve("x.txt"), "TODO\n");
        Path elsewhere = Files.createDirectories(outsideRoots.resolve("elsewhere"));
        Files.writeString(elsewhere.resolve("x.txt"), "TODO outside\n");
        ObjectNode spec = repoIndex("TODO").put("run_after", java.time.Instant.now().plusMillis(1500).toString());
        ((ObjectNode) spec.get("payload")).put("repo", sub.toString());
        JobRow job = enqueue(spec);
        Files.delete(sub.resolve("x.txt"));
        Files.delete(sub);
        Files.createSymbolicLink(sub, elsewhere);

        JobRow done = awaitTerminal(job.id());

        assertThat(done.state()).isEqualTo(JobState.failed);
        assertThat(done.errorCode()).isEqualTo("policy_denied");
        assertThat(done.errorMessage()).contains("repos does not include it");
        String events = Files.readString(evidenceOf(done).resolve("events.jsonl"));
        assertThat(events).contains("policy.denied");
        assertThat(Files.readString(app.evidence().dir(done.id()).resolve("summary.md"))).contains("repo.open");
    }

    @Test
    void aJobBeyondATightenedOperatorPolicyIsDeniedAtRunTime() throws Exception {
        // enqueued under the current policy, run by a worker whose operator policy no longer allows the repo
        Files.writeString(repo.resolve("a.txt"), "TODO\n");
        JobRow job = app.queue().enqueue(app.parser().parse(repoIndex("TODO").put("run_after",
                java.time.Instant.now().plusSeconds(3600).toString())), "test").job();
        Path strictDir = Files.createDirectories(outsideRoots.resolve("strict"));
        Files.writeString(strictDir.resolve("warden.yaml"), "policy: {paths: {read: [%s]}, repos: [%s]}\n"
                .formatted(outsideRoots, outsideRoots));
        try (WardenApp strict = WardenApp.open(new WardenApp.Options(app.dataDir(), Optional.empty(),
                Optional.of(strictDir.resolve("warden.yaml")), Clock.systemUTC()))) {
            // the permissive pool stops first: once the job is due it must not be the one that claims it
            pool.shutdown(Duration.ZERO);
            // make it due now
            strict.store().write(tx -> {
                JobRow r = tx.findJob(job.id()).orElseThrow();
                tx.updateJob(new JobRow(r.id(), r.kind(), r.project(), r.state(), r.priority(), 0, r.attempts(), r.maxAttempts(),
                        r.claims(), r.retryOnLeaseLoss(), r.idempotencyKey(), r.slot(), r.spec(), r.labels(), r.result(),
                        r.errorCode(), r.errorMessage(), r.leaseOwner(), r.leaseExpiresAt(), r.cancelRequested(),
                        r.createdAt(), r.updatedAt(), r.startedAt(), r.finishedAt()), java.util.EnumSet.of(JobState.queued), r.claims());
                return null;
            });
            WorkerPool strictPool = strict.newWorkerPool(1);
            strictPool.drainOnce();
            strictPool.shutdown(Duration.ZERO);
            JobRow done = strict.queue().get(job.id());
            assertThat(done.state()).isEqualTo(JobState.failed);
            assertThat(done.errorCode()).isEqualTo("policy_denied");
            assertThat(done.errorMessage()).contains("operator policy now allows", "repos: " + repo);
        }
    }

    @Test
    void plantedSecretNeverReachesLedgerEvidenceOrApiViews() throws Exception {
        Files.writeString(repo.resolve("config.env"), "TODO rotate API_KEY=" + SECRET + "\n");
        ObjectNode spec = repoIndex("TODO");
        spec.putObject("labels").put("note", "uses " + SECRET);
        JobRow done = awaitTerminal(enqueue(spec).id());
        assertThat(done.state()).isEqualTo(JobState.succeeded);

        StringBuilder everything = new StringBuilder();
        app.store().read(tx -> tx.ledgerTail(100_000)).forEach(r -> everything.append(r.entry()).append('\n'));
        try (var files = Files.walk(evidenceOf(done))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                everything.append(Files.readString(f));
            }
        }
        everything.append(Json.write(dev.warden.queue.JobJson.view(app.queue().get(done.id()), app.redactor())));
        assertThat(everything.toString()).contains("[secret]").doesNotContain(SECRET);
    }
}
