package dev.warden.queue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.Envelope;
import dev.warden.ledger.Redactor;
import dev.warden.store.JobRow;
import java.time.Instant;

/** The job as shown by the API and {@code --json} (SPEC section 2), redacted like every output. */
public final class JobJson {
    private JobJson() {}

    public static String iso(long millis) {
        return Envelope.formatTs(Instant.ofEpochMilli(millis));
    }

    public static ObjectNode view(JobRow r, Redactor redactor) {
        ObjectNode n = Json.object();
        n.put("id", r.id());
        n.put("kind", r.kind());
        n.put("project", r.project());
        n.put("state", r.state().name());
        n.put("attempts", r.attempts());
        n.put("max_attempts", r.maxAttempts());
        n.put("priority", r.priority());
        n.put("run_after", iso(r.runAfter()));
        n.put("created_at", iso(r.createdAt()));
        n.put("updated_at", iso(r.updatedAt()));
        putTime(n, "started_at", r.startedAt());
        putTime(n, "finished_at", r.finishedAt());
        n.set("labels", Json.parse(r.labels()));
        n.set("result", r.result() == null ? Json.NODES.nullNode() : Json.parse(r.result()));
        if (r.errorCode() == null) {
            n.putNull("error");
        } else {
            n.putObject("error").put("code", r.errorCode()).put("message", r.errorMessage());
        }
        n.put("retry_on_lease_loss", r.retryOnLeaseLoss());
        if (r.idempotencyKey() != null) {
            n.put("idempotency_key", r.idempotencyKey());
        }
        if (r.slot() != null) {
            n.put("slot", r.slot());
        }
        if (r.leaseOwner() != null) {
            n.put("lease_owner", r.leaseOwner());
            putTime(n, "lease_expires_at", r.leaseExpiresAt());
        }
        if (r.cancelRequested()) {
            n.put("cancel_requested", true);
        }
        JsonNode spec = Json.parse(r.spec());
        n.set("budgets", spec.path("budgets"));
        n.set("payload", spec.path("payload"));
        return (ObjectNode) redactor.redact(n);
    }

    private static void putTime(ObjectNode n, String field, Long millis) {
        if (millis == null) {
            n.putNull(field);
        } else {
            n.put(field, iso(millis));
        }
    }
}
