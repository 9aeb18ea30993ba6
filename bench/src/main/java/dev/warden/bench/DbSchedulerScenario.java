package dev.warden.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariDataSource;
import java.io.InputStream;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * db-scheduler (com.github.kagkarlsson:db-scheduler) with a one-time task whose handler only
 * records its start. Jobs are scheduled due now with {@code SchedulerClient.scheduleBatch} in
 * batches (one JDBC batch each); then a {@code Scheduler} with {@code threads} executor threads
 * is started. On PostgreSQL it polls with {@code lock-and-fetch} ({@code SELECT … FOR UPDATE SKIP
 * LOCKED}, limits 0.5/1.0 of the threads as in db-scheduler's README); on SQLite with its default
 * ({@code fetch}: select due executions, then pick each with an optimistic-lock update). A
 * completed one-time execution is deleted, so the drain is over when the table is empty.
 */
final class DbSchedulerScenario implements PeerScenario {
    /** Same idle poll interval as Warden's default (db-scheduler's default is 10 s). */
    static final Duration POLL = Duration.ofMillis(WardenPeerScenario.POLL_MS);

    @Override
    public String system() {
        return "db-scheduler";
    }

    @Override
    public String version() {
        try (InputStream in = Scheduler.class.getResourceAsStream(
                "/META-INF/maven/com.github.kagkarlsson/db-scheduler/pom.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "?");
        } catch (Exception e) {
            return "?";
        }
    }

    @Override
    public String configuration(PeerTarget.Kind store) {
        return (store == PeerTarget.Kind.POSTGRESQL ? "`pollUsingLockAndFetch(0.5, 1.0)`" : "default polling (`fetch`, 0.5/3.0)")
                + "; `threads(n)`; `pollingInterval` " + POLL.toMillis() + " ms (default 10 s); HikariCP pool of 8; "
                + "table DDL from db-scheduler's repository; everything else default";
    }

    @Override
    public PeerRun.Result run(PeerTarget target, int jobs, int batch, int threads) throws Exception {
        PeerRun.Recorder rec = new PeerRun.Recorder(jobs);
        OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((inst, ctx) -> rec.started(Integer.parseInt(inst.getId())));
        try (Connection monitor = target.connect()) {
            PeerTarget.execute(monitor, ddl(target.kind()));
            HikariDataSource ds = target.pool("db-scheduler", 8);

            SchedulerClient client = SchedulerClient.Builder.create(ds, noop).build();
            long t1 = System.nanoTime();
            for (int from = 0; from < jobs; from += batch) {
                int to = Math.min(jobs, from + batch);
                List<TaskInstance<?>> instances = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    instances.add(noop.instance(Integer.toString(i)));
                }
                long now = System.currentTimeMillis();
                rec.enqueued(from, to, now);
                client.scheduleBatch(instances, Instant.ofEpochMilli(now));
            }
            double enqueueMs = Stats.elapsedMs(t1);

            SchedulerBuilder b = Scheduler.create(ds, noop).threads(threads).pollingInterval(POLL)
                    .schedulerName(new SchedulerName.Fixed("bench"));
            if (target.kind() == PeerTarget.Kind.POSTGRESQL) {
                b.pollUsingLockAndFetch(0.5, 1.0);
            }
            Scheduler scheduler = b.build();
            long t2 = System.nanoTime();
            scheduler.start();
            PeerRun.Drain drain;
            try {
                drain = PeerRun.awaitDrained(t2, PeerRun.countQuery(monitor, "SELECT COUNT(*) FROM scheduled_tasks"), monitor, jobs);
            } finally {
                scheduler.stop();
            }
            long left = PeerTarget.count(monitor, "SELECT COUNT(*) FROM scheduled_tasks");
            List<Long> waits = rec.waits();
            String error = !drain.finished() ? "timed out after " + Stats.secs(drain.ms()) + " with " + left + " executions left" : null;
            return new PeerRun.Result(system(), version(), target.kind(), jobs, (int) (jobs - left), enqueueMs,
                    drain.ms(), Stats.percentile(waits, 50), Stats.percentile(waits, 99),
                    Stats.percentile(waits, 100), rec.executions(), rec.duplicates(), "handler entered", drain.cpu(),
                    drain.pg(), drain.checksNote(), error);
        }
    }

    /** db-scheduler ships no migrations: these are the tables from its repository's test resources. */
    private static String[] ddl(PeerTarget.Kind store) {
        if (store == PeerTarget.Kind.POSTGRESQL) {
            return new String[] {
                "CREATE TABLE scheduled_tasks (task_name TEXT NOT NULL, task_instance TEXT NOT NULL, task_data BYTEA, "
                        + "execution_time TIMESTAMP WITH TIME ZONE NOT NULL, picked BOOLEAN NOT NULL, picked_by TEXT, "
                        + "last_success TIMESTAMP WITH TIME ZONE, last_failure TIMESTAMP WITH TIME ZONE, "
                        + "consecutive_failures INT, last_heartbeat TIMESTAMP WITH TIME ZONE, version BIGINT NOT NULL, "
                        + "priority SMALLINT, PRIMARY KEY (task_name, task_instance))",
                "CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)",
                "CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)",
                "CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC)"};
        }
        return new String[] {
            "CREATE TABLE scheduled_tasks (task_name VARCHAR(100), task_instance VARCHAR(100), task_data BLOB, "
                    + "execution_time TIMESTAMP, picked BIT, picked_by VARCHAR(50), last_success TIMESTAMP, "
                    + "last_failure TIMESTAMP, consecutive_failures INT, last_heartbeat TIMESTAMP, version BIGINT, "
                    + "priority SMALLINT, PRIMARY KEY (task_name, task_instance))",
            "CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)",
            "CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)",
            "CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC)"};
    }
}
