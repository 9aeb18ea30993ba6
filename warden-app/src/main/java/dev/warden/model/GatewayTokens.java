package dev.warden.model;

import dev.warden.common.Ids;
import dev.warden.common.WardenException;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gateway client tokens: each maps to a daily USD budget and the routes (or model ids) it may use.
 * Only a SHA-256 of a token is stored; the token is shown once, at creation.
 */
public final class GatewayTokens {
    public static final String PREFIX = "wgw_";
    private static final long CACHE_MILLIS = 1_000;

    /** A token as the gateway sees it. */
    public record Client(String name, String fingerprint, long usdPerDayNano, List<String> routes) {
        public boolean mayUse(String target) {
            return routes.contains("*") || routes.contains(target);
        }
    }

    private final Store store;
    private final Ledger ledger;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Optional<Client> client, long at) {}

    public GatewayTokens(Store store, Ledger ledger, Clock clock) {
        this.store = store;
        this.ledger = ledger;
        this.clock = clock;
    }

    /** Creates a token; returns it (the only time it is ever shown). */
    public String create(String name, BigDecimal usdPerDay, List<String> routes, ModelsConfig models, String actor) {
        if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw WardenException.badInput("NAME: '" + name + "' must be 1-64 letters, digits, '_', '.' or '-'");
        }
        if (usdPerDay.signum() < 0) {
            throw WardenException.badInput("--budget-usd-per-day: must be 0 or more (got " + usdPerDay.toPlainString() + ")");
        }
        if (routes.isEmpty()) {
            throw WardenException.badInput("--routes: name at least one route or model id (or * for all)");
        }
        for (String r : routes) {
            if (!r.equals("*") && !models.routes().containsKey(r) && !models.models().containsKey(r)) {
                throw WardenException.badInput("--routes: '" + r + "' is neither a configured route nor a model id"
                        + (models.routes().isEmpty() ? " (no routes are configured)" : " (routes: " + String.join(", ", models.routes().keySet()) + ")"));
            }
        }
        String token = PREFIX + Ids.randomToken(24);
        String fingerprint = fingerprint(token);
        store.write(tx -> {
            if (tx.gatewayTokens().stream().anyMatch(t -> t.name().equals(name))) {
                throw WardenException.badInput("NAME: a gateway token named '" + name + "' already exists (revoke it first)");
            }
            tx.insertGatewayToken(new Tx.GatewayTokenRow(name, hash(token), fingerprint, Usd.toNano(usdPerDay),
                    String.join(",", routes), clock.millis(), null));
            ledger.append(tx, EventDraft.info("gateway.token.created", "gateway", "gateway-token:" + name, actor,
                    dev.warden.common.Json.object().put("name", name).put("fingerprint", fingerprint)
                            .put("usd_per_day", usdPerDay.toPlainString()).put("routes", String.join(",", routes))));
            return null;
        });
        return token;
    }

    public boolean revoke(String name, String actor) {
        boolean done = store.write(tx -> {
            boolean r = tx.revokeGatewayToken(name, clock.millis());
            if (r) {
                ledger.append(tx, EventDraft.info("gateway.token.revoked", "gateway", "gateway-token:" + name, actor,
                        dev.warden.common.Json.object().put("name", name)));
            }
            return r;
        });
        cache.clear();
        return done;
    }

    public List<Tx.GatewayTokenRow> list() {
        return store.read(Tx::gatewayTokens);
    }

    /** The client a presented token belongs to, or empty (unknown or revoked). Cached for a second. */
    public Optional<Client> authenticate(String presented) {
        if (presented == null || !presented.startsWith(PREFIX) || presented.length() > 200) {
            return Optional.empty();
        }
        String h = hash(presented);
        long now = System.currentTimeMillis();
        Cached c = cache.get(h);
        if (c != null && now - c.at() < CACHE_MILLIS) {
            return c.client();
        }
        Optional<Client> client = store.read(tx -> tx.gatewayTokenByHash(h)).filter(r -> r.revokedAt() == null)
                .map(r -> new Client(r.name(), r.fingerprint(), r.usdPerDayNano(), Arrays.asList(r.routes().split(","))));
        if (client.isPresent()) {
            if (cache.size() > 10_000) {
                cache.clear();
            }
            cache.put(h, new Cached(client, now));
        }
        return client;
    }

    static String hash(String token) {
        return Ids.sha256Hex(token.getBytes(StandardCharsets.UTF_8));
    }

    /** A fingerprint safe to show and record: a prefix of the token's hash. */
    public static String fingerprint(String token) {
        return "gw:" + hash(token).substring(0, 12);
    }
}
