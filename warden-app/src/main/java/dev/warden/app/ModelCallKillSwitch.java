package dev.warden.app;

import dev.warden.queue.KillSwitch;
import dev.warden.store.Store;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The kill switch as a model call checks it, without a store read per call: the file
 * {@code <data_dir>/KILL_SWITCH} is looked at on every call (one {@code stat}; {@code warden
 * killswitch on} and the API write it, so a switch set on this node takes effect at once), and
 * the store flag (set on another node) is re-read at most every {@link #STORE_MILLIS}. While the
 * last read found the flag on, it is re-read on every call, so switching off is seen at once too.
 * Errs towards refusing: a stale value can only delay a switch set on another node by that long.
 */
final class ModelCallKillSwitch implements BooleanSupplier {
    static final long STORE_MILLIS = 200;

    private final KillSwitch killSwitch;
    private final Store store;
    private final LongSupplier nanoTime;
    private volatile boolean storeFlag;
    private volatile long readAt;
    private volatile boolean everRead;

    ModelCallKillSwitch(KillSwitch killSwitch, Store store, LongSupplier nanoTime) {
        this.killSwitch = killSwitch;
        this.store = store;
        this.nanoTime = nanoTime;
    }

    @Override
    public boolean getAsBoolean() {
        if (killSwitch.fileOn()) {
            return true;
        }
        long now = nanoTime.getAsLong();
        if (storeFlag || !everRead || now - readAt >= STORE_MILLIS * 1_000_000) {
            boolean on = store.read(tx -> tx.setting(KillSwitch.SETTING).map("on"::equals).orElse(false));
            storeFlag = on;
            readAt = now;
            everRead = true;
        }
        return storeFlag;
    }
}
