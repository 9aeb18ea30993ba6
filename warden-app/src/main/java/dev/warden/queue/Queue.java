package dev.warden.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import dev.warden.store.Tx.JobFilter;
import dev.warden.store.Tx.LeaseView;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The durable queue: every state change happens in one store transaction together with its
 * ledger entries. Claims and completions are batched by the callers (one transaction per batch).
 */
public final class Queue {
    static final String COMPONENT = "queue";

    private final Store store;
    private final Ledger ledger;
    private final Clock clock;
    private final KillSwitch killSwitch;
    private final QueueSettings settings;
    private volatile SlotGate slotGate = SlotGate.OPEN;
    /** When a gated slot was last recorded as blocked ({@code slot.gated}), per slot and reason: at most one entry per {@link #GATE_NOTE_EVERY}. */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> gateNoted = new java.util.concurrent.ConcurrentHashMap<>();
    static final java.time.Duration GATE_NOTE_EVERY = java.time.Duration.ofMinutes(10);

    public Queue(Store store, Ledger ledger, Clock clock, KillSwitch killSwitch, QueueSettings settings) {
        this.store = store;
        this.ledger = ledger;
        this.clock = clock;
        this.killSwitch = killSwitch;
        this.settings = settings;
    }

    public Store store() {
        return store;
    }

    /** Sets the condition slots must meet at claim time besides capacity (e.g. the VRAM guard). */
    public void gateSlots(SlotGate gate) {
        this.slotGate = gate == null ? SlotGate.OPEN : gate;
    }

    public Ledger ledger() {
        return ledger;
    }

    public KillSwitch killSwitch() {
        return killSwitch;
    }

    public QueueSettings settings() {
        return settings;
    }

    public Clock clock() {
        return clock;
    }

    // ------------------------------------------------------------------ enqueue

    public record Enqueued(JobRow job, boolean created) {}

    public Enqueued enqueue(JobSpec spec, String actor) {
        return enqueueAll(List.of(spec), actor).get(0);
    }

    /** Rows this process enqueued (through {@link #enqueueAll}). */
    private final java.util.concurrent.atomic.AtomicLong enqueued = new java.util.concurrent.atomic.AtomicLong();
    /** At how many of them the planner's statistics are next refreshed (see {@link Store#refreshJobStatistics}). */
    private final java.util.concurrent.atomic.AtomicLong statisticsDueAt = new java.util.concurrent.atomic.AtomicLong(STATISTICS_FIRST);
    static final long STATISTICS_FIRST = 5_000;

    /**
     * When the statistics are next due after a refresh at {@code enqueued} rows: at twice as many,
     * so a bulk load into a new table refreshes them as it grows (5,000, 10,000, 20,000 … rows) and a
     * long-running process rarely (PostgreSQL's autovacuum analyzes a table that keeps growing).
     * Refreshed every 5,000 rows (until session 11), an enqueue of 50,000 spent a third of its time
     * in ANALYZE.
     */
    static long nextStatisticsDue(long enqueued) {
        return Math.max(STATISTICS_FIRST, 2 * enqueued);
    }

    /** Enqueues all specs in one transaction; a spec whose idempotency key exists returns the first job. */
    public List<Enqueued> enqueueAll(List<JobSpec> specs, String actor) {
        List<Enqueued> out = store.write(tx -> enqueueIn(tx, specs, actor));
        long total = enqueued.addAndGet(specs.size());
        long due = statisticsDueAt.get();
        if (total >= due && statisticsDueAt.compareAndSet(due, nextStatisticsDue(total))) {
            store.refreshJobStatistics(); // after a bulk load, before the claims that would plan without statistics
        }
        return out;
    }

