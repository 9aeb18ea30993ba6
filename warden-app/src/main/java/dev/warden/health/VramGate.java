package dev.warden.health;

import dev.warden.queue.SlotGate;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes slots that require free VRAM ({@code slots_require_vram} in the config) while the VRAM
 * guard says no. nvidia-smi runs on a background thread every {@link #REFRESH}, never inside a
 * claim: the claim path only reads the latest sample. Fail closed: before the first sample, and
 * when the latest sample is older than {@link #STALE_AFTER} (nvidia-smi hanging), the slots are
 * closed.
 */
public final class VramGate implements SlotGate, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VramGate.class);
    public static final Duration REFRESH = Duration.ofSeconds(5);
    public static final Duration STALE_AFTER = Duration.ofSeconds(30);

    /** What one slot needs: at least {@code minFreeMb} free on some GPU; {@code allowNoNvidiaSmi} opens it on machines without nvidia-smi. */
    public record Requirement(long minFreeMb, boolean allowNoNvidiaSmi) {}

    private record Taken(VramGuard.Sample sample, long atMillis) {}

    private final VramGuard guard;
    private final Map<String, Requirement> requirements;
    private final Clock clock;
    private volatile Taken latest;
    private ScheduledExecutorService refresher;

    public VramGate(VramGuard guard, Map<String, Requirement> requirements, Clock clock) {
        this.guard = guard;
        this.requirements = Map.copyOf(requirements);
        this.clock = clock;
    }

    public Map<String, Requirement> requirements() {
        return requirements;
    }

    /** Takes a first sample now, then keeps sampling in the background (idempotent). */
    public synchronized VramGate start() {
        if (refresher == null && !requirements.isEmpty()) {
            refreshQuietly();
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "vram-guard");
                t.setDaemon(true);
                return t;
            });
            refresher.scheduleWithFixedDelay(this::refreshQuietly, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Runs nvidia-smi now and keeps the sample (the background thread calls this; tests call it directly). */
    public void refresh() {
        latest = new Taken(guard.sample(), clock.millis());
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.warn("VRAM guard sample failed: {}", e.toString());
        }
    }

    /** The verdict for one slot now, or empty when the slot has no VRAM requirement. */
    public Optional<VramGuard.Verdict> verdict(String slot) {
        Requirement req = requirements.get(slot);
        if (req == null) {
            return Optional.empty();
        }
        Taken t = latest;
        if (t == null) {
            return Optional.of(new VramGuard.Verdict(false, VramGuard.Reason.NVIDIA_SMI_ERROR, "no VRAM sample yet",
                    req.minFreeMb(), 0, null));
        }
        long age = clock.millis() - t.atMillis();
        if (age > STALE_AFTER.toMillis()) {
            return Optional.of(new VramGuard.Verdict(false, VramGuard.Reason.NVIDIA_SMI_ERROR,
                    "the latest VRAM sample is " + age / 1000 + " s old (nvidia-smi not answering?)", req.minFreeMb(), 0, null));
        }
        return Optional.of(VramGuard.verdict(t.sample(), req.minFreeMb(), req.allowNoNvidiaSmi()));
    }

    @Override
    public Optional<Closed> closed(String slot) {
        return verdict(slot).filter(v -> !v.ok()).map(v -> new Closed(v.reason().name(), v.message()));
    }

    @Override
    public synchronized void close() {
        if (refresher != null) {
            refresher.shutdownNow();
            refresher = null;
        }
    }
}
