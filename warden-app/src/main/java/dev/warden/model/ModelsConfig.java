package dev.warden.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code models} section of the config (SPEC section 7), after the schema check: providers,
 * models, routes by purpose and budget caps. {@link #parse} adds the checks a schema cannot make
 * (references between the lists, loopback-only local providers, key file permissions) to a list
 * of violations, so every problem is reported at once.
 */
public record ModelsConfig(Map<String, Provider> providers, Map<String, ModelDef> models, Map<String, Route> routes,
                           BudgetCaps budget, Breaker breaker, Timeouts timeouts) {

    /** An OpenAI-compatible endpoint; {@code key} is a reference ({@code env:NAME} or {@code file:PATH}), never the key. */
    public record Provider(String id, URI baseUrl, Optional<String> key, boolean local) {}

    /** Price in USD per one million tokens. */
    public record Price(BigDecimal inputPer1m, BigDecimal outputPer1m) {}

    /** {@code price} is empty when the config gives none: such a hosted model is refused at call time. */
    public record ModelDef(String id, String provider, String name, Optional<Price> price, int contextWindow) {}

    public record Route(String purpose, String primary, List<String> fallbacks, boolean pinned,
                        Optional<Integer> maxOutputTokens, Optional<Double> temperature) {
        public List<String> candidates() {
            List<String> all = new ArrayList<>();
            all.add(primary);
            fallbacks.stream().filter(f -> !all.contains(f)).forEach(all::add);
            return all;
        }
    }

    /** Caps in USD; empty means no cap at that level. */
    public record BudgetCaps(Optional<BigDecimal> usdPerCall, Optional<BigDecimal> usdPerJob, Optional<BigDecimal> usdPerDay) {}

    /** Circuit breaker: {@code failures} transient failures in a row open it for {@code cooldown}. */
    public record Breaker(int failures, Duration cooldown) {}

    /** Upstream timeouts: connecting, and waiting for the next bytes of a response. */
    public record Timeouts(Duration connect, Duration read) {}

    /** The output tokens reserved when neither the request nor the route caps them. */
    public static final int DEFAULT_MAX_OUTPUT_TOKENS = 4096;

    public static ModelsConfig empty() {
        return new ModelsConfig(Map.of(), Map.of(), Map.of(),
                new BudgetCaps(Optional.empty(), Optional.empty(), Optional.empty()),
                new Breaker(3, Duration.ofSeconds(30)), new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(120)));
    }

    public boolean isEmpty() {
        return providers.isEmpty();
    }

    /** The model of {@code id}, or empty. */
    public Optional<ModelDef> model(String id) {
        return Optional.ofNullable(models.get(id));
    }

    /** Parses an already schema-checked {@code models} node, adding every semantic violation to {@code errors}. */
    public static ModelsConfig parse(JsonNode n, List<String> errors) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return empty();
        }
        Map<String, Provider> providers = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode p : n.path("providers")) {
            String at = "models.providers[" + i++ + "]";
            String id = p.path("id").asText();
            if (providers.containsKey(id)) {
                errors.add(at + ".id: '" + id + "' is used by another provider");
            }
            URI url;
            try {
                url = URI.create(p.path("base_url").asText().replaceAll("/+$", ""));
                if (url.getHost() == null) {
                    throw new IllegalArgumentException("no host");
                }
            } catch (IllegalArgumentException e) {
                errors.add(at + ".base_url: '" + p.path("base_url").asText() + "' is not a valid http(s) URL");
                continue;
            }
            boolean local = p.path("local").asBoolean(false);
            if (local && !isLoopback(url.getHost())) {
                errors.add(at + ".base_url: provider '" + id + "' is local: true, so its host must be a loopback address (got "
                        + url.getHost() + ")");
            }
            Optional<String> key = p.hasNonNull("key") ? Optional.of(p.get("key").asText()) : Optional.empty();
            key.filter(k -> k.startsWith("file:")).ifPresent(k -> checkKeyFile(Path.of(k.substring(5)), at + ".key", errors));
            providers.put(id, new Provider(id, url, key, local));
        }
        Map<String, ModelDef> models = new LinkedHashMap<>();
        i = 0;
        for (JsonNode m : n.path("models")) {
            String at = "models.models[" + i++ + "]";
            String id = m.path("id").asText();
            if (models.containsKey(id)) {
                errors.add(at + ".id: '" + id + "' is used by another model");
            }
            String provider = m.path("provider").asText();
            if (!providers.containsKey(provider)) {
                errors.add(at + ".provider: '" + provider + "' is not a configured provider");
            }
            Optional<Price> price = m.has("price")
                    ? Optional.of(new Price(m.path("price").path("input_per_1m").decimalValue(),
                    m.path("price").path("output_per_1m").decimalValue()))
                    : Optional.empty();
            models.put(id, new ModelDef(id, provider, m.path("name").asText(), price, m.path("context_window").asInt(128_000)));
        }
        Map<String, Route> routes = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("routes").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String purpose = e.getKey();
            String at = "models.routes." + purpose;
            if (!purpose.matches("[A-Za-z0-9_.-]{1,64}")) {
                errors.add(at + ": a purpose is 1-64 letters, digits, '_', '.' or '-'");
            }
            if (models.containsKey(purpose)) {
                errors.add(at + ": a route may not have the same name as a model id ('" + purpose + "')");
            }
            JsonNode r = e.getValue();
            List<String> fallbacks = new ArrayList<>();
            r.path("fallbacks").forEach(f -> fallbacks.add(f.asText()));
            Route route = new Route(purpose, r.path("primary").asText(), List.copyOf(fallbacks), r.path("pinned").asBoolean(false),
                    r.path("caps").has("max_output_tokens") ? Optional.of(r.path("caps").path("max_output_tokens").asInt()) : Optional.empty(),
                    r.path("caps").has("temperature") ? Optional.of(r.path("caps").path("temperature").asDouble()) : Optional.empty());
            if (!models.containsKey(route.primary())) {
                errors.add(at + ".primary: '" + route.primary() + "' is not a configured model");
            }
            for (int f = 0; f < fallbacks.size(); f++) {
                if (!models.containsKey(fallbacks.get(f))) {
                    errors.add(at + ".fallbacks[" + f + "]: '" + fallbacks.get(f) + "' is not a configured model");
                }
            }
            routes.put(purpose, route);
        }
        JsonNode b = n.path("budget");
        BudgetCaps caps = new BudgetCaps(decimal(b, "usd_per_call"), decimal(b, "usd_per_job"), decimal(b, "usd_per_day"));
        JsonNode br = n.path("breaker");
        Breaker breaker = new Breaker(br.path("failures").asInt(3), Duration.ofSeconds(br.path("cooldown_s").asLong(30)));
        JsonNode t = n.path("timeouts");
        Timeouts timeouts = new Timeouts(Duration.ofMillis(t.path("connect_ms").asLong(5_000)),
                Duration.ofMillis(t.path("read_ms").asLong(120_000)));
        return new ModelsConfig(Map.copyOf(providers), java.util.Collections.unmodifiableMap(models),
                java.util.Collections.unmodifiableMap(routes), caps, breaker, timeouts);
    }

    private static Optional<BigDecimal> decimal(JsonNode n, String field) {
        return n.has(field) ? Optional.of(n.get(field).decimalValue()) : Optional.empty();
    }

    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false; // a name other than localhost: resolving it is not a proof of where it points later
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Adds to {@code errors} why an existing key file at {@code at} must not be used (a missing one may be provisioned later). */
    public static void checkKeyFile(Path file, String at, List<String> errors) {
        if (!Files.exists(file)) {
            return; // reported as missing_key by status and doctor; a key may be provisioned after the config
        }
        keyFileProblem(file).ifPresent(p -> errors.add(at + ": key file " + file + " " + p));
    }

    /** Why a key file must not be used (open to group or others, or unreadable), or empty. */
    static Optional<String> keyFileProblem(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)
                    || perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return Optional.of("must not be readable or writable by group or others (chmod 600 it)");
            }
            return Optional.empty();
        } catch (UnsupportedOperationException | java.io.IOException e) {
            return Optional.of("cannot be checked: " + e.getMessage());
        }
    }
}
