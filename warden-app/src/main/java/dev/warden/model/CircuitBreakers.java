package dev.warden.model;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One circuit breaker per provider: {@code failures} transient failures in a row open it; while
 * open the provider is skipped; after {@code cooldown} one call is let through as a probe (half
 * open): success closes it, failure opens it for another cooldown.
 */
public final class CircuitBreakers {
    public enum State { CLOSED, OPEN, HALF_OPEN }

    /** A provider's breaker as shown by {@code warden models status}. */
    public record View(String provider, State state, int consecutiveFailures, long openUntil, String lastErrorClass) {}

    private final ModelsConfig.Breaker settings;
    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    private static final class Entry {
        int failures;
        long openUntil;
        boolean probing;
        String lastErrorClass;
    }

    public CircuitBreakers(ModelsConfig.Breaker settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    /** What {@link #tryAcquire} allows: nothing, a call, or the one probe of a half-open breaker. */
    public enum Permit { DENIED, CALL, PROBE }

    /**
     * Whether a call to {@code provider} may go ahead now; while half open, only one probe at a
     * time. A {@link Permit#PROBE} must end in {@link #record} or {@link #release}.
     */
    public Permit tryAcquire(String provider) {
        Entry e = entries.computeIfAbsent(provider, p -> new Entry());
        synchronized (e) {
            if (e.failures < settings.failures()) {
                return Permit.CALL;
            }
            if (clock.millis() < e.openUntil || e.probing) {
                return Permit.DENIED;
            }
            e.probing = true; // half open: this call is the probe
            return Permit.PROBE;
        }
    }

    /** Records a finished attempt; returns true when the breaker changed state (worth recording). */
    public boolean record(String provider, ErrorClass failure) {
        Entry e = entries.computeIfAbsent(provider, p -> new Entry());
        synchronized (e) {
            State before = state(e);
            e.probing = false;
            if (failure == null) {
                e.failures = 0;
                e.openUntil = 0;
            } else if (failure.transientFailure()) {
                e.failures++;
                e.lastErrorClass = failure.wire();
                if (e.failures >= settings.failures()) {
                    e.openUntil = clock.millis() + settings.cooldown().toMillis();
                }
            } else {
                e.lastErrorClass = failure.wire();
            }
            return state(e) != before;
        }
    }

    private State state(Entry e) {
        if (e.failures < settings.failures()) {
            return State.CLOSED;
        }
        return clock.millis() < e.openUntil ? State.OPEN : State.HALF_OPEN;
    }

    /** Gives back a probe permit whose outcome says nothing of the provider (never called, or the client left). */
    public void release(String provider) {
        Entry e = entries.computeIfAbsent(provider, p -> new Entry());
        synchronized (e) {
            e.probing = false;
        }
    }

    public View view(String provider) {
        Entry e = entries.computeIfAbsent(provider, p -> new Entry());
        synchronized (e) {
            return new View(provider, state(e), e.failures, e.openUntil, e.lastErrorClass);
        }
    }
}
