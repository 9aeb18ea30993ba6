package dev.warden.worker;

import dev.warden.store.JobRow;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes evidence bundles off the claim path (only those {@link Evidence#writtenAtOutcome} says are
 * written as the attempt ends; the others are rendered on first read). A bundle is a view of the ledger (the source of
 * truth), so writing it after the outcome commits loses nothing: a bundle not yet written when
 * the process dies is rebuilt by {@code warden evidence ID}. The queue is bounded, so a slow disk
 * slows the workers down instead of growing memory.
 */
final class EvidenceWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EvidenceWriter.class);
    private static final int CAPACITY = 10_000;

    private final Evidence evidence;
    private final BlockingQueue<JobRow> pending = new ArrayBlockingQueue<>(CAPACITY);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Thread[] threads;
    private volatile boolean closed;

    EvidenceWriter(Evidence evidence, int threads) {
        this.evidence = evidence;
        this.threads = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            this.threads[i] = Thread.ofPlatform().daemon().name("warden-evidence-" + i).start(this::loop);
        }
    }

    /** Queues a bundle; blocks while the queue is full. */
    void submit(JobRow row) {
        // a cancelled attempt's thread may still carry its interrupt: the bundle must be written anyway
        boolean wasInterrupted = Thread.interrupted();
        inFlight.incrementAndGet();
        try {
            pending.put(row);
        } catch (InterruptedException e) {
            inFlight.decrementAndGet();
            LOG.warn("evidence for {} not queued: interrupted", row.id());
            wasInterrupted = true;
        } finally {
            if (wasInterrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        while (!closed || !pending.isEmpty()) {
            JobRow row;
            try {
                row = pending.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                continue;
            }
            if (row == null) {
                continue;
            }
            try {
                evidence.publishArtifacts(row);
                evidence.materialize(row, false);
            } catch (RuntimeException e) {
                LOG.warn("evidence for {} not written: {}", row.id(), e.getMessage());
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    /** Bundles queued or being written. */
    int backlog() {
        return inFlight.get();
    }

    /** Writes everything queued, then stops. */
    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
