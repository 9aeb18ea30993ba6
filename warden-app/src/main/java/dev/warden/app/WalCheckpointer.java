package dev.warden.app;

import dev.warden.store.sqlite.SqliteStore;

/**
 * Checkpoints a SQLite store's WAL from a background platform thread, so SQLite's automatic
 * checkpoint (copying the WAL's pages and two fsyncs, run by whichever commit crosses 1,000 WAL
 * pages, while it holds the one write lock) stays off the request and worker paths. The writer
 * still checkpoints itself past {@link #SAFETY_PAGES}, should this thread stop or fall behind. A
 * platform thread, because the checkpoint is a native call that would pin a virtual thread's
 * carrier through its fsyncs.
 */
final class WalCheckpointer extends PeriodicTask {
    /**
     * Between checkpoints. Each completed checkpoint lets the next commit restart the WAL, which
     * costs that commit one fsync of the WAL header, so not much more often than SQLite would.
     */
    static final long INTERVAL_MILLIS = 1_000;
    /** The writer's own automatic checkpoint threshold meanwhile (pages; ~40 MB of WAL). */
    static final int SAFETY_PAGES = 10_000;

    private final SqliteStore store;

    WalCheckpointer(SqliteStore store) {
        super("sqlite-wal-checkpoint", INTERVAL_MILLIS, "background WAL checkpoint failed (commits checkpoint themselves meanwhile)");
        this.store = store;
        store.deferAutoCheckpoint(SAFETY_PAGES);
        start();
    }

    @Override
    void runOnce() {
        store.checkpointWal();
    }
}
