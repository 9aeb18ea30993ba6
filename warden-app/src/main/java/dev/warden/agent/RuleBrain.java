package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.warden.common.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The deterministic, offline brain: keyword rules. Every rule whose {@code when} matches the
 * message (case-insensitive substrings of subject and body: {@code any} of, {@code all} of, and
 * {@code from} in the sender) adds its actions, in rule order; when none matches, the rules
 * without {@code when} apply. {@code {subject}}, {@code {from}} and {@code {id}} in string
 * arguments are replaced by the message's values. The shipped rules are
 * {@code agent/triage-rules.json}; a job can bring its own ({@code payload.rules}).
 */
public final class RuleBrain implements Brain {
    private final JsonNode rules;

    public RuleBrain(JsonNode rules) {
        this.rules = rules;
    }

    public static JsonNode defaultRules() {
        try (InputStream in = RuleBrain.class.getResourceAsStream("/agent/triage-rules.json")) {
            return Json.MAPPER.readTree(in).get("rules");
        } catch (IOException e) {
            throw new UncheckedIOException("the shipped triage rules cannot be read", e);
        }
    }

    @Override
    public String name() {
        return "rule";
    }

    @Override
    public List<Action> plan(InboxMessage m) {
        String text = (m.subject() + "\n" + m.body()).toLowerCase(Locale.ROOT);
        String from = m.from().toLowerCase(Locale.ROOT);
        List<Action> matched = new ArrayList<>();
        List<Action> defaults = new ArrayList<>();
        for (JsonNode rule : rules) {
            JsonNode when = rule.get("when");
            List<Action> target = when == null ? defaults : matched;
            if (when != null && !matches(when, text, from)) {
                continue;
            }
            for (JsonNode a : rule.path("actions")) {
                Action action = Action.fromJson(a);
                if (action != null) {
                    target.add(new Action(action.type(), (ObjectNode) fill(action.args(), m), action.reason()));
                }
            }
        }
        return matched.isEmpty() ? defaults : matched;
    }

    private static boolean matches(JsonNode when, String text, String from) {
        JsonNode any = when.path("any");
        if (any.isArray() && !any.isEmpty()) {
            boolean hit = false;
            for (JsonNode k : any) {
                hit |= text.contains(k.asText().toLowerCase(Locale.ROOT));
            }
            if (!hit) {
                return false;
            }
        }
        for (JsonNode k : when.path("all")) {
            if (!text.contains(k.asText().toLowerCase(Locale.ROOT))) {
                return false;
            }
        }
        JsonNode f = when.get("from");
        return f == null || from.contains(f.asText().toLowerCase(Locale.ROOT));
    }

    private static JsonNode fill(JsonNode n, InboxMessage m) {
        if (n.isTextual()) {
            return TextNode.valueOf(n.asText().replace("{subject}", m.subject()).replace("{from}", m.from().isEmpty() ? "there" : m.from())
                    .replace("{id}", m.id()));
        }
        if (n.isObject()) {
            ObjectNode o = Json.object();
            n.properties().forEach(e -> o.set(e.getKey(), fill(e.getValue(), m)));
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = Json.NODES.arrayNode();
            n.forEach(x -> a.add(fill(x, m)));
            return a;
        }
        return n;
    }
}
