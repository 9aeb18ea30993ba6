package dev.warden.bench;

import static org.jobrunr.server.BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.configuration.JobRunrConfiguration.JobRunrConfigurationResult;
import org.jobrunr.jobs.lambdas.JobRequest;
import org.jobrunr.jobs.lambdas.JobRequestHandler;
import org.jobrunr.scheduling.JobRequestScheduler;
import org.jobrunr.server.BackgroundJobServer;
import org.jobrunr.storage.StorageProvider;
import org.jobrunr.storage.StorageProviderUtils.DatabaseOptions;
import org.jobrunr.storage.sql.common.SqlStorageProviderFactory;
import org.jobrunr.storage.sql.sqlite.SqLiteStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * JobRunr OSS (org.jobrunr:jobrunr) with its SQL storage provider, chosen by
 * {@code SqlStorageProviderFactory} from the data source (PostgreSQL or SQLite; it creates its
 * tables itself). Jobs are {@link JobRequest}s (no lambda analysis) enqueued with
 * {@code JobRequestScheduler.enqueue(Stream)} per batch (JobRunr saves a stream in one batch of
 * up to 5,000); then a {@code BackgroundJobServer} with {@code threads} workers is started.
 * Completed jobs stay in the table as {@code SUCCEEDED}.
 */
public final class JobRunrScenario implements PeerScenario {
    /**
     * JobRunr refuses a poll interval under 5 s for any database storage
     * ({@code AbstractStorageProvider.validatePollInterval}); the default is 15 s. Under a backlog a
     * worker that becomes idle fetches more work itself, so the interval only bounds the first
     * fetch and the pick-up of work enqueued while the server is idle.
     */
    static final Duration POLL = Duration.ofSeconds(5);

    private final int pool;
    private final boolean sqliteOnly;

    /**
     * {@code pool}: connections in its HikariCP pool; {@code sqliteOnly}: an extra variant run on
     * SQLite only (with one connection JobRunr's transactions cannot collide on SQLite's lock).
     */
    JobRunrScenario(int pool, boolean sqliteOnly) {
        this.pool = pool;
        this.sqliteOnly = sqliteOnly;
    }

    @Override
    public boolean supports(PeerTarget.Kind store) {
        return !sqliteOnly || store == PeerTarget.Kind.SQLITE;
    }

    @Override
    public String unsupportedReason(PeerTarget.Kind store) {
        return null;   // not a limitation of JobRunr: this variant is simply not run there
    }

    /** JobRunr instantiates the handler itself, so it finds the run's recorder here. */
    private static volatile PeerRun.Recorder current;

    /** The job: just the index of the job, for the recorder. Public with a no-arg constructor for JobRunr's JSON. */
    public static final class Noop implements JobRequest {
        public int index;

        public Noop() {}

        Noop(int index) {
            this.index = index;
        }

        @Override
        public Class<NoopHandler> getJobRequestHandler() {
            return NoopHandler.class;
        }
    }

    public static final class NoopHandler implements JobRequestHandler<Noop> {
        public NoopHandler() {}

        @Override
        public void run(Noop job) {
            current.started(job.index);
        }
    }

    @Override
    public String system() {
        return sqliteOnly ? "JobRunr, pool of " + pool + " (extra)" : "JobRunr";
    }

    @Override
    public String version() {
        String v = JobRunr.class.getPackage().getImplementationVersion();
        return v == null ? "?" : v;
    }

    @Override
    public String configuration(PeerTarget.Kind store) {
        return "`andWorkerCount(n)`; `andPollInterval` " + POLL.toSeconds() + " s (the minimum JobRunr accepts; default 15 s); "
                + "Jackson JSON mapper; HikariCP pool of " + pool + "; tables created by JobRunr; everything else default";
    }

    @Override
    public PeerRun.Result run(PeerTarget target, int jobs, int batch, int threads) throws Exception {
        PeerRun.Recorder rec = new PeerRun.Recorder(jobs);
        current = rec;
        try (Connection monitor = target.connect()) {
            if (pool < 2) {
                // JobRunr's DatabaseCreator holds two connections at once: create the tables through
                // a pool of two first, then run on the single connection without re-creating them
                try (HikariDataSource creator = target.pool("jobrunr-create", 2)) {
                    SqlStorageProviderFactory.using(creator);
                }
            }
            HikariDataSource ds = target.pool("jobrunr", pool);
            // with one connection: the SQLite provider itself (the factory holds a connection while it
            // builds the provider) and no table validation (which wants a second connection)
            StorageProvider storage = pool < 2 ? new SqLiteStorageProvider(ds, DatabaseOptions.NO_VALIDATE)
                    : SqlStorageProviderFactory.using(ds);
            JobRunrConfigurationResult jr = JobRunr.configure()
                    .useJsonMapper(new JacksonJsonMapper())
                    .useStorageProvider(storage)
                    .useBackgroundJobServer(usingStandardBackgroundJobServerConfiguration()
                            .andWorkerCount(threads).andPollInterval(POLL), false)
                    .initialize();
            try {
                JobRequestScheduler scheduler = jr.getJobRequestScheduler();
                long t1 = System.nanoTime();
                for (int from = 0; from < jobs; from += batch) {
                    int to = Math.min(jobs, from + batch);
                    rec.enqueued(from, to, System.currentTimeMillis());
                    scheduler.enqueue(IntStream.range(from, to).mapToObj(Noop::new));
                }
                double enqueueMs = Stats.elapsedMs(t1);
                long queued = PeerTarget.count(monitor, "SELECT COUNT(*) FROM jobrunr_jobs WHERE state = 'ENQUEUED'");
                if (queued != jobs) {
                    throw new IllegalStateException("expected " + jobs + " ENQUEUED jobs, found " + queued);
                }

                BackgroundJobServer server = jr.getBackgroundJobServer();
                long t2 = System.nanoTime();
                server.start();
                PeerRun.Drain drain;
                try {
                    drain = PeerRun.awaitDrained(t2, PeerRun.countQuery(monitor,
                            "SELECT COUNT(*) FROM jobrunr_jobs WHERE state IN ('ENQUEUED', 'PROCESSING')"), monitor, jobs);
                } finally {
                    server.stop();
                }
                long succeeded = PeerTarget.count(monitor, "SELECT COUNT(*) FROM jobrunr_jobs WHERE state = 'SUCCEEDED'");
                long other = PeerTarget.count(monitor, "SELECT COUNT(*) FROM jobrunr_jobs WHERE state <> 'SUCCEEDED'");
                List<Long> waits = rec.waits();
                String error = !drain.finished() ? "timed out after " + Stats.secs(drain.ms()) + " with " + succeeded + " succeeded"
                        : other > 0 ? other + " jobs not SUCCEEDED" : null;
                return new PeerRun.Result(system(), version(), target.kind(), jobs, (int) succeeded, enqueueMs,
                        drain.ms(), Stats.percentile(waits, 50), Stats.percentile(waits, 99),
                        Stats.percentile(waits, 100), rec.executions(), rec.duplicates(), "handler entered",
                        drain.cpu(), drain.pg(), drain.checksNote(), error);
            } finally {
                JobRunr.destroy();
                current = null;
            }
        }
    }
}
