package dev.warden.health;

import dev.warden.store.Store;
import dev.warden.store.Tx;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Worker processes as the registry ({@code workers} table) sees them: alive (heartbeat within
 * the alive window), dead (no heartbeat for that long, never stopped cleanly) and how many running
 * jobs the dead ones still hold — those wait for the lease reaper.
 */
public record WorkerHealth(int alive, int dead, int stopped, int deadHoldingJobs, int jobsOnDead) {
    /** The window {@code warden workers} uses: a lease, or ten control ticks when that is longer. */
    public static Duration aliveWithin(Duration lease, Duration tick) {
        Duration ten = tick.multipliedBy(10);
        return lease.compareTo(ten) >= 0 ? lease : ten;
    }

    public static WorkerHealth read(Store store, long nowMillis, Duration aliveWithin) {
        List<Tx.WorkerRow> rows = store.read(Tx::workers);
        Map<String, Integer> running = store.read(Tx::runningByOwner);
        int alive = 0;
        int dead = 0;
        int stopped = 0;
        int deadHolding = 0;
        int jobsOnDead = 0;
        for (Tx.WorkerRow w : rows) {
            if (w.stoppedAt() != null) {
                stopped++;
            } else if (nowMillis - w.heartbeatAt() <= aliveWithin.toMillis()) {
                alive++;
            } else {
                dead++;
                int held = running.getOrDefault(w.id(), 0);
                if (held > 0) {
                    deadHolding++;
                    jobsOnDead += held;
                }
            }
        }
        return new WorkerHealth(alive, dead, stopped, deadHolding, jobsOnDead);
    }

    public String describe() {
        return alive + " alive, " + dead + " dead" + (jobsOnDead > 0 ? " (holding " + jobsOnDead + " running job(s))" : "")
                + ", " + stopped + " stopped";
    }
}