    /** Enqueues within the caller's transaction (a scheduler fire commits the job with its own bookkeeping). */
    public List<Enqueued> enqueueIn(Tx tx, List<JobSpec> specs, String actor) {
        long now = clock.millis();
        List<Enqueued> out = new ArrayList<>(specs.size());
        List<EventDraft> events = new ArrayList<>(specs.size());
        List<JobRow> rows = new ArrayList<>(specs.size());
        Map<String, JobRow> keysInBatch = new java.util.HashMap<>();
        for (JobSpec s : specs) {
            if (s.idempotencyKey() != null) {
                JobRow sameBatch = keysInBatch.get(s.idempotencyKey());
                Optional<JobRow> existing = sameBatch != null ? Optional.of(sameBatch) : tx.findJobByIdempotencyKey(s.idempotencyKey());
                if (existing.isPresent()) {
                    out.add(new Enqueued(existing.get(), false));
                    continue;
                }
            }
            long runAfter = s.runAfter() == null ? now : s.runAfter().toEpochMilli();
            JobRow row = new JobRow(Ids.newJobId(now), s.kind(), s.project(), JobState.queued, s.priority(),
                    runAfter, 0, s.maxAttempts(), 0, s.retryOnLeaseLoss(), s.idempotencyKey(), s.budgets().slot(),
                    Json.canonical(s.json()), Json.write(s.labels()), null, null, null, null, null, false, now, now,
                    null, null);
            rows.add(row);
            if (s.idempotencyKey() != null) {
                keysInBatch.put(s.idempotencyKey(), row);
            }
            ObjectNode d = Json.object().put("kind", row.kind()).put("project", row.project())
                    .put("priority", row.priority()).put("run_after", JobJson.iso(runAfter))
                    .put("max_attempts", row.maxAttempts());
            d.set("budgets", s.budgets().toJson());
            d.set("policy", s.policy().toJson());
            d.set("labels", Json.MAPPER.valueToTree(s.labels()));
            events.add(EventDraft.info("job.enqueued", COMPONENT, row.id(), actor, d));
            out.add(new Enqueued(row, true));
        }
        tx.insertJobs(rows); // one batch for the whole call
        ledger.append(tx, events);
        return out;
    }

    // ------------------------------------------------------------------ claim

    /** Claims up to {@code max} due jobs for {@code owner}, respecting slot capacity across all nodes. */
    public ClaimResult claim(String owner, int max) {
        return completeAndClaim(List.of(), owner, Math.max(0, max)).claimed();
    }

    /** What one {@link #completeAndClaim} turn wrote: per outcome as in {@link #complete}, and the claim. */
    public record Turn(List<Optional<JobRow>> completed, ClaimResult claimed) {}

    /**
     * One transaction that records {@code outcomes} (as {@link #complete}) and claims up to
     * {@code max} jobs for {@code owner} (as {@link #claim}), with one ledger append for both: the
     * worker's hot path, where a slot that an outcome freed turns over with one commit. With the
     * kill switch file present, or {@code max} 0, it only records.
     */
    public Turn completeAndClaim(List<Outcome> outcomes, String owner, int max) {
        boolean claimToo = max > 0 && !killSwitch.fileOn();
        if (outcomes.isEmpty() && !claimToo) {
            return new Turn(List.of(), max > 0 ? new ClaimResult.KillSwitchOn() : new ClaimResult.Empty());
        }
        return store.write(tx -> {
            List<EventDraft> events = new ArrayList<>(outcomes.size() + max);
            List<Optional<JobRow>> completed;
            ClaimResult claimed;
            if (claimToo && settings.slotCapacity().isEmpty()) {
                // no slots to count: the outcomes and the claim are one call (one statement on PostgreSQL)
                Recording r = recording(tx, outcomes);
                long now = clock.millis();
                Tx.CompletedAndClaimed both = tx.completeRunningAndClaimUnslotted(r.rows(), r.fences(), now, max, owner,
                        now + settings.lease().toMillis(), KillSwitch.SETTING);
                completed = r.written(both.written(), events);
                claimed = unslottedClaim(tx, both.claimed(), owner, events);
            } else {
                completed = completeIn(tx, outcomes, events);
                claimed = claimToo ? claimIn(tx, owner, max, events)
                        : max > 0 ? new ClaimResult.KillSwitchOn() : new ClaimResult.Empty();
            }
            ledger.append(tx, events);
            return new Turn(completed, claimed);
        });
    }

    /** An unslotted claim's result; its ledger entries go to {@code events}. */
    private static ClaimResult unslottedClaim(Tx tx, List<JobRow> claimed, String owner, List<EventDraft> events) {
        if (claimed.isEmpty()) {
            // the claim statement read the kill-switch flag itself, in its snapshot; this tells why it took nothing
            return KillSwitch.flagOn(tx) ? new ClaimResult.KillSwitchOn() : new ClaimResult.Empty();
        }
        addClaimedEvents(events, claimed, owner);
        return new ClaimResult.Claimed(claimed);
    }

