package dev.warden.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobSpec;
import dev.warden.job.JobSpecParser;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.queue.JobJson;
import dev.warden.queue.Queue;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import dev.warden.store.Tx.ScheduleRow;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Cron schedules that enqueue a job spec. Created disabled. Every node's scheduler ticks; a due
 * schedule is taken under a row lock (SQLite: the single writer) and its fire enqueued with the
 * idempotency key {@code schedule:<name>:<fire time>} in the same transaction, so each fire
 * enqueues exactly once however many nodes tick. No overlap by default: a fire while the previous
 * run is still active is skipped and recorded. After downtime, {@code catch_up: one} fires once for
 * everything missed; {@code none} skips to the next time.
 */
public final class Schedules {
    public static final String COMPONENT = "scheduler";
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser WITH_SECONDS = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

    private final Store store;
    private final Ledger ledger;
    private final Queue queue;
    private final JobSpecParser parser;
    private final Clock clock;

    public Schedules(Store store, Ledger ledger, Queue queue, JobSpecParser parser, Clock clock) {
        this.store = store;
        this.ledger = ledger;
        this.queue = queue;
        this.parser = parser;
        this.clock = clock;
    }

    /** Parses a 5-field (minute resolution) or 6-field (with seconds) cron expression. */
    static ExecutionTime parse(String cron) {
        String[] fields = cron.trim().split("\\s+");
        try {
            Cron c = (fields.length == 6 ? WITH_SECONDS : UNIX).parse(cron.trim());
            c.validate();
            return ExecutionTime.forCron(c);
        } catch (IllegalArgumentException e) {
            throw WardenException.badInput("--cron: '" + cron + "' is not a cron expression (5 fields, or 6 with seconds first): "
                    + e.getMessage());
        }
    }

    private long nextAfter(String cron, long millis) {
        return parse(cron).nextExecution(ZonedDateTime.ofInstant(Instant.ofEpochMilli(millis), ZoneOffset.UTC))
                .map(z -> z.toInstant().toEpochMilli())
                .orElseThrow(() -> WardenException.badInput("--cron: '" + cron + "' never fires"));
    }

