package dev.warden.common;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Shared Jackson mappers and the canonical JSON form used for hashing. */
public final class Json {
    /**
     * Jackson's default buffer recycling keeps buffers per thread, which a virtual thread per
     * request never reuses (each parse and write allocated fresh 8-16 KB buffers); a pool shared by
     * all threads reuses them. Output and parsing are unchanged.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .recyclerPool(com.fasterxml.jackson.core.util.JsonRecyclerPools.newConcurrentDequePool()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {}

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    public static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw WardenException.badInput("malformed JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Canonical JSON: object keys sorted by code point, no insignificant whitespace. */
    public static String canonical(JsonNode node) {
        StringBuilder b = new StringBuilder(128);
        appendCanonical(b, node);
        return b.toString();
    }

    /**
     * Appends {@link #canonical}'s text of {@code node}, written directly rather than through a
     * generator: text exactly as Jackson's generator writes it (members sorted by
     * {@link String#compareTo}, strings escaped by Jackson's own encoder, whole numbers in decimal).
     * Other numbers, binary and POJO nodes go through the generator, one leaf at a time. Sealing a
     * ledger entry does this for every entry's details.
     */
    public static void appendCanonical(StringBuilder b, JsonNode node) {
        if (node.isObject()) {
            int n = node.size();
            if (n == 0) {
                b.append("{}");
                return;
            }
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(n);
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                fields.add(it.next());
            }
            if (n > 1) {
                fields.sort(Map.Entry.comparingByKey());
            }
            char sep = '{';
            for (Map.Entry<String, JsonNode> f : fields) {
                b.append(sep);
                appendQuoted(b, f.getKey());
                b.append(':');
                appendCanonical(b, f.getValue());
                sep = ',';
            }
            b.append('}');
        } else if (node.isArray()) {
            appendArray(b, node, Json::appendCanonical);
        } else if (node.isTextual()) {
            appendQuoted(b, node.textValue());
        } else if (node.isInt() || node.isLong() || node.isShort()) {
            b.append(node.longValue());
        } else if (node.isBoolean()) {
            b.append(node.booleanValue());
        } else if (node.isNull()) {
            b.append("null");
        } else {
            b.append(viaGenerator(node));
        }
    }

    /** Appends {@code array} as a JSON array, each element written by {@code element}. */
    public static void appendArray(StringBuilder b, JsonNode array, java.util.function.BiConsumer<StringBuilder, JsonNode> element) {
        char sep = '[';
        for (JsonNode e : array) {
            b.append(sep);
            element.accept(b, e);
            sep = ',';
        }
        b.append(sep == '[' ? "[]" : "]");
    }

    /** A leaf {@link #appendCanonical} does not write itself, as Jackson's generator writes it. */
    private static String viaGenerator(JsonNode node) {
        StringWriter out = new StringWriter();
        try (JsonGenerator gen = MAPPER.getFactory().createGenerator(out)) {
            if (node.isNumber()) {
                // as writeTree would (a numeric node's serialize() ignores the provider), without its serializer lookup
                ((com.fasterxml.jackson.databind.node.NumericNode) node).serialize(gen, null);
            } else {
                MAPPER.writeTree(gen, node);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /**
     * Appends {@code s} as a JSON string, exactly as Jackson's generator writes it ({@code null} as
     * {@code null}): it escapes control characters, quotes and backslashes, nothing else, so a string
     * without them (most members: ids, event names, hashes, times) is copied as it is.
     */
    public static void appendQuoted(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        if (needsEscape(s)) {
            com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s, b);
        } else {
            b.append(s);
        }
        b.append('"');
    }

    private static boolean needsEscape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') {
                return true;
            }
        }
        return false;
    }
}