    /** Claims within {@code tx}; the ledger entries go to {@code events}, for the caller to append. */
    private ClaimResult claimIn(Tx tx, String owner, int max, List<EventDraft> events) {
        if (settings.slotCapacity().isEmpty()) {
            // no slots to count: one statement claims (it reads the kill-switch flag itself)
            long now = clock.millis();
            return unslottedClaim(tx, tx.claimUnslotted(now, max, owner, now + settings.lease().toMillis(), KillSwitch.SETTING),
                    owner, events);
        }
        if (KillSwitch.flagOn(tx)) {
            return new ClaimResult.KillSwitchOn();
        }
        long now = clock.millis();
        Map<String, Integer> running = settings.slotCapacity().isEmpty() ? Map.of()
                : tx.runningBySlot(settings.slotCapacity().keySet());
        List<String> open = new ArrayList<>();
        List<EventDraft> gated = new ArrayList<>();
        SlotGate gate = slotGate;
        settings.slotCapacity().forEach((slot, cap) -> {
            if (running.getOrDefault(slot, 0) < cap) {
                Optional<SlotGate.Closed> closed = gate.closed(slot);
                if (closed.isEmpty()) {
                    open.add(slot);
                } else {
                    noteGated(slot, closed.get(), now).ifPresent(gated::add);
                }
            }
        });
        events.addAll(gated);
        List<JobRow> candidates = tx.claimCandidates(now, max, open);
        if (candidates.isEmpty()) {
            return new ClaimResult.Empty();
        }
        long leaseUntil = now + settings.lease().toMillis();
        List<JobRow> claimed = new ArrayList<>(candidates.size());
        java.util.HashMap<String, Integer> taken = new java.util.HashMap<>();
        for (JobRow r : candidates) {
            if (r.slot() != null) {
                int used = running.getOrDefault(r.slot(), 0) + taken.getOrDefault(r.slot(), 0);
                if (used >= settings.slotCapacity().getOrDefault(r.slot(), 0)) {
                    continue;
                }
                taken.merge(r.slot(), 1, Integer::sum);
            }
            claimed.add(r.claimed(owner, leaseUntil, now));
        }
        tx.markClaimed(claimed);
        addClaimedEvents(events, claimed, owner);
        return claimed.isEmpty() ? new ClaimResult.Empty() : new ClaimResult.Claimed(claimed);
    }

    private static void addClaimedEvents(List<EventDraft> events, List<JobRow> claimed, String owner) {
        for (JobRow r : claimed) {
            ObjectNode d = Json.object().put("attempt", r.attempts()).put("lease_owner", owner)
                    .put("lease_expires_at", JobJson.iso(r.leaseExpiresAt())).put("claim", r.claims());
            if (r.slot() != null) {
                d.put("slot", r.slot());
            }
            events.add(EventDraft.info("job.claimed", "worker", r.id(), owner, d));
        }
    }

    /** A {@code slot.gated} entry when this slot and reason were not recorded in the last {@link #GATE_NOTE_EVERY}. */
    private Optional<EventDraft> noteGated(String slot, SlotGate.Closed why, long now) {
        String key = slot + "\u0000" + why.reason();
        Long last = gateNoted.get(key);
        if (last != null && now - last < GATE_NOTE_EVERY.toMillis()) {
            return Optional.empty();
        }
        gateNoted.put(key, now);
        return Optional.of(EventDraft.warn("slot.gated", COMPONENT, null, "queue",
                Json.object().put("slot", slot).put("reason", why.reason()).put("message", why.message())
                        .put("next_note_after_s", GATE_NOTE_EVERY.toSeconds())));
    }

    /** Extends the leases of the attempts {@code owner} is running; returns what the store says it holds. */
    public List<LeaseView> heartbeat(String owner, java.util.Collection<String> running) {
        long now = clock.millis();
        return store.write(tx -> tx.heartbeat(owner, running, now + settings.lease().toMillis(), now));
    }

    // ------------------------------------------------------------------ complete

    /**
     * Applies the outcomes in one transaction. Returns, per outcome, the row as written, or empty
     * when the lease had been lost (another worker or the reaper owns the job now).
     */
    public List<Optional<JobRow>> complete(List<Outcome> outcomes) {
        return completeAndClaim(outcomes, null, 0).completed();
    }

    /** Records outcomes within {@code tx}; the ledger entries go to {@code events}, for the caller to append. */
    private List<Optional<JobRow>> completeIn(Tx tx, List<Outcome> outcomes, List<EventDraft> events) {
        if (outcomes.isEmpty()) {
            return List.of();
        }
        Recording r = recording(tx, outcomes);
        // one call for every row; an outcome whose fencing no longer matches is discarded
        return r.written(tx.updateJobs(r.rows(), EnumSet.of(JobState.running), r.fences()), events);
    }

