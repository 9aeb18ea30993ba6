package dev.warden.app;

import dev.warden.store.Store;
import dev.warden.store.Tx;

/**
 * Indexes a PostgreSQL store's ledger by corr_id behind the appends (migration V13), so a worker's
 * turn writes its ledger block without an index insertion: every {@link #INTERVAL_MILLIS}, one
 * pass over every chain ({@link Tx#indexLedgerCorrIds}), and the next at once while a chain has
 * more than {@link #BLOCKS_PER_PASS} blocks waiting. A look-up by corr_id still finds what is not
 * indexed yet: it reads every chain's blocks past that chain's last index row. Every long-running
 * process runs one over every chain, so a stopped node's chain is indexed by the others; one pass
 * runs at a time across the processes (an advisory lock), the others skip theirs meanwhile.
 */
final class LedgerIndexer extends PeriodicTask {
    /**
     * Between passes. A pass's index row covers what the chain appended meanwhile, with each corr id
     * once however many of its entries it holds; a look-up reads at most about one interval's
     * blocks per chain that are not indexed yet. (1 s instead drained no faster.)
     */
    static final long INTERVAL_MILLIS = 250;
    /** Blocks of one chain one index row covers at most (a look-up unnests only those holding its id). */
    static final int BLOCKS_PER_PASS = 64;

    private final Store store;

    LedgerIndexer(Store store) {
        super("ledger-corr-index", INTERVAL_MILLIS, "ledger corr_id indexing failed (look-ups read the blocks not indexed yet)");
        this.store = store;
        start();
    }

    @Override
    void runOnce() {
        Tx.IndexPass pass;
        do {
            pass = store.write(tx -> tx.indexLedgerCorrIds(BLOCKS_PER_PASS));
        } while (pass.more() && running());
    }
}
