package dev.warden.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.exec.Sandbox;
import dev.warden.job.JobFailure;
import dev.warden.job.JobKind;
import dev.warden.job.KindRegistry;
import dev.warden.ledger.EventDraft;
import dev.warden.policy.OperatorPolicy;
import dev.warden.queue.ClaimResult;
import dev.warden.queue.Outcome;
import dev.warden.queue.Queue;
import dev.warden.store.JobRow;
import dev.warden.store.Tx.LeaseView;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims jobs under a lease and runs each on a virtual thread through a {@link GovernedJobContext}.
 * A control loop heartbeats the leases, applies cancellations, the kill switch and wall-time
 * budgets, and reaps leases that other (dead) workers left behind.
 */
public final class WorkerPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    private final Queue queue;
    private final KindRegistry kinds;
    private final Evidence evidence;
    private final WorkerSettings settings;
    private final String owner;
    private final Clock clock;
    /** Worker slots: an attempt's handler holds one while it runs (at most {@code concurrency} at once). */
    private final Semaphore permits;
    /** Jobs claimed whose handler has not ended yet: running, or waiting for a slot (claimed ahead). */
    private final java.util.concurrent.atomic.AtomicInteger inHand = new java.util.concurrent.atomic.AtomicInteger();
    /** Recent handler durations, exponentially weighted (ms); NaN until the first attempt ended. */
    private volatile double recentRunMs = Double.NaN;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Dispatcher dispatcher;
    private final EvidenceWriter evidenceWriter;
    private final GovernedJobContext.Isolation isolation;
    private volatile long lastHeartbeatOk;
    private volatile long lastReap;
    private volatile long lastRegistered;
    private final long startedAtMillis;
    /** Claims are made by the dispatcher once {@link #start} was called (not in {@link #drainOnce}). */
    private volatile boolean started;
    private Thread control;

    /** One attempt in progress. {@code stop} is set once, by whoever decides it must end. */
    private static final class Running {
        final JobRow job;
        final AtomicReference<JobFailure> stop = new AtomicReference<>();
        final AtomicBoolean settled = new AtomicBoolean();
        /** The attempt holds a worker slot (its handler started); released once, by {@link #settle}. */
        final AtomicBoolean slot = new AtomicBoolean();
        /** The outcome is in the store: until then the lease is still renewed. */
        volatile boolean committed;
        volatile Thread thread;
        volatile long stopRequestedAt;
        volatile long deadline;
        /** Local bound on the lease: strictly before the stored expiry, moved forward by each heartbeat. */
        volatile long leaseDeadline;
        final long startedAt;
        volatile dev.warden.policy.BudgetMeter meter;

        Running(JobRow job, long startedAt, long leaseDeadline) {
            this.job = job;
            this.startedAt = startedAt;
            this.leaseDeadline = leaseDeadline;
        }
    }

    private final Path workRoot;
    private final OperatorPolicy operator;
    private final java.util.Set<String> slots;
    private final java.util.function.Supplier<dev.warden.model.Router> models;

    public WorkerPool(Queue queue, KindRegistry kinds, Evidence evidence, WorkerSettings settings, String owner,
                      OperatorPolicy operator, java.util.Set<String> slots, Optional<Sandbox.Bwrap> bwrap, Path workRoot,
                      java.util.function.Supplier<dev.warden.model.Router> models) {
        this.models = models;
        this.operator = operator;
        this.slots = slots;
        this.workRoot = workRoot;
        this.queue = queue;
        this.kinds = kinds;
        this.evidence = evidence;
        this.settings = settings;
        this.owner = owner;
        this.clock = queue.clock();
        this.permits = new Semaphore(settings.concurrency(), true); // fair: jobs claimed ahead start in claim order
        this.dispatcher = new Dispatcher(queue, owner, new PoolSlots(), claimBatch(settings.claimBatch(), settings.concurrency()),
                settings.pollInterval());
        this.evidenceWriter = new EvidenceWriter(evidence, 2);
        this.isolation = switch (operator.isolation()) {
            case none -> new GovernedJobContext.Isolation(Optional.of(new Sandbox.None()), null);
            case bwrap -> new GovernedJobContext.Isolation(bwrap.map(b -> (Sandbox) b),
                    "isolation required by the operator policy but bubblewrap (bwrap) was not found in /usr/bin, "
                            + "/usr/local/bin or /bin; install it (apt-get install bubblewrap), or set policy.isolation: none "
                            + "to run unisolated");
        };
        this.lastHeartbeatOk = clock.millis();
        this.startedAtMillis = clock.millis();
    }

    public String owner() {
        return owner;
    }

    public int runningCount() {
        return running.size();
    }

    /** Evidence bundles not yet written (they trail the outcomes they describe). */
    public int evidenceBacklog() {
        return evidenceWriter.backlog();
    }

    public void start() {
        register(null);
        started = true;
        control = Thread.ofPlatform().daemon().name("warden-control").start(this::controlLoop);
        dispatcher.wake();
    }

    /** Signals the dispatcher that work may be waiting (after a local enqueue). */
    public void wakeUp() {
        dispatcher.wake();
    }

    // ------------------------------------------------------------------ claiming

    /**
     * Jobs beyond the free worker slots claimed in one turn, while jobs are short: they wait (leased,
     * their leases renewed) for the next slot, so a turn claims for the slots that will be free by the
     * time its transaction commits, not only for those free when it began, and each turn carries more
     * jobs. Long jobs are never claimed ahead: a job must not sit leased on one worker while another
     * could run it. Jobs are short when the recent handler time is at most this.
     */
    static final double CLAIM_AHEAD_BELOW_MS = 50;

    /**
     * About how long a job claimed ahead waits for its slot at most: a pool holds {@link #holdFactor}
     * times its slots, so that the jobs ahead of it take about this long (fifteen jobs of 50 ms).
     */
    static final double CLAIM_AHEAD_WAIT_MS = 750;

    /**
     * The most times its slots a pool holds (while its jobs take about 12 ms or less). More per turn
     * means fewer turns (commits, statements, round trips) per job. Measured on noop drains of 50,000
     * jobs, three rounds each, alternated: on PostgreSQL 64× drained about 1.35× as fast as 16×
     * (medians 8,600 against 6,400 jobs/s) and 32× about 1.25×; before that, 16× was 1.09–1.27× as
     * fast as 8× once a turn's outcomes and claim were one statement (session 7, with a statement
     * per outcome, found it no faster); on SQLite 16× drained 1.37× as fast as 8×; 4× was 1.25–1.75×
     * as fast as 2×, and 8× 1.1–1.35× as fast as 4×, on both stores.
     */
    public static final int MAX_HOLD = 64;

    /**
     * How many times its slots a pool holds after handlers took {@code recentMs} (an exponentially
     * weighted mean; NaN before the first): 1 for long jobs or none yet, else 1 + {@link
     * #CLAIM_AHEAD_WAIT_MS} ÷ that, at most {@link #MAX_HOLD} (16 at the 50 ms bound).
     */
    static int holdFactor(double recentMs) {
        if (Double.isNaN(recentMs) || recentMs > CLAIM_AHEAD_BELOW_MS) {
            return 1;
        }
        return (int) Math.min(MAX_HOLD, 1 + Math.floor(CLAIM_AHEAD_WAIT_MS / Math.max(recentMs, 0.001)));
    }

    /**
     * Jobs claimed per turn: {@code worker.claim_batch} if set, else {@link #MAX_HOLD} × concurrency
     * for up to 8 slots; never more than the pool can hold ({@link #MAX_HOLD} × concurrency).
     */
    public static int claimBatch(java.util.OptionalInt configured, int concurrency) {
        return Math.min(configured.orElse(MAX_HOLD * Math.min(concurrency, 8)), MAX_HOLD * concurrency);
    }

    /** How many jobs this pool may hold (claimed, handler not ended): its slots times {@link #holdFactor}. */
    private int claimLimit() {
        return settings.concurrency() * holdFactor(recentRunMs);
    }

    /** Takes room for up to {@code max} claimed jobs without waiting; returns how much it took. */
    private int takeRoom(int max) {
        while (true) {
            int held = inHand.get();
            int n = Math.min(max, claimLimit() - held);
            if (n <= 0) {
                return 0;
            }
            if (inHand.compareAndSet(held, held + n)) {
                return n;
            }
        }
    }

    /** The pool as the dispatcher sees it. */
    private final class PoolSlots implements Dispatcher.Slots {
        @Override
        public boolean claiming() {
            return started && !stopping.get();
        }

        @Override
        public int take(int max) {
            return takeRoom(max);
        }

        @Override
        public void give(int n) {
            if (n > 0) {
                inHand.addAndGet(-n);
            }
        }

        @Override
        public void run(List<JobRow> jobs, long claimStartedAt) {
            for (JobRow job : jobs) {
                start(job, leaseDeadlineFrom(claimStartedAt));
            }
        }
    }

    private int claimAndStart(int max) {
        long before = clock.millis();
        ClaimResult r = queue.claim(owner, max);
        if (r instanceof ClaimResult.Claimed c) {
            for (JobRow job : c.jobs()) {
                start(job, leaseDeadlineFrom(before));
            }
            return c.jobs().size();
        }
        return 0;
    }

    /**
     * The store computed the lease expiry from a time no earlier than {@code before}; stopping a
     * margin before {@code before + lease} guarantees no governed act of ours happens after the
     * reaper may have handed the job to another worker.
     */
    private long leaseDeadlineFrom(long before) {
        long lease = queue.settings().lease().toMillis();
        return before + lease - Math.min(lease / 10, 1000);
    }

    private void start(JobRow job, long leaseDeadline) {
        Running rj = new Running(job, clock.millis(), leaseDeadline);
        running.put(job.id(), rj);
        rj.thread = Thread.ofVirtual().name("job-" + job.id()).start(() -> runAttempt(rj));
    }

    /**
     * Claims and runs jobs until none is due, then returns the number run. For {@code worker --once}
     * and tests; the control loop must not be running.
     */
    public int drainOnce() {
        int total = 0;
        while (!stopping.get()) {
            int room = takeRoom(settings.concurrency());
            if (room == 0) {
                sleepQuietly(5);
                controlTick();
                continue;
            }
            int claimed = 0;
            try {
                claimed = claimAndStart(room);
            } finally {
                inHand.addAndGet(claimed - room);
            }
            total += claimed;
            if (claimed == 0) {
                if (running.isEmpty()) {
                    break;
                }
                sleepQuietly(5);
                controlTick();
            }
        }
        return total;
    }

    // ------------------------------------------------------------------ running one attempt

    private void runAttempt(Running rj) {
        JobRow job = rj.job;
        boolean waited;
        try {
            // a timed tryAcquire keeps the semaphore's fairness (the untimed one barges)
            waited = !permits.tryAcquire(0, TimeUnit.SECONDS);
            if (waited) {
                permits.acquire(); // claimed ahead: wait here, leased, for a worker slot
            }
            rj.slot.set(true);
        } catch (InterruptedException e) {
            settle(rj, notStarted(rj));
            return;
        }
        // stopped while it waited, or the kill switch went on meanwhile (the control loop may not
        // have seen it yet; a job that did not wait was claimed a moment ago, past the same check):
        // a job that has not started does not start
        if (rj.stop.get() != null || (waited && queue.killSwitch().fileOn())) {
            settle(rj, notStarted(rj));
            return;
        }
        long t0 = clock.millis();
        Outcome outcome;
        try {
            JsonNode spec = Json.parse(job.spec());
            JobKind kind = kinds.find(job.kind()).orElseThrow(() ->
                    JobFailure.permanent("unknown_kind", "kind '" + job.kind() + "' is not registered on worker " + owner));
            requireWithinOperatorPolicy(job, spec);
            GovernedJobContext ctx = new GovernedJobContext(job, spec, queue.store(), queue.ledger(),
                    evidence.artifacts(job.id()), clock, rj.stop, () -> rj.leaseDeadline, isolation,
                    workRoot.resolve(job.id() + "-" + job.attempts()), models, operator.recordContent());
            rj.deadline = ctx.meter().deadlineMillis();
            rj.meter = ctx.meter();
            JsonNode result = kind.run(ctx);
            ctx.checkpoint();
            outcome = new Outcome.Succeeded(job, result == null ? Json.object() : result, clock.millis() - t0, usage(rj));
        } catch (JobFailure f) {
            outcome = toOutcome(rj, f, clock.millis() - t0);
        } catch (Throwable e) {
            JobFailure stop = rj.stop.get();
            outcome = stop != null ? toOutcome(rj, stop, clock.millis() - t0)
                    : new Outcome.Failed(job, "error", e.getClass().getSimpleName() + ": " + e.getMessage(), true,
                    clock.millis() - t0, usage(rj));
        }
        removeWorkDir(job);
        long ran = clock.millis() - t0;
        double recent = recentRunMs;
        recentRunMs = Double.isNaN(recent) ? ran : recent * 0.9 + ran * 0.1;
        settle(rj, outcome);
    }

    /** The outcome of an attempt stopped before its handler started: back to the queue, unless cancelled or its lease lost. */
    private Outcome notStarted(Running rj) {
        JobFailure stop = rj.stop.get();
        if (stop instanceof JobFailure.Stop s && s.code().equals("lease_lost")) {
            return null;
        }
        if (stop instanceof JobFailure.Stop s && s.code().equals("cancelled")) {
            return new Outcome.Cancelled(rj.job, s.code(), s.getMessage(), 0, null);
        }
        return new Outcome.Released(rj.job, 0, null);
    }

    /** The attempt's scratch directory goes with the attempt (artifacts are what a job keeps). */
    private void removeWorkDir(JobRow job) {
        Path dir = workRoot.resolve(job.id() + "-" + job.attempts());
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    p.toFile().setWritable(true);
                    java.nio.file.Files.deleteIfExists(p);
                } catch (java.io.IOException e) {
                    LOG.warn("could not remove {}: {}", p, e.getMessage());
                }
            });
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            LOG.warn("could not remove the work directory of {}: {}", job.id(), e.getMessage());
        }
    }

    /**
     * The job's policy was capped by the operator policy at enqueue; the operator may have tightened
     * it since (or a path may resolve elsewhere now): check again before the attempt acts at all.
     */
    private void requireWithinOperatorPolicy(JobRow job, JsonNode spec) {
        List<String> excess = dev.warden.policy.PolicyCheck.excess(dev.warden.policy.Policy.fromJson(spec.get("policy")),
                dev.warden.policy.Budgets.fromJson(spec.get("budgets")), operator, slots);
        if (!excess.isEmpty()) {
            queue.ledger().record(queue.store(), EventDraft.warn("policy.denied", "policy", job.id(), owner,
                    Json.object().put("act", "claim").put("target", job.id()).put("reason", String.join("; ", excess))));
            throw JobFailure.denied("the job asks for more than the operator policy now allows: " + String.join("; ", excess));
        }
    }

    private Outcome toOutcome(Running rj, JobFailure f, long durationMs) {
        JobFailure stop = rj.stop.get();
        JobFailure effective = stop != null ? stop : f;
        if (effective instanceof JobFailure.Escalated e) {
            return new Outcome.Escalated(rj.job, e.result() == null ? Json.object() : e.result(), e.getMessage(),
                    durationMs, usage(rj));
        }
        if (effective instanceof JobFailure.Stop s) {
            return switch (s.code()) {
                case "shutdown" -> new Outcome.Released(rj.job, durationMs, usage(rj));
                case "lease_lost" -> null;
                default -> new Outcome.Cancelled(rj.job, s.code(), s.getMessage(), durationMs, usage(rj));
            };
        }
        return new Outcome.Failed(rj.job, effective.code(), effective.getMessage(), effective.retryable(), durationMs,
                usage(rj));
    }

    /** What the attempt used, for the ledger and the summary's "what it cost". */
    private com.fasterxml.jackson.databind.JsonNode usage(Running rj) {
        dev.warden.policy.BudgetMeter m = rj.meter;
        if (m == null) {
            return null;
        }
        return Json.object().put("wall_ms", m.elapsedMillis()).put("output_bytes", m.outputBytes())
                .put("tool_calls", m.toolCalls()).put("tokens", m.tokens()).put("usd", dev.warden.model.Usd.format(m.usdNano()));
    }

    /**
     * Records the outcome exactly once (the job thread or, for a stuck job, the control loop). The
     * attempt's worker slot, and its room among the jobs the pool holds, are free as soon as the
     * outcome is handed in; the attempt stays in {@link #running} (its lease renewed) until the
     * outcome is committed.
     */
    private void settle(Running rj, Outcome outcome) {
        if (!rj.settled.compareAndSet(false, true)) {
            return;
        }
        boolean handedIn = false;
        try {
            if (outcome == null) {
                recordLeaseLoss(rj);
            } else {
                java.util.concurrent.CompletableFuture<Optional<JobRow>> recorded = dispatcher.submit(outcome);
                release(rj);
                handedIn = true;
                Optional<JobRow> written = recorded.join();
                rj.committed = true;
                if (written.isEmpty()) {
                    LOG.warn("job {} attempt {}: outcome discarded, the lease was lost", rj.job.id(), rj.job.attempts());
                }
                written.ifPresent(row -> {
                    if (row.errorCode() != null) {
                        LOG.info("job {} attempt {} ended {}: {} {}", row.id(), rj.job.attempts(), row.state(),
                                row.errorCode(), row.errorMessage());
                    }
                    if (evidence.writtenAtOutcome(row)) {
                        evidenceWriter.submit(row);
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("outcome of {} not recorded ({}); its lease will expire and it will be recovered",
                    rj.job.id(), e.getMessage());
        } finally {
            running.remove(rj.job.id());
            if (!handedIn) {
                release(rj);
                dispatcher.wake();
            }
        }
    }

    /** Frees the attempt's worker slot (if its handler got one) and its room among the jobs held. */
    private void release(Running rj) {
        if (rj.slot.compareAndSet(true, false)) {
            permits.release();
        }
        inHand.decrementAndGet();
    }

    private void recordLeaseLoss(Running rj) {
        JobFailure stop = rj.stop.get();
        LOG.warn("job {} attempt {} stopped: {}", rj.job.id(), rj.job.attempts(), stop == null ? "lease lost" : stop.getMessage());
        try {
            queue.ledger().record(queue.store(), EventDraft.warn("job.attempt_stopped", "worker", rj.job.id(), owner,
                    Json.object().put("attempt", rj.job.attempts()).put("reason", "lease_lost")
                            .put("message", stop == null ? "lease lost" : stop.getMessage())));
        } catch (RuntimeException e) {
            LOG.warn("could not record the lease loss of {}: {}", rj.job.id(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ control: leases, cancellation, kill switch

    private void controlLoop() {
        while (!stopping.get()) {
            try {
                controlTick();
            } catch (RuntimeException e) {
                LOG.warn("control tick failed: {}", e.getMessage());
            }
            sleepQuietly(settings.tick().toMillis());
        }
    }

    void controlTick() {
        long now = clock.millis();
        if (now - lastRegistered >= settings.tick().toMillis() * 5) {
            register(null);
        }
        boolean killed;
        try {
            killed = queue.killSwitch().isOn();
        } catch (RuntimeException e) {
            killed = queue.killSwitch().fileOn();
        }
        if (killed) {
            running.values().forEach(rj -> requestStop(rj, new JobFailure.Stop("kill_switch", "kill switch is on")));
        }
        heartbeat(now);
        for (Running rj : running.values()) {
            if (rj.deadline > 0 && now > rj.deadline) {
                JobFailure f = JobFailure.budgetExceeded("wall_time_s",
                        "wall time budget of " + (rj.deadline - rj.startedAt) / 1000 + " s spent");
                if (requestStop(rj, f)) {
                    queue.ledger().record(queue.store(), EventDraft.warn("budget.exceeded", "policy", rj.job.id(), owner,
                            Json.object().put("budget", "wall_time_s").put("elapsed_ms", now - rj.startedAt)));
                }
            }
            // a handler that ignores interruption is abandoned after the grace period: its outcome is
            // recorded now, and the fencing token discards anything it might still try to write
            if (rj.stopRequestedAt > 0 && now - rj.stopRequestedAt > settings.stopGrace().toMillis()) {
                Outcome o = toOutcome(rj, rj.stop.get(), now - rj.startedAt);
                Thread.ofVirtual().start(() -> settle(rj, o));
            }
        }
        if (now - lastReap >= settings.reapInterval().toMillis()) {
            lastReap = now;
            try {
                int n = queue.reapExpiredLeases(owner);
                if (n > 0) {
                    LOG.info("recovered {} job(s) with expired leases", n);
                    wakeUp();
                }
            } catch (RuntimeException e) {
                LOG.warn("lease reaper failed: {}", e.getMessage());
            }
            try {
                int n = new dev.warden.agent.Approvals(queue.store(), queue.ledger(), clock).expireDue(owner);
                if (n > 0) {
                    LOG.info("{} approval request(s) expired", n);
                    wakeUp();
                }
            } catch (RuntimeException e) {
                LOG.warn("approval expiry sweep failed: {}", e.getMessage());
            }
        }
    }

    private void heartbeat(long now) {
        if (running.isEmpty()) {
            lastHeartbeatOk = now;
            return;
        }
        // judge only attempts that were claimed before this heartbeat read the store: one claimed
        // meanwhile is legitimately absent from the answer
        List<Running> judged = List.copyOf(running.values());
        long before = clock.millis();
        List<LeaseView> held;
        try {
            // renew every attempt whose outcome is not yet stored, except those that lost their lease
            held = queue.heartbeat(owner, judged.stream()
                    .filter(rj -> !rj.committed && (rj.stop.get() == null || !"lease_lost".equals(rj.stop.get().code())))
                    .map(rj -> rj.job.id()).sorted().toList());
            lastHeartbeatOk = now;
        } catch (RuntimeException e) {
            LOG.warn("heartbeat failed: {}", e.getMessage());
            // without a heartbeat the lease cannot be trusted much longer: stop before it expires
            if (now - lastHeartbeatOk > queue.settings().lease().toMillis() * 3 / 4) {
                running.values().forEach(rj -> requestStop(rj,
                        new JobFailure.Stop("lease_lost", "could not renew the lease")));
            }
            return;
        }
        Map<String, LeaseView> byId = new HashMap<>();
        held.forEach(v -> byId.put(v.id(), v));
        for (Running rj : judged) {
            LeaseView v = byId.get(rj.job.id());
            if (v == null || v.claims() != rj.job.claims()) {
                if (!rj.settled.get()) {
                    requestStop(rj, new JobFailure.Stop("lease_lost", "lease no longer held by " + owner));
                }
            } else {
                rj.leaseDeadline = leaseDeadlineFrom(before);
                if (v.cancelRequested()) {
                    requestStop(rj, new JobFailure.Stop("cancelled", "cancelled by operator"));
                }
            }
        }
    }

    private boolean requestStop(Running rj, JobFailure reason) {
        if (rj.stop.compareAndSet(null, reason)) {
            rj.stopRequestedAt = clock.millis();
            Thread t = rj.thread;
            if (t != null) {
                t.interrupt();
            }
            return true;
        }
        return false;
    }

    /** Registers (or renews) this pool in the node registry; {@code stoppedAt} marks a clean stop. */
    private void register(Long stoppedAt) {
        long now = clock.millis();
        String node = owner.substring(0, owner.indexOf(':') > 0 ? owner.indexOf(':') : owner.length());
        try {
            queue.store().write(tx -> {
                tx.putWorker(new dev.warden.store.Tx.WorkerRow(owner, node, ProcessHandle.current().pid(),
                        settings.concurrency(), startedAtMillis, now, stoppedAt));
                return null;
            });
            lastRegistered = now;
        } catch (RuntimeException e) {
            LOG.warn("could not renew the worker registration: {}", e.getMessage());
        }
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Graceful stop: no new claims; running attempts get {@code grace} to finish, then are
     * released back to the queue (attempt not counted).
     */
    public void shutdown(java.time.Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        long until = System.nanoTime() + grace.toNanos();
        // the control loop has stopped: keep leases, cancellations and the kill switch going meanwhile
        awaitDrain(until);
        running.values().forEach(rj -> requestStop(rj, new JobFailure.Stop("shutdown", "worker shutting down")));
        awaitDrain(System.nanoTime() + settings.stopGrace().toNanos());
        for (Running rj : running.values()) {
            JobFailure reason = rj.stop.get();
            settle(rj, reason == null ? new Outcome.Released(rj.job, clock.millis() - rj.startedAt, usage(rj))
                    : toOutcome(rj, reason, clock.millis() - rj.startedAt));
        }
        if (control != null) {
            control.interrupt();
        }
        dispatcher.close();
        evidenceWriter.close();
        if (lastRegistered > 0) {
            register(clock.millis());
        }
    }

    private void awaitDrain(long untilNanos) {
        long nextTick = 0;
        while (!running.isEmpty() && System.nanoTime() < untilNanos) {
            if (System.nanoTime() >= nextTick) {
                try {
                    controlTick();
                } catch (RuntimeException e) {
                    LOG.warn("control tick during shutdown failed: {}", e.getMessage());
                }
                nextTick = System.nanoTime() + settings.tick().toNanos();
            }
            sleepQuietly(20);
        }
    }

    @Override
    public void close() {
        shutdown(java.time.Duration.ofSeconds(10));
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
