package dev.warden.queue;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential backoff with "equal jitter": half the capped delay fixed, half random. */
public record Backoff(Duration base, Duration max, RandomGenerator random) {

    /** Delay before the retry that follows failed attempt number {@code attempt} (1-based). */
    public long delayMillis(int attempt) {
        int exp = Math.min(Math.max(attempt - 1, 0), 30);
        long capped = Math.min(max.toMillis(), base.toMillis() * (1L << exp));
        long half = capped / 2;
        return half + (half > 0 ? random.nextLong(half + 1) : 0);
    }
}
