package dev.warden.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The floor a durable queue cannot beat on this machine: the same loop as Warden's worker pool,
 * with the same batching, but raw JDBC on a minimal table, no ledger, no evidence, no policy.
 * <ul>
 *   <li>enqueue: one transaction per batch, a JDBC batch of {@code INSERT}s (the noop spec JSON as payload);</li>
 *   <li>claim: one thread claims up to the free slots (at most {@code min(threads, 64)}, gathering at
 *       least half a batch for up to 10 ms under a backlog, as Warden does) with one statement:
 *       {@code UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING} on PostgreSQL; on
 *       SQLite the same without the lock clause inside {@code BEGIN IMMEDIATE} on the single writer connection;</li>
 *   <li>run: a virtual thread per job that does nothing;</li>
 *   <li>complete: group commit, one thread writes every waiting completion in one transaction
 *       (a JDBC batch of {@code UPDATE}s); a slot is free again once its completion committed.</li>
 * </ul>
 * Enqueue-to-start is {@code started_at - created_at}, both written by the loop (claim time), as for Warden.
 */
final class RawJdbcFloor implements PeerScenario {
    private static final int POLL_MS = WardenPeerScenario.POLL_MS;

    @Override
    public String system() {
        return "raw JDBC floor";
    }

    @Override
    public String version() {
        return "-";
    }

    @Override
    public String configuration(PeerTarget.Kind store) {
        return store == PeerTarget.Kind.POSTGRESQL
                ? "HikariCP pool of 8; claim `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`; no ledger"
                : "one writer connection (as Warden); claim `UPDATE … RETURNING` in `BEGIN IMMEDIATE`; no ledger";
    }

    /** How the loop reaches the database: a pool on PostgreSQL, the one writer connection on SQLite. */
    private interface Db extends AutoCloseable {
        <T> T tx(SqlWork<T> work) throws SQLException;

        @Override
        void close() throws SQLException;
    }

    private interface SqlWork<T> {
        T apply(Connection c) throws SQLException;
    }

    @Override
    public PeerRun.Result run(PeerTarget target, int jobs, int batch, int threads) throws Exception {
        boolean pg = target.kind() == PeerTarget.Kind.POSTGRESQL;
        try (Connection monitor = target.connect()) {
            PeerTarget.execute(monitor,
                    "CREATE TABLE floor_jobs (id " + (pg ? "BIGSERIAL" : "INTEGER") + " PRIMARY KEY, payload TEXT NOT NULL, "
                            + "state SMALLINT NOT NULL, created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT)",
                    "CREATE INDEX floor_claim ON floor_jobs (id) WHERE state = 0");
            try (Db db = pg ? pooled(target.pool("floor", 8)) : single(target.connect())) {
                long t1 = System.nanoTime();
                for (int from = 0; from < jobs; from += batch) {
                    int n = Math.min(jobs, from + batch) - from;
                    db.tx(c -> {
                        long now = System.currentTimeMillis();
                        try (PreparedStatement ps = c.prepareStatement(
                                "INSERT INTO floor_jobs (payload, state, created_at) VALUES (?, 0, ?)")) {
                            for (int i = 0; i < n; i++) {
                                ps.setString(1, QueueScenarios.NOOP);
                                ps.setLong(2, now);
                                ps.addBatch();
                            }
                            ps.executeBatch();
                        }
                        return null;
                    });
                }
                double enqueueMs = Stats.elapsedMs(t1);

                Loop loop = new Loop(db, pg, threads, Math.min(threads, 64), jobs);
                long t2 = System.nanoTime();
                loop.start();
                PeerRun.Drain drain;
                try {
                    drain = PeerRun.awaitDrained(t2, () -> jobs - loop.completed.get(), monitor, jobs);
                } finally {
                    loop.stop();
                }
                List<Long> waits = PeerRun.longs(monitor, "SELECT started_at - created_at FROM floor_jobs WHERE state = 2");
                String error = loop.failure != null ? loop.failure
                        : !drain.finished() ? "timed out after " + Stats.secs(drain.ms()) : null;
                return new PeerRun.Result(system(), version(), target.kind(), jobs, loop.completed.get(), enqueueMs,
                        drain.ms(), Stats.percentile(waits, 50), Stats.percentile(waits, 99),
                        Stats.percentile(waits, 100), loop.executions.get(), 0, "claim (`started_at`)",
                        drain.cpu(), drain.pg(), "", error);
            }
        }
    }

