package dev.warden.bench;

import dev.warden.app.WardenApp;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.worker.WorkerPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * In-process queue scenarios on the embedded SQLite store (ledger always on), each on a fresh
 * temporary data directory:
 * <ul>
 *   <li><b>drain</b>: enqueue N noop jobs in batches (timed on its own), then start a worker pool
 *       and time until all N have succeeded (claim, run, complete, evidence);</li>
 *   <li><b>steady</b>: a worker pool runs while a producer enqueues at a fixed rate; the
 *       enqueue-to-start latency is then not dominated by the backlog.</li>
 * </ul>
 */
final class QueueScenarios {
    static final String NOOP = "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":60,\"tool_calls\":0,\"output_bytes\":1000}}";
    private static final String ACTOR = "bench";
    private static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(5);

    /** {@code drainMs}: until every job row is succeeded; {@code flushedMs}: until the pool stopped, evidence written. */
    record DrainResult(int concurrency, int jobs, double parseMs, double enqueueMs, double drainMs, double flushedMs,
                       Latency latency, LedgerCheck ledger) {}

    record SteadyResult(int concurrency, int targetRate, double achievedRate, int jobs, double tailMs,
                        Latency latency, LedgerCheck ledger) {}

    /** Enqueue-to-start ({@code started_at - created_at}) and run ({@code finished_at - started_at}), in ms. */
    record Latency(long p50, long p99, long max, long runP50, long runP99, int samples, int retried) {}

    record LedgerCheck(boolean ok, long entries, double verifyMs, String problem) {}

    private final Path tmpRoot;
    private final boolean keep;

    QueueScenarios(Path tmpRoot, boolean keep) {
        this.tmpRoot = tmpRoot;
        this.keep = keep;
    }

    // ------------------------------------------------------------------ drain

    DrainResult drain(int jobs, int batch, int concurrency) throws Exception {
        Path dir = dataDir("drain-c" + concurrency, concurrency);
        try (WardenApp app = open(dir)) {
            long t0 = System.nanoTime();
            List<JobSpec> specs = new ArrayList<>(jobs);
            for (int i = 0; i < jobs; i++) {
                specs.add(app.parser().parse(NOOP));
            }
            double parseMs = Stats.elapsedMs(t0);

            long t1 = System.nanoTime();
            for (int i = 0; i < jobs; i += batch) {
                app.queue().enqueueAll(specs.subList(i, Math.min(jobs, i + batch)), ACTOR);
            }
            double enqueueMs = Stats.elapsedMs(t1);
            requireCount(app, JobState.queued, jobs);

            WorkerPool pool = app.newWorkerPool(concurrency);
            long t2 = System.nanoTime();
            pool.start();
            double drainMs;
            try {
                awaitSucceeded(app, jobs);
                drainMs = Stats.elapsedMs(t2);
            } finally {
                pool.shutdown(Duration.ZERO);   // also waits for evidence bundles still being written
            }
            double flushedMs = Stats.elapsedMs(t2);
            return new DrainResult(concurrency, jobs, parseMs, enqueueMs, drainMs, flushedMs, latency(app, jobs),
                    verify(app));
        } finally {
            cleanUp(dir);
        }
    }

    // ------------------------------------------------------------------ steady

