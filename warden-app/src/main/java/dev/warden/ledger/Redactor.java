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

    /**
     * {@code Json.canonical(redact(node))}, written in one pass without the redacted copy (sealing
     * needs only the text: building the copy was a fifth of sealing an entry). Members are sorted by
     * their scrubbed names; where two names scrub to the same one the later member stands, as in
     * {@link #redact}'s copy.
     */
    public String redactedCanonical(JsonNode node) {
        StringBuilder b = new StringBuilder(128);
        appendRedactedCanonical(b, node);
        return b.toString();
    }

    private void appendRedactedCanonical(StringBuilder b, JsonNode node) {
        if (node.isObject()) {
            int n = node.size();
            String[] names = new String[n];
            JsonNode[] values = new JsonNode[n];
            boolean[] content = new boolean[n];
            int i = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); i++) {
                Map.Entry<String, JsonNode> f = it.next();
                names[i] = secrets.scrub(f.getKey());
                values[i] = f.getValue();
                content[i] = CONTENT_KEYS.contains(f.getKey().toLowerCase(Locale.ROOT));
            }
            int[] order = sortedByName(names);
            char sep = '{';
            for (int k = 0; k < n; k++) {
                int at = order[k];
                if (k + 1 < n && names[order[k + 1]].equals(names[at])) {
                    continue; // a later member scrubbed to the same name replaces this one
                }
                b.append(sep);
                Json.appendQuoted(b, names[at]);
                b.append(':');
                if (content[at]) {
                    Json.appendCanonical(b, digest(values[at]));
                } else {
                    appendRedactedCanonical(b, values[at]);
                }
                sep = ',';
            }
            b.append(sep == '{' ? "{}" : "}");
        } else if (node.isArray()) {
            Json.appendArray(b, node, this::appendRedactedCanonical);
        } else if (node.isTextual()) {
            Json.appendQuoted(b, secrets.scrub(node.textValue()));
        } else {
            Json.appendCanonical(b, node); // other values are copied unchanged
        }
    }

    /** Indices of {@code names} in sorted order, equal names in their original order. */
    private static int[] sortedByName(String[] names) {
        int[] order = new int[names.length];
        if (names.length > 16) { // a large object (a job's result, say): a stable O(n log n) sort
            Integer[] boxed = new Integer[names.length];
            for (int i = 0; i < boxed.length; i++) {
                boxed[i] = i;
            }
            java.util.Arrays.sort(boxed, (x, y) -> names[x].compareTo(names[y]));
            for (int i = 0; i < boxed.length; i++) {
                order[i] = boxed[i];
            }
            return order;
        }
        for (int i = 0; i < order.length; i++) { // most details have a handful of members: an insertion sort
            int j = i;
            while (j > 0 && names[order[j - 1]].compareTo(names[i]) > 0) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
        return order;
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
