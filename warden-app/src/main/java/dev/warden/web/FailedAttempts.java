package dev.warden.web;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Counts failed token presentations per client address; past the limit, the address waits out the minute. */
public final class FailedAttempts {
    private final int perMinute;
    private final Map<String, long[]> byAddress = new ConcurrentHashMap<>();

    public FailedAttempts(int perMinute) {
        this.perMinute = perMinute;
    }

    public boolean limited(String address) {
        long[] v = byAddress.get(address);
        return v != null && System.currentTimeMillis() - v[1] < 60_000 && v[0] >= perMinute;
    }

    public void record(String address) {
        long now = System.currentTimeMillis();
        byAddress.compute(address, (k, v) -> v == null || now - v[1] >= 60_000 ? new long[] {1, now} : new long[] {v[0] + 1, v[1]});
    }
}
