package dev.warden.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.math.BigDecimal;

/** Hard limits for one job (or, in the operator policy, the most any job may ask for). */
public record Budgets(long wallTimeS, long toolCalls, long outputBytes, Long tokens, BigDecimal usd, String slot) {

    public static Budgets fromJson(JsonNode n) {
        return new Budgets(n.path("wall_time_s").asLong(), n.path("tool_calls").asLong(),
                n.path("output_bytes").asLong(),
                n.has("tokens") ? n.get("tokens").asLong() : null,
                n.has("usd") ? n.get("usd").decimalValue() : null,
                n.hasNonNull("slot") ? n.get("slot").asText() : null);
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.put("wall_time_s", wallTimeS);
        n.put("tool_calls", toolCalls);
        n.put("output_bytes", outputBytes);
        if (tokens != null) {
            n.put("tokens", tokens);
        }
        if (usd != null) {
            n.put("usd", usd);
        }
        if (slot != null) {
            n.put("slot", slot);
        }
        return n;
    }
}
