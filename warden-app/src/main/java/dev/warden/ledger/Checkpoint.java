package dev.warden.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.store.Tx.LedgerHead;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Saved chain heads; verifying against one detects truncation of any chain. */
public record Checkpoint(Instant ts, Map<String, Head> heads) {
    public static final String SCHEMA = "warden.checkpoint.v1";

    public record Head(long seq, String hash) {}

    public static Checkpoint of(List<LedgerHead> heads, Instant ts) {
        Map<String, Head> m = new TreeMap<>();
        heads.forEach(h -> m.put(h.chain(), new Head(h.seq(), h.hash())));
        return new Checkpoint(ts, m);
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.put("schema", SCHEMA);
        n.put("ts", Envelope.formatTs(ts));
        ObjectNode chains = n.putObject("chains");
        heads.forEach((c, h) -> chains.putObject(c).put("seq", h.seq()).put("hash", h.hash()));
        return n;
    }

    public static Checkpoint fromJson(JsonNode n) {
        if (!SCHEMA.equals(n.path("schema").asText()) || !n.path("chains").isObject()) {
            throw WardenException.badInput("checkpoint: not a " + SCHEMA + " document (needs schema and chains)");
        }
        Map<String, Head> m = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("chains").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode h = e.getValue();
            if (!h.path("seq").canConvertToLong() || !h.path("hash").isTextual()) {
                throw WardenException.badInput("checkpoint: chains." + e.getKey() + " needs integer seq and string hash");
            }
            m.put(e.getKey(), new Head(h.path("seq").asLong(), h.path("hash").asText()));
        }
        try {
            return new Checkpoint(Instant.parse(n.path("ts").asText(Instant.EPOCH.toString())), m);
        } catch (java.time.format.DateTimeParseException e) {
            throw WardenException.badInput("checkpoint: ts '" + n.path("ts").asText() + "' is not an ISO-8601 instant");
        }
    }
}
