package dev.warden.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.Envelope;
import dev.warden.ledger.Redactor;
import java.time.Instant;

/**
 * One thing worth telling a human. {@code checkId} is what rate limiting is keyed on: the same
 * check is sent at most once per window, and the next one sent says how many were suppressed.
 * Check ids: {@code job.failed:<kind>:<error code>} (and {@code job.dead:…}),
 * {@code budget.exceeded:<budget>}, {@code approval.requested:<job id>}, {@code canary.fail:<failing components>},
 * {@code notify.test}.
 */
public record Notification(String event, String checkId, String severity, String summary, String corrId,
                           ObjectNode details, Instant ts) {
    public static final String SCHEMA = "warden.notification.v1";
    public static final String TEST_EVENT = "notify.test";

    public Notification {
        details = details == null ? Json.object() : details;
    }

    /**
     * The JSON body posted to a webhook. Everything passes through the redactor (content keys
     * replaced by digests, every registered secret scrubbed from every string), and the serialized
     * text is scrubbed once more.
     */
    public String payload(String node, int suppressed, Redactor redactor) {
        ObjectNode n = Json.object().put("schema", SCHEMA).put("event", event).put("check_id", checkId)
                .put("severity", severity).put("summary", summary).put("ts", Envelope.formatTs(ts)).put("node", node)
                .put("corr_id", corrId).put("suppressed_since_last", suppressed);
        n.set("details", details);
        return redactor.scrub(Json.write(redactor.redact(n)));
    }
}
