package dev.warden.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.health.WorkerHealth;
import dev.warden.job.JobState;
import dev.warden.model.Usd;
import dev.warden.queue.KillSwitch;
import dev.warden.store.Tx;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code GET /metrics} in the Prometheus text format (0.0.4).
 *
 * <p>Gauges are read from the store at scrape time, so they describe the whole cluster: jobs by
 * state, workers, kill switch, model spend today (and per gateway token), ledger heads, and this
 * node's last canary. Counters are built from the ledger of every node by a {@link
 * dev.warden.ledger.LedgerFollower} started on the first scrape: claims, finished attempts and
 * their durations (a histogram), model calls by outcome, policy denials, budget exhaustion,
 * notifications. Like any Prometheus counter they start at zero when the process starts serving
 * them; use {@code rate()} / {@code increase()}.
 *
 * <p>Access: outside {@code /api}, and open to requests from a loopback address (Prometheus
 * scrapers rarely send custom headers); from any other address the API token is required, as
 * {@code Authorization: Bearer <token>} (Prometheus' {@code authorization} setting) or
 * {@code X-Warden-Token}. Nothing secret is exported: counts, sums, token names, chain names.
 */
final class Metrics {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final double[] DURATION_BUCKETS = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};

    private final WardenApp app;
    private final java.util.function.Predicate<String> tokenMatches;
    private final FailedAttempts badTokens;
    private volatile boolean following;

    private final LongAdder claims = new LongAdder();
    private final LongAdder denials = new LongAdder();
    private final LongAdder entriesSeen = new LongAdder();
    private final Map<String, LongAdder> finished = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> durations = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> modelCalls = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> budgetExceeded = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> notifications = new ConcurrentSkipListMap<>();

    /** @param tokenMatches whether a presented token is the API token (compared in constant time) */
    Metrics(WardenApp app, java.util.function.Predicate<String> tokenMatches, FailedAttempts badTokens) {
        this.app = app;
        this.tokenMatches = tokenMatches;
        this.badTokens = badTokens;
    }

    void handle(Context ctx) {
        if (!fromLoopback(ctx)) {
            String ip = ctx.ip();
            if (badTokens.limited(ip)) {
                throw new WebServer.HaltException(429, "rate_limited", "too many failed token attempts; wait a minute");
            }
            String auth = ctx.header("Authorization");
            String presented = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : ctx.header(WebServer.TOKEN_HEADER);
            if (presented == null || !tokenMatches.test(presented)) {
                badTokens.record(ip);
                throw new WebServer.HaltException(401, "unauthorized", "/metrics from a non-loopback address needs the token");
            }
        }
        startFollowing();
        ctx.status(200).contentType(CONTENT_TYPE).result(render());
    }

    /**
     * A loopback client that also addressed a loopback host: a page using DNS rebinding (its own
     * name pointed at 127.0.0.1) reaches the port from loopback too, but with its own name in
     * {@code Host}, so it needs the token like any remote client.
     */
    private static boolean fromLoopback(Context ctx) {
        try {
            String host = String.valueOf(ctx.header("Host")).replaceAll(":\\d+$", "").replaceAll("^\\[|\\]$", "");
            boolean loopbackHost = host.equalsIgnoreCase("localhost") || host.equals("::1") || host.matches("127(\\.\\d{1,3}){3}");
            return loopbackHost && InetAddress.getByName(ctx.req().getRemoteAddr()).isLoopbackAddress();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void startFollowing() {
        if (!following) {
            synchronized (this) {
                if (!following) {
                    app.ledgerFollower().subscribe(this::count);
                    app.ledgerFollower().start();
                    following = true;
                }
            }
        }
    }

    /** Counts one page of ledger entries (only those it reads are parsed). */
    void count(List<Tx.LedgerRow> rows) {
        for (Tx.LedgerRow r : rows) {
            entriesSeen.increment();
            switch (r.event()) {
                case "job.claimed" -> claims.increment();
                case "job.succeeded", "job.failed", "job.dead", "job.cancelled", "job.retry_scheduled", "job.released" -> {
                    String outcome = r.event().substring(4);
                    finished.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                    JsonNode d = Json.parse(r.entry()).path("details");
                    if (d.has("duration_ms")) {
                        durations.computeIfAbsent(outcome, k -> new Histogram()).observe(d.path("duration_ms").asLong() / 1000.0);
                    }
                }
                case "model.call" -> modelCalls.computeIfAbsent(Json.parse(r.entry()).path("details").path("outcome").asText("unknown"),
                        k -> new LongAdder()).increment();
                case "policy.denied" -> denials.increment();
                case "budget.exceeded" -> budgetExceeded.computeIfAbsent(Json.parse(r.entry()).path("details").path("budget").asText("unknown"),
                        k -> new LongAdder()).increment();
                case "notify.sent" -> notifications.computeIfAbsent("sent", k -> new LongAdder()).increment();
                case "notify.failed" -> notifications.computeIfAbsent("failed", k -> new LongAdder()).increment();
                default -> { }
            }
        }
    }

    String render() {
        StringBuilder b = new StringBuilder(4096);
        boolean storeUp = true;
        Map<JobState, Long> counts = Map.of();
        try {
            counts = app.queue().countByState();
        } catch (RuntimeException e) {
            storeUp = false;
        }
        gauge(b, "warden_store_up", "1 when the store answers a read");
        sample(b, "warden_store_up", "", storeUp ? 1 : 0);
        gauge(b, "warden_jobs", "Jobs by state (queue depth: state=\"queued\")");
        for (JobState s : JobState.values()) {
            sample(b, "warden_jobs", label("state", s.name()), counts.getOrDefault(s, 0L));
        }
        boolean kill = app.killSwitch().fileOn();
        if (storeUp) {
            try {
                kill = kill || app.store().read(tx -> tx.setting(KillSwitch.SETTING)).map("on"::equals).orElse(false);
                long pending = app.store().read(tx -> tx.approvals().countPending());
                gauge(b, "warden_approvals_pending", "Approval requests waiting for an operator");
                sample(b, "warden_approvals_pending", "", pending);
                workers(b);
                spend(b);
                ledgerHeads(b);
            } catch (RuntimeException e) {
                // the store went away mid-scrape: what was written stands, store_up says the rest
            }
        }
        gauge(b, "warden_killswitch", "1 when the kill switch is on");
        sample(b, "warden_killswitch", "", kill ? 1 : 0);
        canary(b);

        counter(b, "warden_jobs_claimed_total", "Job attempts claimed (all nodes)");
        sample(b, "warden_jobs_claimed_total", "", claims.sum());
        counter(b, "warden_job_attempts_finished_total", "Finished attempts by outcome (succeeded, failed, dead, cancelled, retry_scheduled, released)");
        finished.forEach((k, v) -> sample(b, "warden_job_attempts_finished_total", label("outcome", k), v.sum()));
        b.append("# HELP warden_job_attempt_duration_seconds Attempt duration by outcome\n");
        b.append("# TYPE warden_job_attempt_duration_seconds histogram\n");
        durations.forEach((k, h) -> h.write(b, "warden_job_attempt_duration_seconds", "outcome", k));
        counter(b, "warden_model_calls_total", "Model calls by outcome (ok, budget_exceeded:<which>, all_candidates_failed, …)");
        modelCalls.forEach((k, v) -> sample(b, "warden_model_calls_total", label("outcome", k), v.sum()));
        counter(b, "warden_policy_denials_total", "policy.denied entries");
        sample(b, "warden_policy_denials_total", "", denials.sum());
        counter(b, "warden_budget_exceeded_total", "budget.exceeded entries by budget");
        budgetExceeded.forEach((k, v) -> sample(b, "warden_budget_exceeded_total", label("budget", k), v.sum()));
        counter(b, "warden_notifications_total", "Webhook notifications by result");
        notifications.forEach((k, v) -> sample(b, "warden_notifications_total", label("result", k), v.sum()));
        counter(b, "warden_ledger_entries_seen_total", "Ledger entries these counters have read");
        sample(b, "warden_ledger_entries_seen_total", "", entriesSeen.sum());
        return b.toString();
    }

    private void workers(StringBuilder b) {
        WorkerHealth w = WorkerHealth.read(app.store(), app.clock().millis(), app.workerAliveWithin());
        gauge(b, "warden_workers", "Registered worker processes by state");
        sample(b, "warden_workers", label("state", "alive"), w.alive());
        sample(b, "warden_workers", label("state", "dead"), w.dead());
        sample(b, "warden_workers", label("state", "stopped"), w.stopped());
    }

    private void spend(StringBuilder b) {
        long usd = 0;
        long tokens = 0;
        long calls = 0;
        Map<String, Long> perToken = new ConcurrentSkipListMap<>();
        for (Tx.SpendRow r : app.spend().on(app.spend().today())) {
            if (r.scope().equals("day")) {
                usd = r.spentNano();
                tokens = r.tokens();
                calls = r.calls();
            } else if (r.scope().startsWith("token:")) {
                perToken.put(r.scope().substring(6), r.spentNano());
            }
        }
        gauge(b, "warden_model_spend_usd_today", "Model spend today (UTC day), all nodes");
        sample(b, "warden_model_spend_usd_today", "", Usd.fromNano(usd).doubleValue());
        gauge(b, "warden_model_tokens_today", "Model tokens today");
        sample(b, "warden_model_tokens_today", "", tokens);
        gauge(b, "warden_model_calls_today", "Model calls charged today");
        sample(b, "warden_model_calls_today", "", calls);
        app.config().models().budget().usdPerDay().ifPresent(cap -> {
            gauge(b, "warden_model_spend_cap_usd_per_day", "models.budget.usd_per_day");
            sample(b, "warden_model_spend_cap_usd_per_day", "", cap.doubleValue());
        });
        if (!perToken.isEmpty()) {
            gauge(b, "warden_gateway_token_spend_usd_today", "Gateway spend today by client token name");
            perToken.forEach((name, nano) -> sample(b, "warden_gateway_token_spend_usd_today", label("token", name),
                    Usd.fromNano(nano).doubleValue()));
        }
    }

    private void ledgerHeads(StringBuilder b) {
        gauge(b, "warden_ledger_head_seq", "Entries in each node's ledger chain");
        for (Tx.LedgerHead h : app.store().read(Tx::ledgerHeads)) {
            sample(b, "warden_ledger_head_seq", label("chain", h.chain()), h.seq());
        }
    }

    /** This node's last canary line ({@code <data_dir>/canary.log}): 0 OK, 1 DEGRADED, 2 FAIL, and when. */
    private void canary(StringBuilder b) {
        String last = lastLine(app.dataDir().resolve(dev.warden.health.Canary.LOG_FILE));
        if (last == null) {
            return;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("status=(OK|DEGRADED|FAIL) .* ts=(\\S+)$").matcher(last);
        if (!m.find()) {
            return;
        }
        gauge(b, "warden_canary_status", "Last canary on this node: 0 OK, 1 DEGRADED, 2 FAIL");
        sample(b, "warden_canary_status", "", switch (m.group(1)) {
            case "OK" -> 0;
            case "DEGRADED" -> 1;
            default -> 2;
        });
        try {
            gauge(b, "warden_canary_last_run_timestamp_seconds", "When the last canary ran");
            sample(b, "warden_canary_last_run_timestamp_seconds", "", Instant.parse(m.group(2)).toEpochMilli() / 1000.0);
        } catch (RuntimeException e) {
            // a damaged line: the status above stands
        }
    }

    private static String lastLine(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, 512);
            byte[] tail = new byte[n];
            f.seek(len - n);
            f.readFully(tail);
            String s = new String(tail, StandardCharsets.UTF_8).strip();
            int nl = s.lastIndexOf('\n');
            return nl < 0 ? s : s.substring(nl + 1);
        } catch (IOException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ exposition format

    private static void gauge(StringBuilder b, String name, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
    }

    private static void counter(StringBuilder b, String name, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n");
    }

    private static void sample(StringBuilder b, String name, String labels, double value) {
        b.append(name).append(labels).append(' ').append(format(value)).append('\n');
    }

    static String label(String name, String value) {
        return "{" + name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"}";
    }

    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }

    /** A cumulative histogram over {@link #DURATION_BUCKETS}. */
    static final class Histogram {
        private final AtomicLong[] buckets = new AtomicLong[DURATION_BUCKETS.length];
        private final AtomicLong count = new AtomicLong();
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new AtomicLong();
            }
        }

        void observe(double seconds) {
            for (int i = 0; i < DURATION_BUCKETS.length; i++) {
                if (seconds <= DURATION_BUCKETS[i]) {
                    buckets[i].incrementAndGet();
                }
            }
            count.incrementAndGet();
            sum.add(seconds);
        }

        void write(StringBuilder b, String name, String labelName, String labelValue) {
            String lv = labelValue.replace("\\", "\\\\").replace("\"", "\\\"");
            for (int i = 0; i < DURATION_BUCKETS.length; i++) {
                b.append(name).append("_bucket{").append(labelName).append("=\"").append(lv).append("\",le=\"")
                        .append(format(DURATION_BUCKETS[i])).append("\"} ").append(buckets[i].get()).append('\n');
            }
            b.append(name).append("_bucket{").append(labelName).append("=\"").append(lv).append("\",le=\"+Inf\"} ")
                    .append(count.get()).append('\n');
            b.append(name).append("_sum{").append(labelName).append("=\"").append(lv).append("\"} ").append(format(sum.sum())).append('\n');
            b.append(name).append("_count{").append(labelName).append("=\"").append(lv).append("\"} ").append(count.get()).append('\n');
        }
    }
}
