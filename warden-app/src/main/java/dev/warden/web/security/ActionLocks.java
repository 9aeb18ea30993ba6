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

    /** Takes the lock on {@code target}, or returns the current holder when it is held and not stale. */
    public Holder tryLock(String target, String actor) {
        long now = clock.millis();
        Holder mine = new Holder(actor, now);
        Holder result = locks.compute(target, (k, h) -> h == null || now - h.since() >= STALE.toMillis() ? mine : h);
        return result == mine ? null : result;
    }

    public void unlock(String target) {
        locks.remove(target);
    }
}
