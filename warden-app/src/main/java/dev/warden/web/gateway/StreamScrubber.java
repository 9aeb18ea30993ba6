package dev.warden.web.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.SecretScrubber;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scrubs secrets from a streamed chat completion, including a secret the model spells across
 * several chunks (which scrubbing each event on its own lets through). Each text stream of a
 * choice (its {@code delta.content}, {@code delta.refusal} and any other text field, and each
 * tool call's {@code function.arguments}) is scrubbed as one text: the stream's text so far is
 * scrubbed, and its last {@code longest secret - 1} characters are held back, because they could
 * be the start of a secret the next chunk completes. Held text goes out with the next chunk of
 * the same stream, with the choice's {@code finish_reason} chunk, or in one last chunk before
 * {@code [DONE]} (or before an error event). Everything else in an event is scrubbed per event,
 * as before. One instance per streamed response; not thread-safe.
 */
final class StreamScrubber {
    private final SecretScrubber secrets;
    /** Held text per stream: key "choice index" + "\0" + field (or "\0tool\0" + tool call index). */
    private final Map<String, StringBuilder> held = new LinkedHashMap<>();
    private ObjectNode last;

    StreamScrubber(SecretScrubber secrets) {
        this.secrets = secrets;
    }

    /** The event's data to send in place of {@code json}. */
    String next(String json) {
        return next(json, null);
    }

    /** The same, given {@code json} already parsed ({@code parsed}, which may be changed here), or null. */
    String next(String json, JsonNode parsed) {
        if (secrets.isEmpty() && held.isEmpty()) {
            return json;
        }
        JsonNode n = parsed;
        if (n == null) {
            try {
                n = Json.MAPPER.readTree(json);
            } catch (IOException e) {
                n = null;
            }
        }
        if (!(n instanceof ObjectNode chunk) || !(chunk.get("choices") instanceof ArrayNode choices)) {
            return secrets.scrub(json);
        }
        last = chunk;
        int hold = Math.max(0, secrets.longest() - 1); // read live: secrets can be registered after start-up
        for (JsonNode c : choices) {
            if (!(c instanceof ObjectNode choice)) {
                continue;
            }
            String idx = choice.path("index").asText("0");
            boolean finishing = choice.hasNonNull("finish_reason");
            int h = finishing ? 0 : hold;
            if (choice.get("delta") instanceof ObjectNode delta) {
                List<String> names = new ArrayList<>();
                delta.fieldNames().forEachRemaining(names::add);
                for (String f : names) {
                    if (!f.equals("role") && delta.get(f).isTextual()) {
                        delta.put(f, pass(idx + "\0" + f, delta.get(f).textValue(), h));
                    }
                }
                for (JsonNode tc : delta.path("tool_calls")) {
                    if (tc.get("function") instanceof ObjectNode fn && fn.path("arguments").isTextual()) {
                        fn.put("arguments", pass(idx + "\0tool\0" + tc.path("index").asText("0"), fn.get("arguments").textValue(), h));
                    }
                }
            }
            if (finishing) {
                release(choice, idx);
            }
        }
        return secrets.scrub(Json.write(chunk));
    }

    /**
     * One last event carrying the text still held (a stream that ended or failed without a
     * {@code finish_reason}), or null when nothing is held.
     */
    String flush() {
        if (held.isEmpty()) {
            return null;
        }
        ObjectNode chunk = Json.object();
        for (String f : List.of("id", "object", "created", "model")) {
            if (last != null && last.has(f)) {
                chunk.set(f, last.get(f));
            }
        }
        ArrayNode choices = chunk.putArray("choices");
        while (!held.isEmpty()) {
            String key = held.keySet().iterator().next();
            String idx = key.substring(0, key.indexOf('\0'));
            ObjectNode choice = choices.addObject();
            choice.put("index", idx.matches("\\d{1,9}") ? Json.NODES.numberNode(Integer.parseInt(idx)) : Json.NODES.textNode(idx));
            choice.putObject("delta");
            release(choice, idx);
            choice.putNull("finish_reason");
        }
        return secrets.scrub(Json.write(chunk));
    }

    /** Scrubs the stream's held text plus {@code piece}; returns all but its last {@code hold} characters. */
    private String pass(String key, String piece, int hold) {
        StringBuilder h = held.remove(key);
        String s = secrets.scrub(h == null ? piece : h.append(piece).toString());
        int cut = Math.max(0, s.length() - hold);
        if (cut > 0 && cut < s.length() && Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--; // never split a surrogate pair
        }
        if (cut < s.length()) {
            held.put(key, new StringBuilder(s.length() - cut + 64).append(s, cut, s.length()));
        }
        return s.substring(0, cut);
    }

    /** Adds every stream of choice {@code idx} still held to the choice's delta. */
    private void release(ObjectNode choice, String idx) {
        String prefix = idx + "\0";
        for (Iterator<Map.Entry<String, StringBuilder>> it = held.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, StringBuilder> e = it.next();
            if (!e.getKey().startsWith(prefix)) {
                continue;
            }
            it.remove();
            String text = secrets.scrub(e.getValue().toString());
            ObjectNode delta = choice.get("delta") instanceof ObjectNode d ? d : choice.putObject("delta");
            String field = e.getKey().substring(prefix.length());
            if (field.startsWith("tool\0")) {
                String tool = field.substring("tool\0".length());
                ArrayNode calls = delta.get("tool_calls") instanceof ArrayNode a ? a : delta.putArray("tool_calls");
                ObjectNode call = null;
                for (JsonNode tc : calls) {
                    if (tc instanceof ObjectNode o && o.path("index").asText("0").equals(tool)) {
                        call = o;
                    }
                }
                if (call == null) {
                    call = calls.addObject();
                    call.put("index", tool.matches("\\d{1,9}") ? Json.NODES.numberNode(Integer.parseInt(tool)) : Json.NODES.textNode(tool));
                }
                ObjectNode fn = call.get("function") instanceof ObjectNode f ? f : call.putObject("function");
                fn.put("arguments", fn.path("arguments").asText("") + text);
            } else {
                delta.put(field, delta.path(field).asText("") + text);
            }
        }
    }
}
