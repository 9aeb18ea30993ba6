package dev.warden.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Redaction applied before anything is written to the ledger, logs, evidence events, the API or
 * the console: content-bearing keys are replaced by a digest at any depth, and every loaded
 * secret value is scrubbed from every string (keys included).
 */
public final class Redactor {
    /** Keys whose values are content, not metadata (SPEC section 3); matched case-insensitively. */
    public static final Set<String> CONTENT_KEYS =
            Set.of("prompt", "text", "body", "document_body", "messages", "content", "raw_content", "raw");

    private final SecretScrubber secrets;

    public Redactor(SecretScrubber secrets) {
        this.secrets = secrets;
    }

    public SecretScrubber secrets() {
        return secrets;
    }

    /** Returns a redacted deep copy; the input is not modified. */
    public JsonNode redact(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return node;
        }
        if (node.isObject()) {
            ObjectNode out = Json.object();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String key = secrets.scrub(f.getKey());
                if (CONTENT_KEYS.contains(f.getKey().toLowerCase(Locale.ROOT))) {
                    out.set(key, digest(f.getValue()));
                } else {
                    out.set(key, redact(f.getValue()));
                }
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = Json.NODES.arrayNode();
            node.forEach(e -> out.add(redact(e)));
            return out;
        }
        if (node.isTextual()) {
            return TextNode.valueOf(secrets.scrub(node.textValue()));
        }
        return node.deepCopy();
    }

    public ObjectNode redactObject(ObjectNode node) {
        return node == null ? Json.object() : (ObjectNode) redact(node);
    }

    public String scrub(String text) {
        return secrets.scrub(text);
    }

    private static ObjectNode digest(JsonNode value) {
        byte[] bytes = (value.isTextual() ? value.textValue() : Json.canonical(value)).getBytes(StandardCharsets.UTF_8);
        ObjectNode d = Json.object();
        d.put("redacted", true);
        d.put("sha256", Ids.sha256Hex(bytes));
        d.put("bytes", bytes.length);
        return d;
    }
}
