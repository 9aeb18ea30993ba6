package dev.warden.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** One sealed ledger entry in the {@code warden.event.v1} shape. */
public record Envelope(long seq, String ts, String event, String severity, String component, String corrId,
                       String actor, String chain, JsonNode details, String prevHash, String hash) {
    public static final String SCHEMA = "warden.event.v1";
    public static final String GENESIS = "0".repeat(64);
    public static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    public static String formatTs(Instant instant) {
        return TS.format(instant);
    }

    /** The envelope as JSON; {@code hash} is included only when {@code withHash}. */
    public ObjectNode toJson(boolean withHash) {
        ObjectNode n = Json.object();
        n.put("schema", SCHEMA);
        n.put("seq", seq);
        n.put("ts", ts);
        n.put("event", event);
        n.put("severity", severity);
        n.put("component", component);
        if (corrId == null) {
            n.putNull("corr_id");
        } else {
            n.put("corr_id", corrId);
        }
        n.put("actor", actor);
        n.put("chain", chain);
        n.set("details", details == null ? Json.object() : details);
        n.put("prev_hash", prevHash);
        if (withHash) {
            n.put("hash", hash);
        }
        return n;
    }

    /** {@code Json.canonical(toJson(false))}: see {@link #canonicalWithoutHash(long, String, String, String, String, String, String, String, String, String)}. */
    public String canonicalWithoutHash() {
        return canonicalWithoutHash(seq, ts, event, severity, component, corrId, actor, chain,
                Json.canonical(details == null ? Json.object() : details), prevHash);
    }

    /**
     * The canonical JSON of an entry without its hash, written directly: the envelope's members in
     * sorted order around the details' canonical text ({@code detailsCanonical}), strings quoted as
     * Jackson's generator quotes them. Sealing does this for every ledger entry; building and
     * sorting an object tree per entry was most of that work.
     */
    public static String canonicalWithoutHash(long seq, String ts, String event, String severity, String component,
                                              String corrId, String actor, String chain, String detailsCanonical,
                                              String prevHash) {
        StringBuilder b = new StringBuilder(detailsCanonical.length() + 320);
        b.append("{\"actor\":");
        Json.appendQuoted(b, actor);
        b.append(",\"chain\":");
        Json.appendQuoted(b, chain);
        b.append(",\"component\":");
        Json.appendQuoted(b, component);
        b.append(",\"corr_id\":");
        Json.appendQuoted(b, corrId);
        b.append(",\"details\":").append(detailsCanonical).append(",\"event\":");
        Json.appendQuoted(b, event);
        b.append(",\"prev_hash\":");
        Json.appendQuoted(b, prevHash);
        b.append(",\"schema\":\"").append(SCHEMA).append("\",\"seq\":").append(seq).append(",\"severity\":");
        Json.appendQuoted(b, severity);
        b.append(",\"ts\":");
        Json.appendQuoted(b, ts);
        return b.append('}').toString();
    }

    public ObjectNode toJson() {
        return toJson(true);
    }

    /** SHA-256 over the canonical JSON of the entry without {@code hash}. */
    public static String computeHash(JsonNode entryWithoutHash) {
        return Ids.sha256Hex(Json.canonical(entryWithoutHash));
    }

    public static Envelope fromJson(JsonNode n) {
        return new Envelope(n.path("seq").asLong(), n.path("ts").asText(), n.path("event").asText(),
                n.path("severity").asText(), n.path("component").asText(),
                n.path("corr_id").isNull() ? null : n.path("corr_id").asText(null), n.path("actor").asText(),
                n.path("chain").asText(), n.path("details"), n.path("prev_hash").asText(), n.path("hash").asText());
    }
}
