package dev.warden.app;

import dev.warden.store.Store;
import dev.warden.store.Tx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Indexes a PostgreSQL store's ledger by corr_id behind the appends (migration V13), so a worker's
 * turn writes its ledger block without an index insertion: every {@link #INTERVAL_MILLIS}, one
 * pass over every chain ({@link Tx#indexLedgerCorrIds}), and the next at once while a chain has
 * more than {@link #BLOCKS_PER_PASS} blocks waiting. A look-up by corr_id still finds what is not
 * indexed yet: it reads every chain's blocks past that chain's last index row. Every long-running
 * process runs one over every chain, so a stopped node's chain is indexed by the others; one pass
 * runs at a time across the processes (an advisory lock), the others skip theirs meanwhile.
 */
final class LedgerIndexer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LedgerIndexer.class);
    /**
     * Between passes. A pass's index row covers what the chain appended meanwhile, with each corr id
     * once however many of its entries it holds, so fewer passes mean fewer index keys; a look-up
     * reads at most one interval's blocks per chain that are not indexed yet.
     */
    static final long INTERVAL_MILLIS = 250;
    /** Blocks of one chain one index row covers at most (a look-up unnests only those holding its id). */
    static final int BLOCKS_PER_PASS = 64;

    private final Store store;
    private final Thread thread;
    private volatile boolean running = true;

    LedgerIndexer(Store store) {
        this.store = store;
        this.thread = Thread.ofPlatform().daemon().name("ledger-corr-index").unstarted(this::loop);
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
                Tx.IndexPass pass;
                do {
                    pass = store.write(tx -> tx.indexLedgerCorrIds(BLOCKS_PER_PASS));
                } while (pass.more() && running);
                warned = false;
            } catch (RuntimeException e) {
                if (!warned) { // look-ups read the blocks not indexed yet meanwhile
                    LOG.warn("ledger corr_id indexing failed (look-ups read the blocks not indexed yet): {}", e.getMessage());
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
