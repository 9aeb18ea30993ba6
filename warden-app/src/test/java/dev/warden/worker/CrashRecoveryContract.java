package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real worker JVMs on one SQLite file, killed with SIGKILL mid-job and replaced, over and over.
 * Every job must finish, and the side-effect log the jobs write must show that no job ever ran
 * in two places at once and no attempt number ran twice.
 */
abstract class CrashRecoveryContract {
    static final int JOBS = 500;
    static final int WORKERS = 3;
    static final int KILLS = 12;
    static final Pattern LINE = Pattern.compile("(start|end) (job-\\w+) attempt=(\\d+) pid=(\\d+) t=(\\d+)");

    @TempDir
    Path dir;

    final List<Process> workers = new ArrayList<>();
    final Map<Long, Long> deathTime = new HashMap<>();

    /** The store for this run (empty: the embedded SQLite file in the data directory). */
    abstract Optional<String> storeUrl();

    void release() {}

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : workers) {
            p.destroyForcibly();
            p.waitFor();
        }
        release();
    }

    private WardenApp openApp() throws Exception {
        String cfg = """
                slots: {gpu: 2}
                worker: {lease_s: 3, tick_ms: 200, poll_ms: 50, concurrency: 4}
                queue: {backoff_base_ms: 100, backoff_max_ms: 500}
                policy:
                  paths: {read: [%s], write: [%s]}
                """.formatted(dir, dir);
        return TestWarden.open(dir.resolve("data"), Clock.systemUTC(), storeUrl(), cfg);
    }

    private Process startWorker() throws Exception {
        return startWorker(List.of());
    }

    private Process startWorker(List<String> options) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.warden.cli.Main",
                "--data-dir", dir.resolve("data").toString(), "worker"));
        cmd.addAll(options);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("workers.out").toFile()));
        // the store URL (which may carry a password) goes by environment, never argv
        storeUrl().ifPresent(u -> pb.environment().put("WARDEN_STORE", u));
        Process p = pb.start();
        workers.add(p);
        return p;
    }

    private static ObjectNode sleepJob(Path log, int sleepMs) {
        ObjectNode s = TestWarden.noop().put("max_attempts", 25);
        s.putObject("payload").put("sleep_ms", sleepMs).put("log", log.toString());
        s.putObject("policy").putObject("paths").putArray("write").add(log.toString());
        return s;
    }

    @Test
    void jobsSurviveRepeatedSigkillOfWorkers() throws Exception {
        Path log = dir.resolve("side-effects.log");
        Random random = new Random(42);
        try (WardenApp app = openApp()) {
            List<JobSpec> specs = new ArrayList<>();
            for (int i = 0; i < JOBS; i++) {
                specs.add(app.parser().parse(sleepJob(log, 40 + random.nextInt(120))));
            }
            app.queue().enqueueAll(specs, "test");
            for (int i = 0; i < WORKERS; i++) {
                startWorker();
            }
            int kills = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            long nextKill = System.nanoTime() + millis(300 + random.nextInt(600));
            while (!allTerminal(app) && System.nanoTime() < deadline) {
                Thread.sleep(50);
                if (kills < KILLS && System.nanoTime() >= nextKill) {
                    // kill only a worker with a run in progress (a start line without its end): a blind pick
                    // often hits a JVM still starting, and with a fast drain every kill could miss the work
                    Set<Long> inRun = pidsWithOpenRuns(Files.exists(log) ? Files.readAllLines(log) : List.of());
                    List<Process> busy = workers.stream().filter(p -> p.isAlive() && inRun.contains(p.pid())).toList();
                    if (busy.isEmpty()) {
                        continue;
                    }
                    Process victim = busy.get(random.nextInt(busy.size()));
                    victim.destroyForcibly(); // SIGKILL
                    victim.waitFor();
                    deathTime.put(victim.pid(), System.currentTimeMillis());
                    kills++;
                    startWorker();
                    nextKill = System.nanoTime() + millis(300 + random.nextInt(600));
                }
            }
            assertThat(allTerminal(app)).as("every job reached a terminal state").isTrue();
            List<JobRow> jobs = app.queue().list(new Tx.JobFilter(null, null, JOBS + 10, 0));
            assertThat(jobs).hasSize(JOBS);
            assertThat(jobs).as("no job lost or failed").allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.succeeded));
            assertThat(kills).isEqualTo(KILLS);

            Set<String> stoppedByLeaseLoss = new HashSet<>();
            app.store().read(tx -> tx.ledgerTail(1_000_000)).stream().filter(r -> r.event().equals("job.attempt_stopped"))
                    .map(r -> dev.warden.common.Json.parse(r.entry()))
                    .forEach(e -> stoppedByLeaseLoss.add(e.path("corr_id").asText() + "#" + e.at("/details/attempt").asInt()));
            checkSideEffects(Files.readAllLines(log), jobs, stoppedByLeaseLoss);
            // the registry tells the killed worker processes from the live ones
            List<dev.warden.store.Tx.WorkerRow> registered = app.store().read(dev.warden.store.Tx::workers);
            Set<Long> killed = deathTime.keySet();
            // (a worker killed while its JVM was still starting never got to register)
            assertThat(registered).filteredOn(w -> killed.contains(w.pid())).as("killed workers that had registered")
                    .isNotEmpty();
            assertThat(registered.stream().map(dev.warden.store.Tx.WorkerRow::pid).toList()).as("live workers registered")
                    .containsAll(workers.stream().filter(Process::isAlive).map(Process::pid).toList());
            assertThat(registered).filteredOn(w -> killed.contains(w.pid()))
                    .allSatisfy(w -> assertThat(w.stoppedAt()).as("a SIGKILLed worker never reports a clean stop").isNull());
            assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        }
    }

    private static long millis(long ms) {
        return java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(ms);
    }

    /** Worker pids whose side-effect log has a start line without its end line. */
    private static Set<Long> pidsWithOpenRuns(List<String> lines) {
        Map<String, Long> open = new HashMap<>();
        for (String l : lines) {
            Matcher m = LINE.matcher(l);
            if (!m.matches()) {
                continue; // a line still being written
            }
            String key = m.group(2) + "#" + m.group(3) + "#" + m.group(4);
            if (m.group(1).equals("start")) {
                open.put(key, Long.parseLong(m.group(4)));
            } else {
                open.remove(key);
            }
        }
        return new HashSet<>(open.values());
    }

    private static boolean allTerminal(WardenApp app) {
        Map<JobState, Long> c = app.queue().countByState();
        return c.getOrDefault(JobState.queued, 0L) + c.getOrDefault(JobState.running, 0L) == 0;
    }

    /**
     * A run with a start line and no end line either died with its worker (its side effects end
     * when the process died) or was stopped by its own worker when the lease could no longer be
     * renewed, which the ledger records as {@code job.attempt_stopped}; then its last side effect
     * is its start line, written while the lease was valid.
     */
    private void checkSideEffects(List<String> lines, List<JobRow> jobs, Set<String> stoppedByLeaseLoss) {
        record Run(String job, int attempt, long pid, long start, Long end) {}
        Map<String, Run> open = new HashMap<>();
        List<Run> runs = new ArrayList<>();
        Set<String> startedAttempts = new HashSet<>();
        for (String l : lines) {
            Matcher m = LINE.matcher(l);
            assertThat(m.matches()).as("log line well-formed: %s", l).isTrue();
            String key = m.group(2) + "#" + m.group(3) + "#" + m.group(4);
            if (m.group(1).equals("start")) {
                assertThat(startedAttempts.add(m.group(2) + "#" + m.group(3)))
                        .as("attempt %s of %s started only once", m.group(3), m.group(2)).isTrue();
                open.put(key, new Run(m.group(2), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)),
                        Long.parseLong(m.group(5)), null));
            } else {
                Run r = open.remove(key);
                assertThat(r).as("end without start: %s", l).isNotNull();
                runs.add(new Run(r.job(), r.attempt(), r.pid(), r.start(), Long.parseLong(m.group(5))));
            }
        }
        int interrupted = 0;
        for (Run r : open.values()) {
            Long died = deathTime.get(r.pid());
            if (died == null) {
                assertThat(stoppedByLeaseLoss).as("a run without an end was killed or stopped on lease loss: %s", r)
                        .contains(r.job() + "#" + r.attempt());
                runs.add(new Run(r.job(), r.attempt(), r.pid(), r.start(), r.start()));
            } else {
                runs.add(new Run(r.job(), r.attempt(), r.pid(), r.start(), Math.max(died, r.start())));
                interrupted++;
            }
        }
        assertThat(interrupted).as("workers really were killed mid-job").isPositive();
        Map<String, List<Run>> byJob = new HashMap<>();
        runs.forEach(r -> byJob.computeIfAbsent(r.job(), k -> new ArrayList<>()).add(r));
        for (JobRow j : jobs) {
            List<Run> rs = byJob.getOrDefault(j.id(), List.of());
            assertThat(rs).as("job %s ran", j.id()).isNotEmpty();
            assertThat(rs.stream().filter(r -> lines.contains("end " + r.job() + " attempt=" + r.attempt() + " pid=" + r.pid() + " t=" + r.end())))
                    .as("job %s completed at least once", j.id()).isNotEmpty();
            rs.sort((a, b) -> Long.compare(a.start(), b.start()));
            for (int i = 1; i < rs.size(); i++) {
                assertThat(rs.get(i).start()).as("job %s never ran in two places at once: %s then %s", j.id(),
                        rs.get(i - 1), rs.get(i)).isGreaterThanOrEqualTo(rs.get(i - 1).end());
                assertThat(rs.get(i).attempt()).isGreaterThan(rs.get(i - 1).attempt());
            }
        }
    }

    @Test
    void slotCapacityHoldsAcrossWorkerProcesses() throws Exception {
        Path log = dir.resolve("side-effects.log");
        try (WardenApp app = openApp()) {
            List<JobSpec> specs = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                ObjectNode s = sleepJob(log, 250);
                ((ObjectNode) s.get("budgets")).put("slot", "gpu");
                specs.add(app.parser().parse(s));
            }
            app.queue().enqueueAll(specs, "test");
            // one job at a time per process: reaching the capacity of 2 takes two processes at once,
            // so the peak below can only be 2 if the slot was shared across processes
            for (int i = 0; i < 3; i++) {
                startWorker(List.of("--concurrency", "1"));
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> allTerminal(app));
            List<JobRow> jobs = app.queue().list(new Tx.JobFilter(null, null, 100, 0));
            assertThat(jobs).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.succeeded));
            // from the jobs' own side effects: never more than 2 running at once, across 3 processes
            record Event(long t, int delta) {}
            List<Event> events = new ArrayList<>();
            Set<String> pids = new HashSet<>();
            for (String l : Files.readAllLines(log)) {
                Matcher m = LINE.matcher(l);
                assertThat(m.matches()).isTrue();
                pids.add(m.group(4));
                events.add(new Event(Long.parseLong(m.group(5)), m.group(1).equals("start") ? 1 : -1));
            }
            events.sort((a, b) -> a.t() != b.t() ? Long.compare(a.t(), b.t()) : Integer.compare(a.delta(), b.delta()));
            int running = 0;
            int peak = 0;
            for (Event e : events) {
                running += e.delta();
                peak = Math.max(peak, running);
            }
            assertThat(peak).as("slot gpu has capacity 2").isEqualTo(2);
            assertThat(pids).as("jobs ran in more than one worker process").hasSizeGreaterThan(1);
            // no process ran two at once (concurrency 1): the peak of 2 was two processes sharing the slot
            for (String pid : pids) {
                int own = 0;
                int ownPeak = 0;
                for (String l : Files.readAllLines(log)) {
                    Matcher m = LINE.matcher(l);
                    if (m.matches() && m.group(4).equals(pid)) {
                        own += m.group(1).equals("start") ? 1 : -1;
                        ownPeak = Math.max(ownPeak, own);
                    }
                }
                assertThat(ownPeak).as("process %s ran one job at a time", pid).isEqualTo(1);
            }
        }
    }

    @Test
    void eachScheduledFireEnqueuesOnceWithThreeWorkerProcesses() throws Exception {
        try (WardenApp app = openApp()) {
            app.schedules().add("every-second", "* * * * * *", TestWarden.noop(), true, "one", "test");
            for (int i = 0; i < 3; i++) {
                startWorker();
            }
            // the worker processes are up (registered) before the schedule starts firing
            await().atMost(Duration.ofSeconds(60)).until(() -> app.store().read(Tx::workers).size() >= 3);
            app.schedules().setEnabled("every-second", true, "test");
            await().atMost(Duration.ofSeconds(60)).until(() -> app.queue().list(new Tx.JobFilter(null, null, 100, 0)).size() >= 6);
            app.schedules().setEnabled("every-second", false, "test");
            for (Process p : workers) {
                p.destroy();
                p.waitFor();
            }
            List<JobRow> jobs = app.queue().list(new Tx.JobFilter(null, null, 1000, 0));
            long fired = app.store().read(tx -> tx.ledgerTail(1_000_000)).stream()
                    .filter(r -> r.event().equals("schedule.fired")).count();
            // a fire handled by two nodes would be recorded twice but find its job already there
            assertThat(fired).as("one schedule.fired per job").isEqualTo(jobs.size());
            Set<String> keys = new HashSet<>();
            jobs.forEach(j -> assertThat(keys.add(j.idempotencyKey())).isTrue());
            Set<String> actors = new HashSet<>();
            app.store().read(tx -> tx.ledgerTail(1_000_000)).stream().filter(r -> r.event().equals("schedule.fired"))
                    .forEach(r -> actors.add(dev.warden.common.Json.parse(r.entry()).path("actor").asText()));
            assertThat(actors).as("fired by the worker processes' schedulers").isNotEmpty();
        }
    }

    @Test
    void sigtermLetsTheRunningJobFinishBeforeExit() throws Exception {
        Path log = dir.resolve("side-effects.log");
        try (WardenApp app = openApp()) {
            JobRow job = app.queue().enqueue(app.parser().parse(sleepJob(log, 1500)), "test").job();
            Process w = startWorker();
            await().atMost(Duration.ofSeconds(30)).until(() -> app.queue().get(job.id()).state() == JobState.running);
            w.destroy(); // SIGTERM
            assertThat(w.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            JobRow done = app.queue().get(job.id());
            assertThat(done.state()).isEqualTo(JobState.succeeded);
            assertThat(done.attempts()).isEqualTo(1);
            assertThat(Files.readString(log)).contains("end " + job.id());
            // the node registry saw the worker, and its clean stop
            List<String> args = new ArrayList<>(List.of("--data-dir", dir.resolve("data").toString()));
            storeUrl().ifPresent(u -> args.addAll(List.of("--store", u)));
            args.addAll(List.of("workers", "--json"));
            java.io.StringWriter out = new java.io.StringWriter();
            assertThat(dev.warden.cli.Main.execute(args.toArray(String[]::new), new java.io.PrintWriter(out),
                    new java.io.PrintWriter(new java.io.StringWriter()))).isZero();
            com.fasterxml.jackson.databind.JsonNode workersJson = dev.warden.common.Json.parse(out.toString());
            assertThat(workersJson).anySatisfy(wk -> {
                assertThat(wk.path("pid").asLong()).isEqualTo(w.pid());
                assertThat(wk.path("state").asText()).isEqualTo("stopped");
            });
        }
    }

}
