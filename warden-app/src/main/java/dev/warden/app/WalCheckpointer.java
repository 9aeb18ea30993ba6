package dev.warden.app;

import dev.warden.store.sqlite.SqliteStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints a SQLite store's WAL from a background platform thread, so SQLite's automatic
 * checkpoint (copying the WAL's pages and two fsyncs, run by whichever commit crosses 1,000 WAL
 * pages, while it holds the one write lock) stays off the request and worker paths. The writer
 * still checkpoints itself past {@link #SAFETY_PAGES}, should this thread stop or fall behind. A
 * platform thread, because the checkpoint is a native call that would pin a virtual thread's
 * carrier through its fsyncs.
 */
final class WalCheckpointer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalCheckpointer.class);
    /**
     * Between checkpoints. Each completed checkpoint lets the next commit restart the WAL, which
     * costs that commit one fsync of the WAL header, so not much more often than SQLite would.
     */
    static final long INTERVAL_MILLIS = 1_000;
    /** The writer's own automatic checkpoint threshold meanwhile (pages; ~40 MB of WAL). */
    static final int SAFETY_PAGES = 10_000;

    private final SqliteStore store;
    private final Thread thread;
    private volatile boolean running = true;

    WalCheckpointer(SqliteStore store) {
        this.store = store;
        store.deferAutoCheckpoint(SAFETY_PAGES);
        this.thread = Thread.ofPlatform().daemon().name("sqlite-wal-checkpoint").unstarted(this::loop);
        thread.start();
    }

    private void loop() {
        boolean warned = false;
        while (running) {
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            try {
                store.checkpointWal();
                warned = false;
            } catch (RuntimeException e) {
                if (!warned) { // SQLite's own automatic checkpoint still runs meanwhile
                    LOG.warn("background WAL checkpoint failed (commits checkpoint themselves meanwhile): {}", e.getMessage());
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
