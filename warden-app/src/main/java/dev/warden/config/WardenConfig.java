package dev.warden.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.policy.Budgets;
import dev.warden.policy.OperatorPolicy;
import dev.warden.policy.Policy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The validated configuration, with defaults applied (SPEC section 16). */
public record WardenConfig(Optional<Path> source, Optional<String> nodeId, OperatorPolicy policy,
                           Map<String, Integer> slots, int concurrency, java.util.OptionalInt claimBatch, Duration lease,
                           Duration pollInterval, Duration tick, Duration backoffBase, Duration backoffMax, int port,
                           String bind, boolean allowNonLoopback, List<String> secretEnv, List<String> secretFiles,
                           dev.warden.model.ModelsConfig models, JsonNode raw) {
    public static final int DEFAULT_PORT = 8787;

    /** Builds the config from an already schema-validated document. */
    static WardenConfig from(JsonNode doc, Optional<Path> source, List<String> defaultRoots) {
        List<String> errors = new ArrayList<>();
        dev.warden.model.ModelsConfig models = dev.warden.model.ModelsConfig.parse(doc.path("models"), errors);
        dev.warden.evidence.S3Settings.parse(doc.path("evidence_store").path("s3"), errors);
        doc.path("slots_require_vram").fieldNames().forEachRemaining(slot -> {
            if (!doc.path("slots").has(slot)) {
                errors.add("slots_require_vram." + slot + ": no slot '" + slot + "' in slots (declare it with its capacity)");
            }
        });
        if (!errors.isEmpty()) {
            throw dev.warden.common.WardenException.invalid("config " + source.map(Path::toString).orElse("(defaults)")
                    + " is invalid; refusing to start", errors);
        }
        OperatorPolicy defaults = OperatorPolicy.defaults(defaultRoots);
        JsonNode p = doc.path("policy");
        OperatorPolicy policy = defaults;
        if (p.isObject()) {
            Policy caps = Policy.fromJson(p);
            if (!p.has("paths")) {
                caps = new Policy(caps.tools(), caps.exec(), defaults.caps().readPaths(), List.of(), caps.network(), caps.repos());
            }
            if (!p.has("repos")) {
                caps = new Policy(caps.tools(), caps.exec(), caps.readPaths(), caps.writePaths(), caps.network(),
                        defaults.caps().repos());
            }
            JsonNode b = p.path("budgets");
            Budgets db = defaults.budgets();
            Budgets budgets = new Budgets(b.path("wall_time_s").asLong(db.wallTimeS()),
                    b.path("tool_calls").asLong(db.toolCalls()), b.path("output_bytes").asLong(db.outputBytes()),
                    b.has("tokens") ? Long.valueOf(b.get("tokens").asLong()) : db.tokens(),
                    b.has("usd") ? b.get("usd").decimalValue() : db.usd(), null);
            policy = new OperatorPolicy(caps,
                    OperatorPolicy.Isolation.valueOf(p.path("isolation").asText("bwrap")), budgets,
                    !"off".equals(p.path("evidence").path("content").asText("redacted")));
        }
        Map<String, Integer> slots = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("slots").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            slots.put(e.getKey(), e.getValue().asInt());
        }
        JsonNode w = doc.path("worker");
        int concurrency = w.path("concurrency").asInt(Math.max(4, Runtime.getRuntime().availableProcessors() * 2));
        JsonNode q = doc.path("queue");
        JsonNode s = doc.path("server");
        List<String> secretEnv = new ArrayList<>();
        doc.path("secrets").path("env").forEach(x -> secretEnv.add(x.asText()));
        List<String> secretFiles = new ArrayList<>();
        doc.path("secrets").path("files").forEach(x -> secretFiles.add(x.asText()));
        return new WardenConfig(source,
                doc.hasNonNull("node_id") ? Optional.of(doc.get("node_id").asText()) : Optional.empty(),
                policy, Map.copyOf(slots), concurrency,
                w.hasNonNull("claim_batch") ? java.util.OptionalInt.of(w.get("claim_batch").asInt()) : java.util.OptionalInt.empty(),
                Duration.ofSeconds(w.path("lease_s").asLong(30)),
                Duration.ofMillis(w.path("poll_ms").asLong(200)),
                Duration.ofMillis(w.path("tick_ms").asLong(1000)),
                Duration.ofMillis(q.path("backoff_base_ms").asLong(2000)),
                Duration.ofMillis(q.path("backoff_max_ms").asLong(3_600_000)),
                s.path("port").asInt(DEFAULT_PORT), s.path("bind").asText("127.0.0.1"),
                s.path("allow_non_loopback").asBoolean(false), List.copyOf(secretEnv), List.copyOf(secretFiles), models, doc);
    }

    /** What a slot needs at claim time besides capacity ({@code slots_require_vram}). */
    public record VramRequirement(long minFreeMb, boolean allowNoNvidiaSmi) {}

    /** {@code slots_require_vram}: slots that are claimed only while the VRAM guard says yes, by slot name. */
    public Map<String, VramRequirement> slotsRequireVram() {
        Map<String, VramRequirement> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = raw.path("slots_require_vram").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), new VramRequirement(e.getValue().path("min_free_mb").asLong(0),
                    e.getValue().path("allow_no_nvidia_smi").asBoolean(false)));
        }
        return out;
    }

    /** {@code evidence_store.s3}: the object store that keeps evidence files, when configured (checked at load). */
    public Optional<dev.warden.evidence.S3Settings> evidenceS3() {
        return dev.warden.evidence.S3Settings.parse(raw.path("evidence_store").path("s3"), new ArrayList<>());
    }

    public static WardenConfig defaults(List<String> defaultRoots) {
        return from(Json.object(), Optional.empty(), defaultRoots);
    }
}
