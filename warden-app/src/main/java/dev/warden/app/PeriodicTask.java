package dev.warden.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store upkeep task of a long-running process: {@link #runOnce} on a daemon platform thread of
 * its own every interval, off the request and worker paths. A failure is logged once (the next
 * success re-arms the warning) and the task goes on; what stands in for it meanwhile is the
 * subclass's to say. A platform thread, because the work is JDBC or a native call that would pin a
 * virtual thread's carrier.
 */
abstract class PeriodicTask implements AutoCloseable {
    private final Logger log = LoggerFactory.getLogger(getClass());
    private final long intervalMillis;
    private final String failure;
    private final Thread thread;
    private volatile boolean running = true;

    /** {@code failure} says what a failure means, for the warning (e.g. what takes over meanwhile). */
    PeriodicTask(String threadName, long intervalMillis, String failure) {
        this.intervalMillis = intervalMillis;
        this.failure = failure;
        this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::loop);
    }

    /** Starts the thread; a subclass calls it once it is constructed. */
    final void start() {
        thread.start();
    }

    /** False once {@link #close} was called: a long {@link #runOnce} stops early. */
    final boolean running() {
        return running;
    }

    abstract void runOnce();

    private void loop() {
        boolean warned = false;
        while (running) {
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            try {
                runOnce();
                warned = false;
            } catch (RuntimeException e) {
                if (!warned) {
                    log.warn("{}: {}", failure, e.getMessage());
                    warned = true;
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
