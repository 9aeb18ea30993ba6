package dev.warden.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON Schema (draft 2020-12) validation against the schemas shipped in the jar under
 * {@code schemas/}. Reports every violation, each as {@code <field path>: <rule>}.
 */
public final class Schemas {
    private static final String BASE = "https://warden.dev/schemas/";
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            b -> b.schemaMappers(m -> m.mapPrefix(BASE, "classpath:schemas/")));
    private static final Map<String, JsonSchema> CACHE = new ConcurrentHashMap<>();

    private Schemas() {}

    /** Validates {@code doc} against {@code schemas/<name>}; field paths are prefixed with {@code prefix}. */
    public static List<String> validate(String name, JsonNode doc, String prefix) {
        JsonSchema schema = CACHE.computeIfAbsent(name, n -> FACTORY.getSchema(SchemaLocation.of(BASE + n)));
        List<String> out = new ArrayList<>();
        for (ValidationMessage m : schema.validate(doc)) {
            out.add(describe(m, prefix));
        }
        out.sort(null);
        return out;
    }

    private static String describe(ValidationMessage m, String prefix) {
        String loc = m.getInstanceLocation().toString(); // "$", "$.budgets", "$.patterns[0]"
        String path = loc.equals("$") ? "" : loc.substring(loc.startsWith("$.") ? 2 : 1);
        String msg = m.getMessage();
        int colon = msg.indexOf(": ");
        String rule = colon >= 0 && msg.startsWith("$") ? msg.substring(colon + 2) : msg;
        if ("additionalProperties".equals(m.getType()) && m.getProperty() != null) {
            String field = join(prefix, join(path, m.getProperty()));
            return field + ": unknown field (not allowed by the schema)";
        }
        if ("required".equals(m.getType()) && m.getProperty() != null) {
            return join(prefix, join(path, m.getProperty())) + ": required field is missing";
        }
        String field = join(prefix, path);
        return (field.isEmpty() ? "(document)" : field) + ": " + rule;
    }

    private static String join(String a, String b) {
        if (a == null || a.isEmpty()) {
            return b;
        }
        if (b == null || b.isEmpty()) {
            return a;
        }
        return b.startsWith("[") ? a + b : a + "." + b;
    }
}
