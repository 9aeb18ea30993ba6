package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.queue.JobJson;
import dev.warden.store.ApprovalsTx.ApprovalRow;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

/**
 * The approvals queue (SPEC section 8). An escalated action waits here, with an expiry, until an
 * operator approves or rejects it; every request, decision, expiry and withdrawal is one ledger
 * entry written in the same transaction as the change. When a job has no pending request left
 * and is {@code escalated}, it goes back to the queue to carry on with the decisions.
 */
public final class Approvals {
    public static final String PENDING = "pending";
    public static final String APPROVED = "approved";
    public static final String REJECTED = "rejected";
    public static final String EXPIRED = "expired";
    public static final String WITHDRAWN = "withdrawn";
    public static final List<String> STATES = List.of(PENDING, APPROVED, REJECTED, EXPIRED, WITHDRAWN);
    static final String COMPONENT = "approvals";

    private final Store store;
    private final Ledger ledger;
    private final Clock clock;

    public Approvals(Store store, Ledger ledger, Clock clock) {
        this.store = store;
        this.ledger = ledger;
        this.clock = clock;
    }

    /**
     * The job's request for {@code actionKey}: the existing one (whatever its state), or a new
     * pending one recorded as {@code approval.requested}.
     */
    public ApprovalRow request(String jobId, String actor, String actionKey, ObjectNode action, List<String> reasons,
                               String summary, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw WardenException.badInput("approval ttl must be positive, got " + ttl);
        }
        return store.write(tx -> {
            Optional<ApprovalRow> existing = tx.approvals().find(jobId, actionKey);
            if (existing.isPresent()) {
                return existing.get();
            }
            long now = clock.millis();
            JsonNode cleanAction = Json.parse(ledger.redactor().scrub(Json.canonical(action)));
            ApprovalRow row = new ApprovalRow("apr-" + Ids.ulid(now), jobId, actionKey, Json.canonical(cleanAction),
                    Json.write(Json.MAPPER.valueToTree(reasons)), ledger.redactor().scrub(summary), PENDING, now,
                    now + ttl.toMillis(), null, null, null);
            if (!tx.approvals().insert(row)) {
                return tx.approvals().find(jobId, actionKey).orElseThrow();
            }
            ObjectNode d = Json.object().put("approval_id", row.id()).put("action_type", action.path("type").asText())
                    .put("summary", row.summary()).put("expires_at", JobJson.iso(row.expiresAt()));
            d.set("reasons", Json.MAPPER.valueToTree(reasons));
            ledger.append(tx, EventDraft.warn("approval.requested", COMPONENT, jobId, actor, d));
            return row;
        });
    }

    /** Approves or rejects a pending request; resumes its job when nothing else of it is pending. */
    public ApprovalRow decide(String id, boolean approve, String actor, String note) {
        if (note != null && note.length() > 2000) {
            throw WardenException.badInput("note: at most 2000 characters, got " + note.length());
        }
        return store.write(tx -> {
            ApprovalRow row = tx.approvals().find(id)
                    .orElseThrow(() -> WardenException.notFound("approval " + id + " not found"));
            long now = clock.millis();
            if (!PENDING.equals(row.state())) {
                throw WardenException.badInput("approval " + id + " is already " + row.state()
                        + (row.decidedBy() == null ? "" : " (by " + row.decidedBy() + ")") + "; it can be decided once");
            }
            if (row.expiresAt() <= now) {
                throw WardenException.badInput("approval " + id + " expired at " + JobJson.iso(row.expiresAt())
                        + "; expired actions are not executed");
            }
            String state = approve ? APPROVED : REJECTED;
            String cleanNote = note == null || note.isBlank() ? null : ledger.redactor().scrub(note.strip());
            if (!tx.approvals().decide(id, state, actor, cleanNote, now)) {
                throw new WardenException(dev.warden.common.ErrorCode.FAILURE,
                        "approval " + id + " changed concurrently; reload and try again");
            }
            ObjectNode d = Json.object().put("approval_id", id).put("action_type", actionType(row));
            if (cleanNote != null) {
                d.put("note", cleanNote);
            }
            ledger.append(tx, EventDraft.info("approval." + state, "operator", row.jobId(), actor, d));
            resumeIfDecided(tx, ledger, row.jobId(), actor, now);
            return tx.approvals().find(id).orElseThrow();
        });
    }

    /** Marks every pending request past its expiry {@code expired} (never executed); returns how many. */
    public int expireDue(String actor) {
        if (store.read(tx -> tx.approvals().expiredPending(clock.millis(), 1)).isEmpty()) {
            return 0; // the usual case: no write transaction (and no write lock) every sweep
        }
        return store.write(tx -> {
            long now = clock.millis();
            int n = 0;
            java.util.Set<String> jobs = new java.util.LinkedHashSet<>();
            for (ApprovalRow row : tx.approvals().expiredPending(now, 500)) {
                if (tx.approvals().close(row.id(), EXPIRED, now)) {
                    n++;
                    jobs.add(row.jobId());
                    ledger.append(tx, EventDraft.warn("approval.expired", COMPONENT, row.jobId(), actor, Json.object()
                            .put("approval_id", row.id()).put("action_type", actionType(row))
                            .put("expired_at", JobJson.iso(row.expiresAt()))));
                }
            }
            for (String job : jobs) {
                resumeIfDecided(tx, ledger, job, actor, now);
            }
            return n;
        });
    }

    public List<ApprovalRow> list(String state, int limit) {
        if (state != null && !STATES.contains(state)) {
            throw WardenException.badInput("state: '" + state + "' is not one of " + STATES);
        }
        if (limit < 1 || limit > 1000) {
            throw WardenException.badInput("limit: must be 1..1000, got " + limit);
        }
        return store.read(tx -> tx.approvals().list(state, limit));
    }

    public ApprovalRow get(String id) {
        return store.read(tx -> tx.approvals().find(id))
                .orElseThrow(() -> WardenException.notFound("approval " + id + " not found"));
    }

    public List<ApprovalRow> forJob(String jobId) {
        return store.read(tx -> tx.approvals().forJob(jobId));
    }

    /**
     * Within the caller's transaction: an {@code escalated} job with no pending request left goes
     * back to the queue, due now, recorded as {@code job.resumed}.
     */
    public static void resumeIfDecided(Tx tx, Ledger ledger, String jobId, String actor, long now) {
        if (tx.approvals().countPending(jobId) > 0) {
            return;
        }
        Optional<JobRow> job = tx.findJob(jobId);
        if (job.isEmpty() || job.get().state() != JobState.escalated) {
            return; // still running (its attempt sees the decisions when it ends) or already ended
        }
        JobRow next = job.get().requeued(now, null, null, now);
        if (tx.updateJob(next, EnumSet.of(JobState.escalated), job.get().claims())) {
            ledger.append(tx, EventDraft.info("job.resumed", COMPONENT, jobId, actor,
                    Json.object().put("reason", "every approval request of the job is decided")));
        }
    }

    /** Within the caller's transaction: closes a cancelled job's pending requests ({@code withdrawn}). */
    public static void withdrawPending(Tx tx, Ledger ledger, String jobId, String actor, long now) {
        List<EventDraft> events = new ArrayList<>();
        for (ApprovalRow row : tx.approvals().forJob(jobId)) {
            if (PENDING.equals(row.state()) && tx.approvals().close(row.id(), WITHDRAWN, now)) {
                events.add(EventDraft.info("approval.withdrawn", COMPONENT, jobId, actor,
                        Json.object().put("approval_id", row.id()).put("action_type", actionType(row))));
            }
        }
        ledger.append(tx, events);
    }

    /** The API / CLI view of a request. */
    public static ObjectNode view(ApprovalRow r) {
        ObjectNode o = Json.object().put("id", r.id()).put("job_id", r.jobId()).put("state", r.state())
                .put("summary", r.summary()).put("requested_at", JobJson.iso(r.requestedAt()))
                .put("expires_at", JobJson.iso(r.expiresAt()));
        o.set("action", Json.parse(r.action()));
        o.set("reasons", Json.parse(r.reasons()));
        if (r.decidedAt() != null) {
            o.put("decided_at", JobJson.iso(r.decidedAt()));
        }
        if (r.decidedBy() != null) {
            o.put("decided_by", r.decidedBy());
        }
        if (r.note() != null) {
            o.put("note", r.note());
        }
        return o;
    }

    private static String actionType(ApprovalRow r) {
        JsonNode a = Json.parse(r.action());
        return a.path("type").asText();
    }
}
