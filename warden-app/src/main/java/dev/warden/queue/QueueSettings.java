package dev.warden.queue;

import java.time.Duration;
import java.util.Map;

/** Queue tuning and the operator's slot capacities. */
public record QueueSettings(Duration lease, Backoff backoff, Map<String, Integer> slotCapacity) {
    public QueueSettings {
        slotCapacity = Map.copyOf(slotCapacity);
    }
}
