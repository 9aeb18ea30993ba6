package dev.warden.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.common.Schemas;
import dev.warden.common.WardenException;
import dev.warden.policy.Budgets;
import dev.warden.policy.OperatorPolicy;
import dev.warden.policy.Policy;
import dev.warden.policy.PolicyCheck;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns submitted JSON into a {@link JobSpec}: schema violations (all of them) are bad input
 * (exit 2); asking for more than the operator policy allows is a denial (exit 4) naming each excess.
 */
public final class JobSpecParser {
    private final KindRegistry kinds;
    private final OperatorPolicy operator;
    private final Set<String> slots;
    private final java.util.function.Function<String, java.util.Optional<String>> projectRefusal;

    public JobSpecParser(KindRegistry kinds, OperatorPolicy operator, Set<String> slots) {
        this(kinds, operator, slots, p -> java.util.Optional.empty());
    }

    /** {@code projectRefusal} says why a job may not name a project (the project registry), or empty. */
    public JobSpecParser(KindRegistry kinds, OperatorPolicy operator, Set<String> slots,
                         java.util.function.Function<String, java.util.Optional<String>> projectRefusal) {
        this.kinds = kinds;
        this.operator = operator;
        this.slots = slots;
        this.projectRefusal = projectRefusal;
    }

    public JobSpec parse(String text) {
        return parse(Json.parse(text));
    }

    public JobSpec parse(JsonNode doc) {
        if (!doc.isObject()) {
            throw WardenException.invalid("job spec", List.of("(document): must be a JSON object"));
        }
        List<String> violations = new ArrayList<>(Schemas.validate("job.schema.json", doc, ""));
        String kindName = doc.path("kind").asText("");
        JobKind kind = kinds.find(kindName).orElse(null);
        JsonNode payload = doc.has("payload") ? doc.get("payload") : Json.object();
        if (kind == null && doc.path("kind").isTextual()) {
            violations.add("kind: '" + kindName + "' is not a registered kind (one of " + String.join(", ", kinds.names()) + ")");
        }
        if (kind != null && payload.isObject()) {
            List<String> payloadViolations = Schemas.validate(kind.payloadSchema(), payload, "payload");
            violations.addAll(payloadViolations);
            if (payloadViolations.isEmpty()) {
                violations.addAll(kind.validate(payload));
            }
        }
        if (doc.path("project").isTextual()) {
            projectRefusal.apply(doc.get("project").asText()).ifPresent(violations::add);
        }
        Instant runAfter = null;
        if (doc.path("run_after").isTextual()) {
            runAfter = parseInstant(doc.get("run_after").asText(), violations);
        }
        if (!violations.isEmpty()) {
            throw WardenException.invalid("job spec", violations);
        }
        Policy policy = Policy.fromJson(doc.get("policy"));
        Budgets budgets = Budgets.fromJson(doc.get("budgets"));
        List<String> denials = new ArrayList<>(PolicyCheck.excess(policy, budgets, operator, slots));
        denials.addAll(kind.denials(payload, policy));
        if (!denials.isEmpty()) {
            throw WardenException.denied(denials);
        }
        ObjectNode json = ((ObjectNode) doc).deepCopy();
        json.put("project", doc.path("project").asText(JobSpec.DEFAULT_PROJECT));
        json.set("payload", payload);
        Map<String, String> labels = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("labels").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            labels.put(e.getKey(), e.getValue().asText());
        }
        boolean retryOnLeaseLoss = doc.has("retry_on_lease_loss") ? doc.get("retry_on_lease_loss").asBoolean() : kind.readOnly();
        return new JobSpec(kind.name(), json.get("project").asText(), (ObjectNode) payload, policy, budgets,
                doc.path("priority").asInt(0), runAfter, doc.path("max_attempts").asInt(JobSpec.DEFAULT_MAX_ATTEMPTS),
                retryOnLeaseLoss, doc.hasNonNull("idempotency_key") ? doc.get("idempotency_key").asText() : null,
                labels, json);
    }

    private static Instant parseInstant(String s, List<String> violations) {
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e2) {
                violations.add("run_after: '" + s + "' is not an ISO-8601 instant (e.g. 2026-11-22T01:00:00Z)");
                return null;
            }
        }
    }
}
