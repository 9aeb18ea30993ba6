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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for attempt outcomes: workers hand in outcomes, one thread writes everything that
 * is waiting in a single transaction (job updates plus their ledger entries). Under load this
 * turns N commits into one; when idle it adds no delay. With {@link Claims}, the same transaction
 * also claims new jobs for the slots the outcomes free, so under a backlog a slot turns over with
 * one commit instead of a completion commit and a claim commit (which, both appending to the
 * node's ledger chain, could not overlap anyway).
 */
final class Completer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Completer.class);
    private static final int MAX_BATCH = 512;

    /**
     * {@code slot}: the attempt's worker slot (a permit of the pool), which this completer may take
     * over once the outcome is committed (the attempt's handler has ended) and hand to a new claim
     * in the same transaction; null when it may not.
     */
    private record Pending(Outcome outcome, CompletableFuture<Optional<JobRow>> done, java.util.concurrent.atomic.AtomicBoolean slot) {}

    /**
     * Claims in the completion's transaction: the pool says how many jobs it wants for the slots the
     * batch frees plus any idle ones, and starts what was claimed.
     */
    interface Claims {
        /**
         * Jobs to claim with this batch, given {@code freed} slots it will free; takes exactly
         * max(0, result - freed) further idle slots itself. 0: claim nothing.
         */
        int reserve(int freed);

        /** After the commit: start {@code jobs}; {@code slots} slots (freed ones plus reserved ones) are now the pool's to use or release. */
        void claimed(List<JobRow> jobs, int slots, long claimStartedAt);

        /** The transaction failed: give back the idle slots {@link #reserve} took. */
        void unreserve(int reserved, int freed);
    }

    private final Queue queue;
    private final String owner;
    private final Claims claims;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    Completer(Queue queue, String name) {
        this(queue, name, null, null);
    }

    Completer(Queue queue, String name, String owner, Claims claims) {
        this.queue = queue;
        this.owner = owner;
        this.claims = claims;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
    }

    CompletableFuture<Optional<JobRow>> submit(Outcome outcome) {
        return submit(outcome, null);
    }

    CompletableFuture<Optional<JobRow>> submit(Outcome outcome, java.util.concurrent.atomic.AtomicBoolean slot) {
        CompletableFuture<Optional<JobRow>> f = new CompletableFuture<>();
        pending.add(new Pending(outcome, f, slot));
        return f;
    }

    private void loop() {
        List<Pending> batch = new ArrayList<>(MAX_BATCH);
        while (!closed || !pending.isEmpty()) {
            try {
                Pending first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                pending.drainTo(batch, MAX_BATCH - 1);
                batch.sort(java.util.Comparator.comparing(pd -> pd.outcome().job().id())); // one row order for all writers
                writeWithRetry(batch);
            } catch (InterruptedException e) {
                if (closed) {
                    break;
                }
            } finally {
                batch.clear();
            }
        }
    }

    private void writeWithRetry(List<Pending> batch) throws InterruptedException {
        long delay = 100;
        boolean claimToo = claims != null;
        while (true) {
            int freed = 0;
            int want = 0;
            if (claimToo) {
                for (Pending p : batch) {
                    freed += p.slot() != null && p.slot().get() ? 1 : 0;
                }
                want = claims.reserve(freed);
            }
            Queue.CompletedAndClaimed r;
            long before = queue.clock().millis();
            try {
                r = queue.completeAndClaim(batch.stream().map(Pending::outcome).toList(), owner, want);
            } catch (RuntimeException e) {
                if (want > 0) {
                    claims.unreserve(want, freed);
                }
                claimToo = false; // retry the outcomes alone: a claim must never hold them up
                if (closed) {
                    batch.forEach(p -> p.done().completeExceptionally(e));
                    return;
                }
                // the store is unavailable: keep the outcomes and try again; leases cover the gap
                LOG.warn("could not record {} outcome(s), retrying in {} ms: {}", batch.size(), delay, e.getMessage());
                Thread.sleep(delay);
                delay = Math.min(delay * 2, 5000);
                continue;
            }
            // committed: from here on nothing may send the outcomes round again
            try {
                if (want > 0) {
                    // the committed outcomes' slots pass to this completer (their handlers have ended)
                    int slots = Math.max(0, want - freed); // the idle slots reserve() took
                    for (Pending p : batch) {
                        if (p.slot() != null && p.slot().compareAndSet(true, false)) {
                            slots++;
                        }
                    }
                    claims.claimed(r.claimed() instanceof ClaimResult.Claimed c ? c.jobs() : List.of(), slots, before);
                }
            } catch (RuntimeException e) {
                LOG.error("could not start the jobs claimed with {} outcome(s) (their leases will expire): {}", batch.size(), e.toString());
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done().complete(r.completed().get(i));
            }
            return;
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
