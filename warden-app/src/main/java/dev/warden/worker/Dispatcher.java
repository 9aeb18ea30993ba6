package dev.warden.worker;

import dev.warden.queue.ClaimResult;
import dev.warden.queue.Outcome;
import dev.warden.queue.Queue;
import dev.warden.store.JobRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker pool's one writer on the hot path. Each turn is one transaction
 * ({@link Queue#completeAndClaim}) that records every outcome handed in since the last turn and
 * claims jobs for the worker slots that are free, so under a backlog a slot turns over with one
 * commit, and the node's ledger chain has one writer instead of a claimer and a completer taking
 * turns at its head. Outcomes wait for the turn in progress (group commit); when nothing is
 * waiting, a turn claims at once on a wake-up (a local enqueue) and otherwise every poll interval.
 *
 * <p>A failed turn changes nothing in the store: its outcomes are kept and written again (alone,
 * so a claim can never hold them up) after a back-off, and the slots it wanted go back to the pool.
 */
final class Dispatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    static final int MAX_OUTCOMES = 512;

    /** The pool's side: its free slots and what to do with claimed jobs. */
    interface Slots {
        /** Whether claims are wanted at all (the pool runs and is not stopping). */
        boolean claiming();

        /** Takes up to {@code max} free slots without waiting; returns how many it took. */
        int take(int max);

        /** Gives back slots taken and not used. */
        void give(int n);

        /** Starts claimed jobs, each on a slot {@link #take} gave; {@code claimStartedAt} bounds the lease. */
        void run(List<JobRow> jobs, long claimStartedAt);
    }

    private record Pending(Outcome outcome, CompletableFuture<Optional<JobRow>> done) {}

    private static final java.util.Comparator<Pending> BY_JOB = java.util.Comparator.comparing(p -> p.outcome().job().id());

    /** Put in the queue to wake the loop; carries no outcome. */
    private static final Pending WAKE = new Pending(null, null);

    private final Queue queue;
    private final String owner;
    private final Slots slots;
    private final int claimBatch;
    private final long pollNanos;
    private final LinkedBlockingQueue<Pending> inbox = new LinkedBlockingQueue<>();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean closed;

    Dispatcher(Queue queue, String owner, Slots slots, int claimBatch, java.time.Duration pollInterval) {
        this.queue = queue;
        this.owner = owner;
        this.slots = slots;
        this.claimBatch = Math.max(1, claimBatch);
        this.pollNanos = pollInterval.toNanos();
        this.thread = Thread.ofPlatform().daemon().name("warden-dispatch").start(this::loop);
    }

    /** Hands in an outcome; the future completes with the row as written (empty: the lease was lost) once committed. */
    CompletableFuture<Optional<JobRow>> submit(Outcome outcome) {
        CompletableFuture<Optional<JobRow>> f = new CompletableFuture<>();
        inbox.add(new Pending(outcome, f));
        return f;
    }

    /** Asks for a claim as soon as possible (work may be waiting, or a slot was freed without an outcome). */
    void wake() {
        if (wakePending.compareAndSet(false, true)) {
            inbox.add(WAKE);
        }
    }

    private void loop() {
        List<Pending> batch = new ArrayList<>();
        boolean claimsAllowed = true; // false for the turn after a failure: outcomes go alone
        boolean backlog = false;      // the last claim got all it asked for: more is likely waiting
        boolean woken = true;
        long nextPoll = System.nanoTime();
        long delay = 100;
        while (true) {
            if (closed && batch.isEmpty() && inbox.isEmpty()) {
                return;
            }
            woken |= drain(batch);
            int want = 0;
            boolean pollDue = System.nanoTime() - nextPoll >= 0;
            // an outcome frees a slot, so it is a reason to claim too: in the same transaction, at no extra commit
            if (claimsAllowed && !closed && slots.claiming() && (backlog || woken || pollDue || !batch.isEmpty())) {
                want = slots.take(claimBatch);
            }
            if (batch.isEmpty() && want == 0) {
                woken |= await(slots.claiming() && !backlog ? Math.max(0, nextPoll - System.nanoTime())
                        : TimeUnit.MILLISECONDS.toNanos(100), batch);
                continue;
            }
            batch.sort(BY_JOB); // one row order for every writer (heartbeats too), so none deadlocks on another
            List<Outcome> outcomes = new ArrayList<>(batch.size());
            batch.forEach(p -> outcomes.add(p.outcome()));
            long before = queue.clock().millis();
            Queue.Turn turn;
            try {
                turn = queue.completeAndClaim(outcomes, owner, want);
            } catch (RuntimeException e) {
                slots.give(want);
                if (closed) {
                    batch.forEach(p -> p.done().completeExceptionally(e));
                    batch.clear();
                    continue;
                }
                // the store is unavailable: keep the outcomes and try again; leases cover the gap
                LOG.warn("could not record {} outcome(s){}, retrying in {} ms: {}", batch.size(),
                        want > 0 ? " and claim" : "", delay, e.getMessage());
                claimsAllowed = false;
                sleep(delay);
                delay = Math.min(delay * 2, 5000);
                continue;
            }
            // committed: from here on nothing may send these outcomes round again
            delay = 100;
            claimsAllowed = true;
            woken = false;
            List<JobRow> claimed = turn.claimed() instanceof ClaimResult.Claimed c ? c.jobs() : List.of();
            if (want > 0) {
                backlog = claimed.size() == want;
                if (!backlog) {
                    nextPoll = System.nanoTime() + pollNanos;
                }
                slots.give(want - claimed.size());
                try {
                    slots.run(claimed, before);
                } catch (RuntimeException e) {
                    LOG.error("could not start {} claimed job(s) (their leases will expire): {}", claimed.size(), e.toString());
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done().complete(turn.completed().get(i));
            }
            batch.clear();
        }
    }

    /** Moves waiting outcomes into {@code batch}; true when a wake-up was among them. */
    private boolean drain(List<Pending> batch) {
        boolean woken = false;
        Pending p;
        while (batch.size() < MAX_OUTCOMES && (p = inbox.poll()) != null) {
            woken |= take(p, batch);
        }
        return woken;
    }

    /** Waits up to {@code nanos} for anything in the inbox; true when it was a wake-up. */
    private boolean await(long nanos, List<Pending> batch) {
        try {
            Pending p = inbox.poll(nanos, TimeUnit.NANOSECONDS);
            return p != null && take(p, batch);
        } catch (InterruptedException e) {
            return false;
        }
    }

    private boolean take(Pending p, List<Pending> batch) {
        if (p == WAKE) {
            wakePending.set(false);
            return true;
        }
        batch.add(p);
        return false;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            // closing: the loop re-checks
        }
    }

    /** Stops claiming, writes what was handed in, and ends the thread. */
    @Override
    public void close() {
        closed = true;
        wake();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
