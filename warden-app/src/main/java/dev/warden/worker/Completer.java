package dev.warden.worker;

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
 * turns N commits into one; when idle it adds no delay.
 */
final class Completer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Completer.class);
    private static final int MAX_BATCH = 512;

    private record Pending(Outcome outcome, CompletableFuture<Optional<JobRow>> done) {}

    private final Queue queue;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    Completer(Queue queue, String name) {
        this.queue = queue;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
    }

    CompletableFuture<Optional<JobRow>> submit(Outcome outcome) {
        CompletableFuture<Optional<JobRow>> f = new CompletableFuture<>();
        pending.add(new Pending(outcome, f));
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
        while (true) {
            try {
                List<Optional<JobRow>> rows = queue.complete(batch.stream().map(Pending::outcome).toList());
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().complete(rows.get(i));
                }
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    batch.forEach(p -> p.done().completeExceptionally(e));
                    return;
                }
                // the store is unavailable: keep the outcomes and try again; leases cover the gap
                LOG.warn("could not record {} outcome(s), retrying in {} ms: {}", batch.size(), delay, e.getMessage());
                Thread.sleep(delay);
                delay = Math.min(delay * 2, 5000);
            }
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
