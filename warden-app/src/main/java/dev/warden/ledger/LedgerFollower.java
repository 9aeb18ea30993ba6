package dev.warden.ledger;

import dev.warden.store.Store;
import dev.warden.store.Tx;
import dev.warden.store.Tx.LedgerRow;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every chain of the ledger from the moment it starts, in the store (so it sees what
 * every node appends), and hands new entries to its subscribers in chain order. It reads on a
 * background thread of its own, never on a claim or request path; notifications and metrics
 * counters are built on it.
 */
public final class LedgerFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LedgerFollower.class);
    private static final int PAGE = 1000;

    private final Store store;
    private final Duration interval;
    private final List<Consumer<List<LedgerRow>>> subscribers = new CopyOnWriteArrayList<>();
    private Map<String, Long> cursors;
    private ScheduledExecutorService poller;

    public LedgerFollower(Store store, Duration interval) {
        this.store = store;
        this.interval = interval;
    }

    public void subscribe(Consumer<List<LedgerRow>> subscriber) {
        subscribers.add(subscriber);
    }

    /** Marks the current heads as the starting point (once) and polls every interval in the background (idempotent). */
    public synchronized LedgerFollower start() {
        if (poller == null) {
            poll();
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ledger-follower");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::pollQuietly, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /**
     * Delivers the entries appended since the last poll. The first poll only records where every
     * chain ends: entries written before the follower started are not delivered.
     */
    public synchronized void poll() {
        List<Tx.LedgerHead> heads = store.read(Tx::ledgerHeads);
        if (cursors == null) {
            cursors = new HashMap<>();
            heads.forEach(h -> cursors.put(h.chain(), h.seq()));
            return;
        }
        for (Tx.LedgerHead h : heads) {
            long after = cursors.getOrDefault(h.chain(), 0L);
            while (after < h.seq()) {
                final long from = after;
                List<LedgerRow> page = store.read(tx -> tx.ledgerPage(h.chain(), from, PAGE));
                if (page.isEmpty()) {
                    break;
                }
                after = page.get(page.size() - 1).seq();
                cursors.put(h.chain(), after);
                for (Consumer<List<LedgerRow>> s : subscribers) {
                    try {
                        s.accept(page);
                    } catch (RuntimeException e) {
                        LOG.warn("ledger subscriber failed: {}", e.toString());
                    }
                }
            }
        }
    }

    private void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            LOG.warn("ledger follower cannot read the store: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
            poller = null;
        }
    }
}