    SteadyResult steady(int ratePerSecond, Duration duration, int concurrency) throws Exception {
        Path dir = dataDir("steady-c" + concurrency, concurrency);
        try (WardenApp app = open(dir)) {
            int ticksPerSecond = 100;                       // one enqueue transaction every 10 ms
            int perTick = Math.max(1, ratePerSecond / ticksPerSecond);
            int ticks = (int) (duration.toMillis() * ticksPerSecond / 1000);
            int jobs = perTick * ticks;
            List<JobSpec> specs = new ArrayList<>(jobs);    // parsed up front so the producer keeps its pace
            for (int i = 0; i < jobs; i++) {
                specs.add(app.parser().parse(NOOP));
            }
            WorkerPool pool = app.newWorkerPool(concurrency);
            pool.start();
            double tailMs;
            double achieved;
            try {
                Thread.sleep(200);                          // let the pool reach its idle poll loop
                long periodNanos = 1_000_000_000L / ticksPerSecond;
                long start = System.nanoTime();
                for (int t = 0; t < ticks; t++) {
                    long due = start + t * periodNanos;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    app.queue().enqueueAll(specs.subList(t * perTick, (t + 1) * perTick), ACTOR);
                    pool.wakeUp();                          // what POST /api/jobs does in 'warden up'
                }
                double produceMs = Stats.elapsedMs(start);
                achieved = jobs / (produceMs / 1000.0);
                long tail = System.nanoTime();
                awaitSucceeded(app, jobs);
                tailMs = Stats.elapsedMs(tail);
            } finally {
                pool.shutdown(Duration.ZERO);
            }
            return new SteadyResult(concurrency, ratePerSecond, achieved, jobs, tailMs, latency(app, jobs), verify(app));
        } finally {
            cleanUp(dir);
        }
    }

    // ------------------------------------------------------------------ helpers

    private Path dataDir(String name, int concurrency) throws IOException {
        Path dir = Files.createTempDirectory(tmpRoot, name + "-");
        // poll_ms 50: the idle claim interval; claim_batch defaults to min(concurrency, 64)
        Files.writeString(dir.resolve("warden.yaml"), "node_id: bench\nworker:\n  concurrency: " + concurrency
                + "\n  poll_ms: 50\n");
        return dir;
    }

    private static WardenApp open(Path dir) {
        return WardenApp.open(new WardenApp.Options(dir, Optional.empty(), Optional.empty(), Clock.systemUTC()));
    }

    private static void requireCount(WardenApp app, JobState state, int expected) {
        long n = app.queue().countByState().getOrDefault(state, 0L);
        if (n != expected) {
            throw new IllegalStateException("expected " + expected + " " + state + " jobs, found " + n);
        }
    }

    private static void awaitSucceeded(WardenApp app, int jobs) throws InterruptedException {
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        while (true) {
            Map<JobState, Long> counts = app.queue().countByState();
            long ok = counts.getOrDefault(JobState.succeeded, 0L);
            if (ok >= jobs) {
                return;
            }
            long bad = counts.getOrDefault(JobState.failed, 0L) + counts.getOrDefault(JobState.dead, 0L)
                    + counts.getOrDefault(JobState.cancelled, 0L);
            if (bad > 0 || System.nanoTime() > deadline) {
                throw new IllegalStateException("jobs did not all succeed: " + counts);
            }
            Thread.sleep(50);   // COUNT(*) over every row costs ~2 ms at 20,000 jobs: do not poll harder
        }
    }

    private static Latency latency(WardenApp app, int jobs) {
        List<JobRow> rows = app.queue().list(new Tx.JobFilter(JobState.succeeded, null, 100_000, 0));
        if (rows.size() != jobs) {
            throw new IllegalStateException("listed " + rows.size() + " succeeded jobs, expected " + jobs);
        }
        List<Long> wait = new ArrayList<>(rows.size());
        List<Long> run = new ArrayList<>(rows.size());
        int retried = 0;
        for (JobRow r : rows) {
            wait.add(r.startedAt() - r.createdAt());
            run.add(r.finishedAt() - r.startedAt());
            if (r.attempts() > 1) {
                retried++;   // a noop attempt never fails: this is a lost lease, recovered by the reaper
            }
        }
        return new Latency(Stats.percentile(wait, 50), Stats.percentile(wait, 99), Stats.percentile(wait, 100),
                Stats.percentile(run, 50), Stats.percentile(run, 99), rows.size(), retried);
    }

    private static LedgerCheck verify(WardenApp app) {
        long t = System.nanoTime();
        Ledger.VerifyReport r = Ledger.verify(app.store(), Optional.empty());
        return new LedgerCheck(r.ok(), r.entries(), Stats.elapsedMs(t), r.firstBad().map(Object::toString).orElse(""));
    }

    private void cleanUp(Path dir) {
        if (!keep) {
            Files2.deleteTree(dir);
        }
    }
}
