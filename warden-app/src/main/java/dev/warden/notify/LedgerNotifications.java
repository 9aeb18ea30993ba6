package dev.warden.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import dev.warden.store.Tx.LedgerRow;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns ledger entries into notifications (a {@link dev.warden.ledger.LedgerFollower} subscriber):
 * <ul>
 * <li>{@code job.failed}, {@code job.dead}, and {@code job.lease_lost} that ended a job failed or
 *   dead → {@code job.failed} / {@code job.dead}, check id {@code <event>:<kind>:<error code>};</li>
 * <li>{@code budget.exceeded}, and a {@code model.call} refused with {@code budget_exceeded:<which>}
 *   (a gateway token or the day cap) → {@code budget.exceeded}, check id {@code budget.exceeded:<which>};</li>
 * <li>{@code approval.requested} → itself, check id {@code approval.requested:<job id>}.</li>
 * </ul>
 * Canary failures are sent by {@code warden canary} itself (it runs when the plane may be down).
 */
public final class LedgerNotifications implements Consumer<List<LedgerRow>> {
    private static final Set<String> WATCHED = Set.of("job.failed", "job.dead", "job.lease_lost", "budget.exceeded",
            "model.call", "approval.requested");

    private final Store store;
    private final Notifier notifier;

    public LedgerNotifications(Store store, Notifier notifier) {
        this.store = store;
        this.notifier = notifier;
    }

    @Override
    public void accept(List<LedgerRow> rows) {
        for (LedgerRow r : rows) {
            if (WATCHED.contains(r.event())) {
                map(r, Json.parse(r.entry())).ifPresent(notifier::submit);
            }
        }
    }

    Optional<Notification> map(LedgerRow row, JsonNode entry) {
        JsonNode d = entry.path("details");
        String corr = entry.path("corr_id").isTextual() ? entry.get("corr_id").asText() : null;
        Instant ts = Instant.ofEpochMilli(row.tsMillis());
        switch (row.event()) {
            case "job.failed", "job.dead" -> {
                return Optional.of(jobEnded(row.event(), corr, d.path("error").path("code").asText("unknown"),
                        d.path("error").path("message").asText(""), d.path("attempt").asInt(0), ts));
            }
            case "job.lease_lost" -> {
                String state = d.path("state").asText("");
                if (!state.equals("failed") && !state.equals("dead")) {
                    return Optional.empty();
                }
                return Optional.of(jobEnded("job." + state, corr, "lease_lost",
                        "lease held by " + d.path("lease_owner").asText("?") + " expired", d.path("attempt").asInt(0), ts));
            }
            case "budget.exceeded" -> {
                String which = d.path("budget").asText("unknown");
                ObjectNode x = Json.object().put("job_id", corr).put("budget", which).put("message", d.path("message").asText(""));
                job(corr).ifPresent(j -> x.put("kind", j.kind()).put("project", j.project()));
                return Optional.of(new Notification("budget.exceeded", "budget.exceeded:" + which, "warn",
                        "budget " + which + " exceeded" + (corr == null ? "" : " by " + corr) + ": " + d.path("message").asText(""),
                        corr, x, ts));
            }
            case "model.call" -> {
                String outcome = d.path("outcome").asText("");
                if (!outcome.startsWith("budget_exceeded:")) {
                    return Optional.empty();
                }
                String which = outcome.substring("budget_exceeded:".length());
                ObjectNode x = Json.object().put("budget", which).put("target", d.path("target").asText(""))
                        .put("caller", entry.path("actor").asText("")).put("corr_id", corr).put("message", d.path("error").asText(""));
                return Optional.of(new Notification("budget.exceeded", "budget.exceeded:" + which, "warn",
                        "model call to " + d.path("target").asText("?") + " refused: budget " + which + " exhausted", corr, x, ts));
            }
            case "approval.requested" -> {
                ObjectNode x = d.isObject() ? ((ObjectNode) d).deepCopy() : Json.object();
                x.put("job_id", corr);
                return Optional.of(new Notification("approval.requested", "approval.requested:" + corr, "warn",
                        "job " + corr + " waits for approval", corr, x, ts));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private Notification jobEnded(String event, String jobId, String code, String message, int attempt, Instant ts) {
        Optional<JobRow> job = job(jobId);
        String kind = job.map(JobRow::kind).orElse("unknown");
        ObjectNode x = Json.object().put("job_id", jobId).put("kind", kind).put("project", job.map(JobRow::project).orElse(null))
                .put("attempt", attempt);
        x.putObject("error").put("code", code).put("message", message);
        job.map(JobRow::labels).map(Json::parse).ifPresent(l -> x.set("labels", l));
        String verb = event.equals("job.dead") ? "is dead (attempts exhausted)" : "failed";
        return new Notification(event, event + ":" + kind + ":" + code, "error",
                "job " + jobId + " (" + kind + ") " + verb + ": " + code + (message.isEmpty() ? "" : ": " + message), jobId, x, ts);
    }

    private Optional<JobRow> job(String id) {
        if (id == null) {
            return Optional.empty();
        }
        try {
            return store.read(tx -> tx.findJob(id));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