    /**
     * What outcomes would write, before the store is asked: per outcome the job's next row, its
     * ledger entry and the claim count its attempt had (the fence).
     */
    private record Recording(List<JobRow> rows, List<EventDraft> drafts, long[] fences) {
        /** Per outcome, the row as written, or empty when its fence no longer matched; the written ones' entries go to {@code events}. */
        List<Optional<JobRow>> written(boolean[] written, List<EventDraft> events) {
            List<Optional<JobRow>> out = new ArrayList<>(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                if (written[i]) {
                    events.add(drafts.get(i));
                    out.add(Optional.of(rows.get(i)));
                } else {
                    out.add(Optional.empty());
                }
            }
            return out;
        }
    }

    private Recording recording(Tx tx, List<Outcome> outcomes) {
        long now = clock.millis();
        List<JobRow> nexts = new ArrayList<>(outcomes.size());
        List<EventDraft> drafts = new ArrayList<>(outcomes.size());
        long[] fences = new long[outcomes.size()];
        for (Outcome o : outcomes) {
            JobRow claimed = o.job();
            JobRow next;
            EventDraft ev;
            ObjectNode d = Json.object().put("attempt", claimed.attempts()).put("duration_ms", o.durationMs());
            if (o.usage() != null) {
                d.set("usage", o.usage());
            }
            String actor = claimed.leaseOwner();
            switch (o) {
                case Outcome.Succeeded s -> {
                    next = claimed.finished(JobState.succeeded, Json.canonical(s.result()), null, null, now);
                    d.set("result", s.result());
                    ev = EventDraft.info("job.succeeded", "worker", claimed.id(), actor, d);
                }
                case Outcome.Failed f -> {
                    d.putObject("error").put("code", f.code()).put("message", f.message());
                    if (f.retryable() && claimed.attempts() < claimed.maxAttempts()) {
                        long at = now + settings.backoff().delayMillis(claimed.attempts());
                        next = claimed.requeued(at, f.code(), f.message(), now);
                        d.put("retry_at", JobJson.iso(at));
                        ev = EventDraft.warn("job.retry_scheduled", "worker", claimed.id(), actor, d);
                    } else if (f.retryable()) {
                        next = claimed.finished(JobState.dead, null, f.code(), f.message(), now);
                        ev = EventDraft.error("job.dead", "worker", claimed.id(), actor, d);
                    } else {
                        next = claimed.finished(JobState.failed, null, f.code(), f.message(), now);
                        ev = EventDraft.error("job.failed", "worker", claimed.id(), actor, d);
                    }
                }
                case Outcome.Cancelled c -> {
                    next = claimed.finished(JobState.cancelled, null, c.code(), c.message(), now);
                    d.putObject("error").put("code", c.code()).put("message", c.message());
                    ev = EventDraft.warn("job.cancelled", "worker", claimed.id(), actor, d);
                }
                case Outcome.Escalated e -> {
                    d.set("result", e.result());
                    long pending = tx.approvals().countPending(claimed.id());
                    if (pending > 0) {
                        next = claimed.finished(JobState.escalated, Json.canonical(e.result()), null, null, now);
                        d.put("pending_approvals", pending).put("message", e.message());
                        ev = EventDraft.warn("job.escalated", "worker", claimed.id(), actor, d);
                    } else { // decided while the attempt was still running: carry on at once
                        next = claimed.requeued(now, null, null, now);
                        ev = EventDraft.info("job.resumed", "worker", claimed.id(), actor,
                                d.put("reason", "every approval request was decided before the attempt ended"));
                    }
                }
                case Outcome.Released r -> {
                    JobRow back = claimed.requeued(now, null, null, now);
                    next = new JobRow(back.id(), back.kind(), back.project(), back.state(), back.priority(),
                            back.runAfter(), back.attempts() - 1, back.maxAttempts(), back.claims(),
                            back.retryOnLeaseLoss(), back.idempotencyKey(), back.slot(), back.spec(), back.labels(),
                            null, null, null, null, null, false, back.createdAt(), now, null, null);
                    ev = EventDraft.info("job.released", "worker", claimed.id(), actor, d);
                }
            }
            nexts.add(next);
            drafts.add(ev);
            fences[nexts.size() - 1] = claimed.claims();
        }
        return new Recording(nexts, drafts, fences);
    }

