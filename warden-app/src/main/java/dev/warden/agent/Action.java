package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;

/** One action of a plan, as a brain proposed it: a type, its arguments, and why. */
public record Action(String type, ObjectNode args, String reason) {
    public Action {
        args = args == null ? Json.object() : args;
        reason = reason == null ? "" : reason;
    }

    /** A stable key for this action of this message: the same plan gives the same keys on every attempt. */
    public String key(String messageId, int index) {
        return Ids.sha256Hex(messageId + "\n" + index + "\n" + type + "\n" + Json.canonical(args)).substring(0, 32);
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("type", type);
        o.set("args", args);
        o.put("reason", reason);
        return o;
    }

    /** Reads {@code {type, args?, reason?}}; null when it is not an object with a textual type. */
    public static Action fromJson(JsonNode n) {
        if (n == null || !n.isObject() || !n.path("type").isTextual() || n.path("type").asText().isBlank()) {
            return null;
        }
        JsonNode args = n.path("args");
        return new Action(n.get("type").asText().strip(), args.isObject() ? ((ObjectNode) args).deepCopy() : Json.object(),
                n.path("reason").asText(""));
    }
}
