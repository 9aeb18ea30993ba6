package dev.warden.web.security;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One operator action at a time per target ({@code job:ID}, {@code killswitch}, …): a second
 * action on a locked target is refused; a lock older than {@link #STALE} is taken over (its
 * holder is assumed gone).
 */
public final class ActionLocks {
    public static final Duration STALE = Duration.ofMinutes(5);

    public record Holder(String actor, long since) {}

    private final Clock clock;
    private final Map<String, Holder> locks = new ConcurrentHashMap<>();

    public ActionLocks(Clock clock) {
        this.clock = clock;
    }

    /** The outcome of {@link #tryLock}: {@code mine} when taken (pass it to {@link #unlock}), else the current holder. */
    public record Attempt(Holder mine, Holder heldBy) {
        public boolean taken() {
            return mine != null;
        }
    }

    /** Takes the lock on {@code target} unless someone holds it and their lock is not stale. */
    public Attempt tryLock(String target, String actor) {
        long now = clock.millis();
        Holder mine = new Holder(actor, now);
        Holder result = locks.compute(target, (k, h) -> h == null || now - h.since() >= STALE.toMillis() ? mine : h);
        return result == mine ? new Attempt(mine, null) : new Attempt(null, result);
    }

    /** Releases the lock if it is still {@code mine} (a stale lock may have been taken over meanwhile). */
    public void unlock(String target, Holder mine) {
        locks.remove(target, mine);
    }
}
