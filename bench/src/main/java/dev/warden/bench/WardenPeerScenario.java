package dev.warden.bench;

import dev.warden.app.WardenApp;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.worker.WorkerPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Warden, in process, exactly as {@link QueueScenarios#drain} drives it, on the given store:
 * {@code queue().enqueueAll()} in batches, then {@code newWorkerPool(threads).start()}, with the
 * store's upkeep threads {@code warden worker} starts ({@code startStoreMaintenance}). The ledger
 * is on (it always is); after the drain it is verified and its entries counted. Evidence is as in
 * production: a noop job that succeeded wrote no file, so its bundle is rendered when first read
 * (not during the drain); bundles of failed jobs are written by the pool's background writer.
 */
final class WardenPeerScenario implements PeerScenario {
    /** Warden's shipped default idle poll interval ({@code worker.poll_ms}). */
    static final int POLL_MS = 200;

    private final Path tmpRoot;

    WardenPeerScenario(Path tmpRoot) {
        this.tmpRoot = tmpRoot;
    }

    @Override
    public String system() {
        return "Warden";
    }

    @Override
    public String version() {
        String v = WardenApp.class.getPackage().getImplementationVersion();
        return v == null ? "working tree" : v;
    }

    @Override
    public String configuration(PeerTarget.Kind store) {
        int hold = dev.warden.worker.WorkerPool.MAX_HOLD;
        return "ledger on; `worker.concurrency` = threads, `poll_ms` " + POLL_MS + " (default), claim batch "
                + hold + " × min(concurrency, 8) (default), up to " + (hold - 1) + " × concurrency jobs claimed ahead while jobs are short "
                + "(noop jobs; fewer as handlers take longer: about 750 ms of them per slot); "
                + (store == PeerTarget.Kind.POSTGRESQL
                ? "HikariCP pool of 8 (fixed in `WardenApp.openStore`); the ledger's corr_id index written behind the appends by "
                + "the background thread `warden worker` runs (`LedgerIndexer`); evidence of a job that succeeded without a file is rendered on first read"
                : "one writer connection + up to 4 readers (fixed in `SqliteStore`); WAL checkpoints on the background thread "
                + "`warden worker` runs (`WalCheckpointer`); evidence of a job that succeeded without a file is rendered on first read");
    }

    @Override
    public PeerRun.Result run(PeerTarget target, int jobs, int batch, int threads) throws Exception {
        Path dir = Files.createTempDirectory(tmpRoot, "warden-" + target.kind().name().toLowerCase() + "-");
        Files.writeString(dir.resolve("warden.yaml"), "node_id: bench\nworker:\n  concurrency: " + threads
                + "\n  poll_ms: " + POLL_MS + "\n");
        try (WardenApp app = WardenApp.open(new WardenApp.Options(dir, Optional.of(target.wardenStoreUrl()),
                Optional.empty(), Clock.systemUTC())); Connection monitor = target.connect()) {
            app.startStoreMaintenance(); // as `warden worker` and `warden up` do
            List<JobSpec> specs = new ArrayList<>(jobs);
            for (int i = 0; i < jobs; i++) {
                specs.add(app.parser().parse(QueueScenarios.NOOP));
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < jobs; i += batch) {
                app.queue().enqueueAll(specs.subList(i, Math.min(jobs, i + batch)), "bench");
            }
            double enqueueMs = Stats.elapsedMs(t1);

            WorkerPool pool = app.newWorkerPool(threads);
            long t2 = System.nanoTime();
            pool.start();
            PeerRun.Drain drain;
            try {
                // each state counted through its own partial index (an IN over both would scan the table)
                drain = PeerRun.awaitDrained(t2, PeerRun.countQuery(monitor, "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'queued') "
                        + "+ (SELECT COUNT(*) FROM jobs WHERE state = 'running')"), monitor, jobs);
            } finally {
                pool.shutdown(Duration.ZERO);
            }
            Map<JobState, Long> counts = app.queue().countByState();
            int succeeded = counts.getOrDefault(JobState.succeeded, 0L).intValue();
            List<JobRow> rows = app.queue().list(new Tx.JobFilter(JobState.succeeded, null, jobs + 1, 0));
            List<Long> waits = new ArrayList<>(rows.size());
            int retried = 0;
            for (JobRow r : rows) {
                waits.add(r.startedAt() - r.createdAt());
                retried += r.attempts() > 1 ? 1 : 0;
            }
            Ledger.VerifyReport lv = Ledger.verify(app.store(), Optional.empty());
            String notes = "ledger: " + Stats.num(lv.entries()) + " entries, verify "
                    + (lv.ok() ? "OK" : "**BAD** " + lv.firstBad().map(Object::toString).orElse(""))
                    + (retried > 0 ? "; **" + retried + " jobs ran more than once** (lease lost)" : "");
            String error = !drain.finished() ? "timed out after " + Stats.secs(drain.ms()) + ": " + counts : null;
            return new PeerRun.Result(system(), version(), target.kind(), jobs, succeeded, enqueueMs, drain.ms(),
                    Stats.percentile(waits, 50), Stats.percentile(waits, 99), Stats.percentile(waits, 100),
                    rows.size() + retried, retried, "claim (`started_at`)", drain.cpu(), drain.pg(),
                    notes + "; " + drain.checksNote(), error);
        } finally {
            Files2.deleteTree(dir);
        }
    }
}
