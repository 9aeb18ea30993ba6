package dev.warden.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
 *   <li>turns: one thread; each turn is one transaction that records every completion handed in
 *       since the last turn (a JDBC batch of {@code UPDATE}s) and claims for the free room (at most
 *       {@code min(4 × threads, 64)} per turn, the pool holding at most 4 × threads jobs, as Warden's
 *       does while jobs are short) with one statement:
 *       {@code UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING} on PostgreSQL; on
 *       SQLite the same without the lock clause inside {@code BEGIN IMMEDIATE} on the single writer connection;</li>
 *   <li>run: a virtual thread per job that waits for one of the {@code threads} slots and does nothing;
 *       its room is free when it ends, its completion goes in the next turn.</li>
 * </ul>
 * Enqueue-to-start is {@code started_at - created_at}, both written by the loop (claim time), as for Warden.
 *
 * <p>With a ledger ({@link #withLedger}) the same loop also keeps the least a queue under SPEC
 * section 3 must: for every state change (enqueued, claimed, succeeded) one entry, its canonical
 * JSON envelope hashed with SHA-256 over the previous entry's hash, stored in the transaction of the
 * change, and the chain's head moved once per transaction ({@link MinimalLedger}). It prices the
 * contract, so that Warden's distance from the plain floor can be split into what any queue that
 * keeps that ledger pays and what Warden's own code adds.
 */
final class RawJdbcFloor implements PeerScenario {
    private static final int POLL_MS = WardenPeerScenario.POLL_MS;
    /** The lease a claimed entry records (Warden's default). */
    private static final long LEASE_MS = 60_000;
    static final String SYSTEM = "raw JDBC floor";

    private final boolean ledger;

    private RawJdbcFloor(boolean ledger) {
        this.ledger = ledger;
    }

    /** The plain floor: no ledger. */
    static RawJdbcFloor plain() {
        return new RawJdbcFloor(false);
    }

    /** The floor that also keeps a minimal hash-chained ledger (an entry per state change). */
    static RawJdbcFloor withLedger() {
        return new RawJdbcFloor(true);
    }

    /** Whether a reported system is one of the floors (not a peer). */
    static boolean isFloor(String system) {
        return system.startsWith(SYSTEM);
    }

    @Override
    public String system() {
        return ledger ? SYSTEM + " + minimal ledger" : SYSTEM;
    }

    @Override
    public String version() {
        return "-";
    }

    @Override
    public String configuration(PeerTarget.Kind store) {
        String loop = store == PeerTarget.Kind.POSTGRESQL
                ? "HikariCP pool of 8; claim `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`"
                : "one writer connection (as Warden); claim `UPDATE … RETURNING` in `BEGIN IMMEDIATE`";
        return loop + "; " + (ledger ? MinimalLedger.describe(store) : "no ledger");
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
            MinimalLedger chain = ledger ? MinimalLedger.create(monitor, pg) : null;
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
                        if (chain != null) {
                            chain.append(c, enqueued(c, n), now);
                        }
                        return null;
                    });
                }
                double enqueueMs = Stats.elapsedMs(t1);

                Loop loop = new Loop(db, pg, chain, threads, dev.warden.worker.WorkerPool.claimBatch(java.util.OptionalInt.empty(), threads), jobs);
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
                        drain.cpu(), drain.pg(), chain == null ? "" : chain.note(monitor), error);
            }
        }
    }

    /** The entries of a batch just inserted: the last {@code n} ids (the enqueue is the only writer then). */
    private static List<MinimalLedger.Draft> enqueued(Connection c, int n) throws SQLException {
        List<MinimalLedger.Draft> drafts = new ArrayList<>(n);
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM floor_jobs ORDER BY id DESC LIMIT ?")) {
            ps.setInt(1, n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    drafts.add(MinimalLedger.enqueued(rs.getLong(1)));
                }
            }
        }
        java.util.Collections.reverse(drafts);
        return drafts;
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

    /**
     * Warden's dispatcher loop without Warden: one thread, each turn one transaction that records the
     * completions handed in since the last turn and claims for the free room (the pool holds up to
     * four times its threads: the rest wait for a thread, as Warden's pool does while jobs are short).
     */
    private static final class Loop {
        private final Db db;
        private final boolean pg;
        private final MinimalLedger chain;
        private final int claimBatch;
        private final int limit;
        private final int jobs;
        private final Semaphore threads;
        private final AtomicInteger inHand = new AtomicInteger();
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final LinkedBlockingQueue<Long> finished = new LinkedBlockingQueue<>();
        private final ExecutorService runners = Executors.newVirtualThreadPerTaskExecutor();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger executions = new AtomicInteger();
        volatile String failure;
        private Thread dispatcher;

        Loop(Db db, boolean pg, MinimalLedger chain, int threads, int claimBatch, int jobs) {
            this.db = db;
            this.pg = pg;
            this.chain = chain;
            this.claimBatch = claimBatch;
            this.limit = dev.warden.worker.WorkerPool.MAX_HOLD * threads;
            this.jobs = jobs;
            this.threads = new Semaphore(threads, true);
        }

        void start() {
            dispatcher = Thread.ofPlatform().daemon().name("floor-dispatch").start(this::loop);
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            dispatcher.join(10_000);
            runners.close();
        }

        private void loop() {
            List<Long> done = new ArrayList<>(512);
            boolean backlog = true;
            long nextPoll = System.nanoTime();
            while (!stopping.get() && completed.get() < jobs) {
                try {
                    finished.drainTo(done, 512);
                    int want = 0;
                    if (backlog || !done.isEmpty() || System.nanoTime() - nextPoll >= 0) {
                        want = Math.max(0, Math.min(claimBatch, limit - inHand.get()));
                    }
                    if (done.isEmpty() && want == 0) {
                        Long first = finished.poll(backlog ? 100 : Math.max(1, (nextPoll - System.nanoTime()) / 1_000_000),
                                TimeUnit.MILLISECONDS);
                        if (first != null) {
                            done.add(first);
                        }
                        continue;
                    }
                    inHand.addAndGet(want);
                    done.sort(Long::compare);
                    int claimWant = want;
                    List<Long> ids = db.tx(c -> {
                        long now = System.currentTimeMillis();
                        complete(c, done, now);
                        List<Long> claimed = claimWant > 0 ? claim(c, claimWant, now) : List.<Long>of();
                        if (chain != null) {
                            List<MinimalLedger.Draft> drafts = new ArrayList<>(done.size() + claimed.size());
                            done.forEach(id -> drafts.add(MinimalLedger.succeeded(id)));
                            claimed.forEach(id -> drafts.add(MinimalLedger.claimed(id, now + LEASE_MS)));
                            chain.append(c, drafts, now);
                        }
                        return claimed;
                    });
                    completed.addAndGet(done.size());
                    done.clear();
                    inHand.addAndGet(ids.size() - want);
                    if (want > 0) {
                        backlog = ids.size() == want;
                        if (!backlog) {
                            nextPoll = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(POLL_MS);
                        }
                    }
                    for (long id : ids) {
                        runners.execute(() -> runOne(id));
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (SQLException | RuntimeException e) {
                    failure = "turn failed: " + e;
                    return;
                }
            }
        }

        private void complete(Connection c, List<Long> ids, long now) throws SQLException {
            if (ids.isEmpty()) {
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE floor_jobs SET state = 2, finished_at = ? WHERE id = ? AND state = 1")) {
                for (long id : ids) {
                    ps.setLong(1, now);
                    ps.setLong(2, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }

        private List<Long> claim(Connection c, int max, long now) throws SQLException {
            String sql = "UPDATE floor_jobs SET state = 1, started_at = ? WHERE id IN (SELECT id FROM floor_jobs "
                    + "WHERE state = 0 ORDER BY id LIMIT ?" + (pg ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING id";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, now);
                ps.setInt(2, max);
                List<Long> ids = new ArrayList<>(max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
                return ids;
            }
        }

        private void runOne(long id) {
            threads.acquireUninterruptibly(); // claimed ahead: wait for a thread
            try {
                executions.incrementAndGet(); // the noop job itself
            } finally {
                threads.release();
                finished.add(id);
                inHand.decrementAndGet();
            }
        }
    }
}