    private static Db pooled(HikariDataSource ds) {
        return new Db() {
            @Override
            public <T> T tx(SqlWork<T> work) throws SQLException {
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    try {
                        T r = work.apply(c);
                        c.commit();
                        return r;
                    } catch (SQLException | RuntimeException e) {
                        c.rollback();
                        throw e;
                    } finally {
                        c.setAutoCommit(true);
                    }
                }
            }

            @Override
            public void close() {
                // the pool belongs to the target
            }
        };
    }

    /** SQLite: one connection, explicit {@code BEGIN IMMEDIATE}, writers serialized by a lock (as Warden's store). */
    private static Db single(Connection c) {
        ReentrantLock lock = new ReentrantLock();
        return new Db() {
            @Override
            public <T> T tx(SqlWork<T> work) throws SQLException {
                lock.lock();
                try (var s = c.createStatement()) {
                    s.execute("BEGIN IMMEDIATE");
                    try {
                        T r = work.apply(c);
                        s.execute("COMMIT");
                        return r;
                    } catch (SQLException | RuntimeException e) {
                        s.execute("ROLLBACK");
                        throw e;
                    }
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void close() throws SQLException {
                c.close();
            }
        };
    }

    /** The claim → run → group-commit loop. */
    private static final class Loop {
        private final Db db;
        private final boolean pg;
        private final int claimBatch;
        private final int jobs;
        private final Semaphore permits;
        private final Object wake = new Object();
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
        private final ExecutorService runners = Executors.newVirtualThreadPerTaskExecutor();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger executions = new AtomicInteger();
        volatile String failure;
        private Thread claimer;
        private Thread completer;

        private record Pending(long id, CompletableFuture<Void> done) {}

        Loop(Db db, boolean pg, int threads, int claimBatch, int jobs) {
            this.db = db;
            this.pg = pg;
            this.claimBatch = claimBatch;
            this.jobs = jobs;
            this.permits = new Semaphore(threads);
        }

        void start() {
            completer = Thread.ofPlatform().daemon().name("floor-completer").start(this::completeLoop);
            claimer = Thread.ofPlatform().daemon().name("floor-claims").start(this::claimLoop);
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            synchronized (wake) {
                wake.notifyAll();
            }
            claimer.join(10_000);
            runners.close();
            completer.join(10_000);
        }

        private void claimLoop() {
            boolean lastFull = false;
            while (!stopping.get() && completed.get() < jobs) {
                try {
                    if (!permits.tryAcquire(POLL_MS, TimeUnit.MILLISECONDS)) {
                        continue;
                    }
                    if (lastFull && claimBatch > 1) {
                        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
                        while (permits.availablePermits() < claimBatch / 2 - 1 && System.nanoTime() < until) {
                            Thread.sleep(1);
                        }
                    }
                    int got = 1;
                    while (got < claimBatch && permits.tryAcquire()) {
                        got++;
                    }
                    List<Long> ids = claim(got);
                    permits.release(got - ids.size());
                    for (long id : ids) {
                        runners.execute(() -> runOne(id));
                    }
                    lastFull = ids.size() == got;
                    if (ids.size() < got) {
                        synchronized (wake) {
                            wake.wait(POLL_MS);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (SQLException | RuntimeException e) {
                    failure = "claim failed: " + e;
                    return;
                }
            }
        }

        private List<Long> claim(int max) throws SQLException {
            return db.tx(c -> {
                String sql = "UPDATE floor_jobs SET state = 1, started_at = ? WHERE id IN (SELECT id FROM floor_jobs "
                        + "WHERE state = 0 ORDER BY id LIMIT ?" + (pg ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING id";
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setLong(1, System.currentTimeMillis());
                    ps.setInt(2, max);
                    List<Long> ids = new ArrayList<>(max);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            ids.add(rs.getLong(1));
                        }
                    }
                    return ids;
                }
            });
        }

        private void runOne(long id) {
            executions.incrementAndGet();   // the noop job itself
            CompletableFuture<Void> done = new CompletableFuture<>();
            pending.add(new Pending(id, done));
            try {
                done.join();
            } catch (RuntimeException e) {
                // recorded as failure by the completer
            } finally {
                permits.release();
                synchronized (wake) {
                    wake.notifyAll();
                }
            }
        }

        private void completeLoop() {
            List<Pending> batch = new ArrayList<>(512);
            while (!stopping.get() || !pending.isEmpty()) {
                try {
                    Pending first = pending.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    pending.drainTo(batch, 511);
                    batch.sort((a, b) -> Long.compare(a.id(), b.id()));
                    db.tx(c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "UPDATE floor_jobs SET state = 2, finished_at = ? WHERE id = ? AND state = 1")) {
                            long now = System.currentTimeMillis();
                            for (Pending p : batch) {
                                ps.setLong(1, now);
                                ps.setLong(2, p.id());
                                ps.addBatch();
                            }
                            ps.executeBatch();
                        }
                        return null;
                    });
                    completed.addAndGet(batch.size());
                    batch.forEach(p -> p.done().complete(null));
                } catch (InterruptedException e) {
                    return;
                } catch (SQLException | RuntimeException e) {
                    failure = "complete failed: " + e;
                    batch.forEach(p -> p.done().completeExceptionally(e));
                } finally {
                    batch.clear();
                }
            }
        }
    }
}
