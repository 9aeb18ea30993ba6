package dev.warden.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/** What one system did in one side-by-side drain, and the helpers every scenario shares. */
final class PeerRun {
    private PeerRun() {}

    /** How long a drain may take before it is reported as unfinished ({@code --peer-timeout}). */
    static volatile Duration drainTimeout = Duration.ofMinutes(3);

    /** How often the progress query runs (on a connection of its own, outside the system's pool). */
    static final long PROGRESS_POLL_MS = 50;

    /**
     * One measured drain. {@code completed} is how many jobs were done when the timing stopped
     * (equal to {@code jobs} unless the drain timed out or failed). Latencies in ms.
     */
    record Result(String system, String version, PeerTarget.Kind store, int jobs, int completed, double enqueueMs,
                  double drainMs, long p50, long p99, long max, int executions, int duplicates, String latencyPoint,
                  String cpu, PgProbe.Summary pg, String notes, String error) {
        boolean ok() {
            return error == null && completed == jobs;
        }

        double jobsPerSecond() {
            return completed / (drainMs / 1000.0);
        }

        double enqueuePerSecond() {
            return jobs / (enqueueMs / 1000.0);
        }

        static Result failed(String system, String version, PeerTarget.Kind store, int jobs, String error) {
            return new Result(system, version, store, jobs, 0, Double.NaN, Double.NaN, -1, -1, -1, 0, 0, "", "", null, "", error);
        }
    }

    /**
     * Enqueue and start times of each job (wall clock, ms), for systems whose handler we write:
     * the enqueue time is taken just before the job's batch is handed to the system, the start
     * time when the handler is entered. A second start of the same job counts as a duplicate.
     */
    static final class Recorder {
        private final long[] enqueuedAt;
        private final AtomicLongArray startedAt;
        private final AtomicInteger executions = new AtomicInteger();
        private final AtomicInteger duplicates = new AtomicInteger();

        Recorder(int jobs) {
            this.enqueuedAt = new long[jobs];
            this.startedAt = new AtomicLongArray(jobs);
        }

        void enqueued(int from, int to, long at) {
            for (int i = from; i < to; i++) {
                enqueuedAt[i] = at;
            }
        }

        void started(int index) {
            long now = System.currentTimeMillis();
            executions.incrementAndGet();
            if (!startedAt.compareAndSet(index, 0, now)) {
                duplicates.incrementAndGet();
            }
        }

        int executions() {
            return executions.get();
        }

        int duplicates() {
            return duplicates.get();
        }

        /** Enqueue-to-start of every job that started. */
        List<Long> waits() {
            List<Long> w = new ArrayList<>(enqueuedAt.length);
            for (int i = 0; i < enqueuedAt.length; i++) {
                long s = startedAt.get(i);
                if (s != 0) {
                    w.add(s - enqueuedAt[i]);
                }
            }
            return w;
        }
    }

    /**
     * A drain's wall time since the workers were started ({@code ms}; {@code finished} false at the
     * timeout), the CPU shares meanwhile (this JVM / the PostgreSQL server / everything else), what
     * the PostgreSQL backends did ({@code pg}, null on SQLite) and how many progress queries ran
     * and their mean time.
     */
    record Drain(double ms, boolean finished, String cpu, PgProbe.Summary pg, int checks, double checkMeanMs) {
        String checksNote() {
            return String.format(java.util.Locale.ROOT, "%d progress checks, mean %.1f ms", checks, checkMeanMs);
        }
    }

    /**
     * Waits until {@code remaining} reports 0. The progress query is the only load the harness adds,
     * so it runs rarely while much work is left and every {@link #PROGRESS_POLL_MS} near the end:
     * the next check is due after a twentieth of the estimated time left (50 ms to 1 s). On
     * PostgreSQL, {@code monitor} also samples the system's backends every {@link #PROGRESS_POLL_MS}
     * ({@link PgProbe}); on SQLite it is not used.
     */
    static Drain awaitDrained(long startNanos, LongSupplier remaining, Connection monitor, int jobs)
            throws InterruptedException {
        CpuMonitor cpu = CpuMonitor.start("postgres");
        PgProbe probe = PgProbe.start(monitor);
        long deadline = startNanos + drainTimeout.toNanos();
        long nextCheck = 0;
        int checks = 0;
        double checkMs = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextCheck) {
                long q = System.nanoTime();
                long left = remaining.getAsLong();
                checkMs += Stats.elapsedMs(q);
                checks++;
                if (left == 0 || now > deadline) {
                    double ms = Stats.elapsedMs(startNanos);
                    return new Drain(ms, left == 0, cpu.shares(), probe == null ? null : probe.finish(jobs), checks,
                            checkMs / checks);
                }
                nextCheck = System.nanoTime() + (long) (nextCheckMs(jobs, left, Stats.elapsedMs(startNanos)) * 1e6);
            }
            if (probe != null) {
                probe.sample();
            }
            Thread.sleep(PROGRESS_POLL_MS);
        }
    }

    /**
     * When the next progress check is due, in ms: a twentieth of the estimated time left, from 50 ms
     * ({@link #PROGRESS_POLL_MS}) to 1 s. Until a twentieth of the jobs is done there is no estimate
     * to trust, so every 50 ms: an estimate from the first few jobs (or from one assumed job, when
     * none was done) put the next check a second later, and a drain that took less than a second
     * (the floor's on SQLite) was timed as a second.
     */
    static double nextCheckMs(int jobs, long left, double elapsedMs) {
        long done = jobs - Math.min(jobs, left);
        if (done < jobs / 20.0) {
            return PROGRESS_POLL_MS;
        }
        double etaMs = left * (elapsedMs / done);
        return Math.min(1000, Math.max(PROGRESS_POLL_MS, etaMs / 20));
    }

    /** A progress query on a dedicated connection; a failing query is reported as work remaining. */
    static LongSupplier countQuery(Connection c, String sql) {
        return () -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            } catch (SQLException e) {
                System.err.println("bench: progress query failed: " + e.getMessage());
                return Long.MAX_VALUE;
            }
        };
    }

    static List<Long> longs(Connection c, String sql) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    static void progress(String what) {
        System.err.println("bench: " + what + " ...");
    }
}
