package dev.warden.health;

import dev.warden.model.ErrorClass;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.model.UpstreamClient;
import dev.warden.ledger.Redactor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The provider probe shared by {@code warden models doctor}, {@code warden doctor} and
 * {@code warden canary}: {@code GET <base_url>/models} with the provider's key. OK on a 2xx;
 * DEGRADED on 429 or 5xx (it answers but is overloaded or failing); DOWN when it cannot be reached,
 * refuses the key, or its key reference resolves to nothing ({@code missing_key}, no call made).
 */
public final class ProviderProbes {
    public enum State { OK, DEGRADED, DOWN }

    /** One provider's result; {@code detail} is secret-scrubbed. */
    public record Probe(String provider, State status, String lastErrorClass, long latencyMs, String detail) {}

    private ProviderProbes() {}

    /** Probes every configured provider in order. {@code maxWait} caps the configured timeouts (null: as configured). */
    public static List<Probe> probeAll(ModelsConfig models, ProviderKeys keys, Redactor redactor, Duration maxWait) {
        ModelsConfig.Timeouts t = models.timeouts();
        if (maxWait != null) {
            t = new ModelsConfig.Timeouts(min(t.connect(), maxWait), min(t.read(), maxWait));
        }
        List<Probe> out = new ArrayList<>();
        if (models.providers().isEmpty()) {
            return out;
        }
        try (UpstreamClient client = new UpstreamClient(t)) {
            for (ModelsConfig.Provider p : models.providers().values()) {
                out.add(probe(client, p, keys, redactor));
            }
        }
        return out;
    }

    static Probe probe(UpstreamClient client, ModelsConfig.Provider p, ProviderKeys keys, Redactor redactor) {
        Optional<String> key = keys.resolve(p.key());
        long t0 = System.nanoTime();
        if (p.key().isPresent() && key.isEmpty()) {
            return new Probe(p.id(), State.DOWN, "missing_key", 0, redactor.scrub(p.key().get() + " resolves to nothing"));
        }
        UpstreamClient.Failure f = client.probe(p.baseUrl(), key.orElse(null));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (f == null) {
            return new Probe(p.id(), State.OK, null, ms, "");
        }
        State s = f.errorClass() == ErrorClass.TRANSIENT_QUOTA || f.errorClass() == ErrorClass.TRANSIENT_SERVER ? State.DEGRADED : State.DOWN;
        return new Probe(p.id(), s, f.errorClass().wire(), ms, redactor.scrub(f.message()));
    }

    /** The worst state of all (OK when there is none). */
    public static State worst(List<Probe> probes) {
        State w = State.OK;
        for (Probe p : probes) {
            if (p.status().ordinal() > w.ordinal()) {
                w = p.status();
            }
        }
        return w;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