    // ------------------------------------------------------------------ operator actions

    public JobRow cancel(String id, String actor) {
        return store.write(tx -> {
            JobRow r = tx.findJob(id).orElseThrow(() -> WardenException.notFound("job " + id + " not found"));
            long now = clock.millis();
            switch (r.state()) {
                case queued, escalated -> {
                    JobRow next = r.finished(JobState.cancelled, null, "cancelled", "cancelled by " + actor, now);
                    if (!tx.updateJob(next, EnumSet.of(r.state()), r.claims())) {
                        throw new WardenException(dev.warden.common.ErrorCode.FAILURE, "job " + id + " changed concurrently; try again");
                    }
                    ledger.append(tx, EventDraft.warn("job.cancelled", "operator", id, actor,
                            Json.object().put("from_state", r.state().name())));
                    dev.warden.agent.Approvals.withdrawPending(tx, ledger, id, actor, now);
                    return next;
                }
                case running -> {
                    JobRow next = r.withCancelRequested(now);
                    if (!tx.updateJob(next, EnumSet.of(JobState.running), r.claims())) {
                        throw new WardenException(dev.warden.common.ErrorCode.FAILURE, "job " + id + " changed concurrently; try again");
                    }
                    ledger.append(tx, EventDraft.warn("job.cancel_requested", "operator", id, actor, Json.object()));
                    return next;
                }
                default -> throw WardenException.badInput("job " + id + " is already " + r.state() + "; nothing to cancel");
            }
        });
    }

    public JobRow retry(String id, String actor) {
        return store.write(tx -> {
            JobRow r = tx.findJob(id).orElseThrow(() -> WardenException.notFound("job " + id + " not found"));
            if (!JobState.RETRYABLE_BY_OPERATOR.contains(r.state())) {
                throw WardenException.badInput("job " + id + " is " + r.state()
                        + "; only failed, dead or cancelled jobs can be retried");
            }
            JobRow next = r.retried(clock.millis());
            if (!tx.updateJob(next, EnumSet.of(r.state()), r.claims())) {
                throw new WardenException(dev.warden.common.ErrorCode.FAILURE, "job " + id + " changed concurrently; try again");
            }
            ledger.append(tx, EventDraft.info("job.retried", "operator", id, actor,
                    Json.object().put("from_state", r.state().name())));
            return next;
        });
    }

    /**
     * Recovers jobs whose lease expired (their worker died or stalled): requeued with the attempt
     * counted when {@code retry_on_lease_loss}, otherwise {@code failed} with {@code lease_lost}.
     */
    public int reapExpiredLeases(String actor) {
        return store.write(tx -> {
            long now = clock.millis();
            List<JobRow> expired = tx.expiredLeases(now, 500);
            List<EventDraft> events = new ArrayList<>();
            for (JobRow r : expired) {
                JobRow next;
                String action;
                String msg = "lease held by " + r.leaseOwner() + " expired";
                if (r.retryOnLeaseLoss() && r.attempts() < r.maxAttempts()) {
                    next = r.requeued(now + settings.backoff().delayMillis(r.attempts()), "lease_lost", msg, now);
                    action = "requeued";
                } else if (r.retryOnLeaseLoss()) {
                    next = r.finished(JobState.dead, null, "lease_lost", msg, now);
                    action = "dead";
                } else {
                    next = r.finished(JobState.failed, null, "lease_lost", msg, now);
                    action = "failed";
                }
                if (tx.updateJob(next, EnumSet.of(JobState.running), r.claims())) {
                    events.add(EventDraft.warn("job.lease_lost", "reaper", r.id(), actor, Json.object()
                            .put("attempt", r.attempts()).put("lease_owner", r.leaseOwner())
                            .put("action", action).put("state", next.state().name())));
                }
            }
            ledger.append(tx, events);
            return events.size();
        });
    }

    // ------------------------------------------------------------------ queries

    public Optional<JobRow> find(String id) {
        return store.read(tx -> tx.findJob(id));
    }

    public JobRow get(String id) {
        return find(id).orElseThrow(() -> WardenException.notFound("job " + id + " not found"));
    }

    public List<JobRow> list(JobFilter filter) {
        return store.read(tx -> tx.listJobs(filter));
    }

    public Map<JobState, Long> countByState() {
        return store.read(Tx::countByState);
    }
}