    public ScheduleRow add(String name, String cron, JsonNode spec, boolean allowOverlap, String catchUp, String actor) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
            throw WardenException.badInput("NAME: '" + name + "' must be letters, digits, _ . - (at most 64)");
        }
        if (!catchUp.equals("one") && !catchUp.equals("none")) {
            throw WardenException.badInput("--catch-up: '" + catchUp + "' is not one of one, none");
        }
        parse(cron);
        JobSpec parsed = parser.parse(spec);
        if (parsed.idempotencyKey() != null) {
            throw WardenException.badInput("idempotency_key: a scheduled spec may not set one (each fire gets its own)");
        }
        long now = clock.millis();
        ScheduleRow row = new ScheduleRow(name, cron.trim(), Json.canonical(parsed.json()), false, allowOverlap, catchUp,
                null, null, null, now, now);
        return store.write(tx -> {
            if (tx.findSchedule(name).isPresent()) {
                throw WardenException.badInput("NAME: a schedule named '" + name + "' exists; remove it first");
            }
            tx.putSchedule(row);
            ledger.append(tx, EventDraft.info("schedule.added", COMPONENT, "schedule:" + name, actor,
                    Json.object().put("cron", row.cron()).put("allow_overlap", allowOverlap).put("catch_up", catchUp)));
            return row;
        });
    }

    public ScheduleRow setEnabled(String name, boolean enabled, String actor) {
        return store.write(tx -> {
            ScheduleRow r = tx.findSchedule(name).orElseThrow(() -> WardenException.notFound("schedule " + name + " not found"));
            long now = clock.millis();
            ScheduleRow next = new ScheduleRow(r.name(), r.cron(), r.spec(), enabled, r.allowOverlap(), r.catchUp(),
                    enabled ? Long.valueOf(nextAfter(r.cron(), now)) : null, r.lastFireAt(), r.lastJobId(), r.createdAt(), now);
            tx.putSchedule(next);
            ledger.append(tx, EventDraft.info(enabled ? "schedule.enabled" : "schedule.disabled", COMPONENT,
                    "schedule:" + name, actor, Json.object()));
            return next;
        });
    }

    public void remove(String name, String actor) {
        store.write(tx -> {
            if (!tx.deleteSchedule(name)) {
                throw WardenException.notFound("schedule " + name + " not found");
            }
            ledger.append(tx, EventDraft.info("schedule.removed", COMPONENT, "schedule:" + name, actor, Json.object()));
            return null;
        });
    }

    public List<ScheduleRow> list() {
        return store.read(Tx::schedules);
    }

    /** Fires every due schedule once; returns the ids of the jobs enqueued. */
    public List<String> tick(String actor) {
        return store.write(tx -> {
            long now = clock.millis();
            List<String> enqueued = new ArrayList<>();
            for (ScheduleRow s : tx.dueSchedules(now, 100)) {
                long due = s.nextFireAt();
                long next = nextAfter(s.cron(), now);
                boolean missedSeveral = nextAfter(s.cron(), due) <= now;
                ObjectNode d = Json.object().put("fire_at", JobJson.iso(due)).put("next_fire_at", JobJson.iso(next));
                String jobId = s.lastJobId();
                String event;
                if (missedSeveral && s.catchUp().equals("none")) {
                    event = "schedule.missed";
                    d.put("reason", "fires missed while no node was running; catch_up is none");
                } else if (!s.allowOverlap() && stillActive(tx, s.lastJobId())) {
                    event = "schedule.skipped";
                    d.put("reason", "the previous run " + s.lastJobId() + " is still active");
                } else {
                    try {
                        JobSpec spec = parser.parse(withKey(s, due));
                        JobRow job = queue.enqueueIn(tx, List.of(spec), "schedule:" + s.name()).get(0).job();
                        jobId = job.id();
                        enqueued.add(job.id());
                        event = "schedule.fired";
                        d.put("job_id", job.id()).put("caught_up", missedSeveral);
                    } catch (WardenException e) {
                        event = "schedule.failed";
                        d.putObject("error").put("code", e.code().wireName()).put("message", e.getMessage());
                    }
                }
                tx.putSchedule(new ScheduleRow(s.name(), s.cron(), s.spec(), true, s.allowOverlap(), s.catchUp(), next,
                        event.equals("schedule.fired") ? Long.valueOf(due) : s.lastFireAt(), jobId, s.createdAt(), now));
                ledger.append(tx, event.equals("schedule.fired")
                        ? EventDraft.info(event, COMPONENT, "schedule:" + s.name(), actor, d)
                        : EventDraft.warn(event, COMPONENT, "schedule:" + s.name(), actor, d));
            }
            return enqueued;
        });
    }

    private static boolean stillActive(Tx tx, String jobId) {
        return jobId != null && tx.findJob(jobId).map(j -> !j.state().isTerminal()).orElse(false);
    }

    private static JsonNode withKey(ScheduleRow s, long due) {
        ObjectNode spec = (ObjectNode) Json.parse(s.spec());
        spec.put("idempotency_key", "schedule:" + s.name() + ":" + JobJson.iso(due));
        spec.with("labels").put("schedule", s.name());
        return spec;
    }

    public static ObjectNode view(ScheduleRow r) {
        ObjectNode n = Json.object().put("name", r.name()).put("cron", r.cron()).put("enabled", r.enabled())
                .put("allow_overlap", r.allowOverlap()).put("catch_up", r.catchUp());
        n.put("next_fire_at", r.nextFireAt() == null ? null : JobJson.iso(r.nextFireAt()));
        n.put("last_fire_at", r.lastFireAt() == null ? null : JobJson.iso(r.lastFireAt()));
        n.put("last_job_id", r.lastJobId());
        n.set("spec", Json.parse(r.spec()));
        return n;
    }

}
