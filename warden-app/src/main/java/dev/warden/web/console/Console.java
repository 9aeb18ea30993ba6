package dev.warden.web.console;

import dev.warden.agent.Approvals;
import dev.warden.store.ApprovalsTx.ApprovalRow;

import static dev.warden.web.console.Html.badge;
import static dev.warden.web.console.Html.e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.model.Usd;
import dev.warden.queue.JobJson;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.web.FailedAttempts;
import dev.warden.web.WebServer;
import dev.warden.web.security.Sessions;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import io.javalin.http.sse.SseClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The operator's console: server-rendered pages behind a token login (session cookie), readable
 * without JavaScript; htmx (from its WebJar) sends actions to the REST API with the session's CSRF
 * token, and {@code /console/events} (server-sent events) tells open pages to refresh their live
 * part when the ledger moves.
 */
public final class Console {
    private final WardenApp app;
    private final Sessions sessions;
    private final FailedAttempts failedLogins;
    private final List<SseClient> clients = new CopyOnWriteArrayList<>();
    private volatile Thread watcher;

    public Console(WardenApp app, Sessions sessions, FailedAttempts failedLogins) {
        this.app = app;
        this.sessions = sessions;
        this.failedLogins = failedLogins;
    }

    public void register(RoutesConfig r) {
        r.get("/login", this::loginPage);
        r.post("/login", this::login);
        r.post("/logout", this::logout);
        r.get("/", ctx -> page(ctx, "Overview", "/", this::overview));
        r.get("/jobs", ctx -> page(ctx, "Jobs", "/jobs", this::jobs));
        r.get("/jobs/{id}", ctx -> page(ctx, "Job " + ctx.pathParam("id"), "/jobs", this::job));
        r.get("/jobs/{id}/artifacts/{name}", this::artifact);
        r.get("/approvals", ctx -> page(ctx, "Approvals", "/approvals", this::approvals));
        r.get("/schedules", ctx -> page(ctx, "Schedules", "/schedules", this::schedules));
        r.get("/providers", ctx -> page(ctx, "Providers", "/providers", this::providers));
        r.get("/ledger", ctx -> page(ctx, "Ledger", "/ledger", this::ledger));
        r.get("/projects", ctx -> page(ctx, "Projects", "/projects", this::projects));
        r.before("/console/events", ctx -> {
            if (session(ctx).isEmpty()) {
                throw new WebServer.HaltException(401, "unauthorized", "log in first");
            }
        });
        r.sse("/console/events", this::events);
    }

    // ------------------------------------------------------------------ login and sessions

    private Optional<Sessions.Principal> session(Context ctx) {
        return sessions.byCookie(ctx.cookie(Sessions.COOKIE));
    }

    private void loginPage(Context ctx) {
        loginForm(ctx, 200, null);
    }

    private void loginForm(Context ctx, int status, String problem) {
        ctx.status(status).contentType("text/html; charset=utf-8").result("""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · Warden</title>
                <link rel="stylesheet" href="/assets/console.css"></head>
                <body class="login"><main><h1>Warden</h1>
                %s
                <form method="post" action="/login">
                <label for="token">Console token</label>
                <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
                <button type="submit">Log in</button>
                </form>
                <p class="hint">The token is in <code>&lt;data_dir&gt;/console.token</code> (printed by <code>warden up</code> the first time).</p>
                </main></body></html>
                """.formatted(problem == null ? "" : "<p class=\"error\" role=\"alert\">" + e(problem) + "</p>"));
    }

    private void login(Context ctx) {
        String ip = ctx.ip();
        if (failedLogins.limited(ip)) {
            loginForm(ctx, 429, "Too many failed attempts; wait a minute.");
            return;
        }
        WebServer.checkSameOrigin(ctx, false);
        Optional<String> id = sessions.login(ctx.formParam("token"));
        if (id.isEmpty()) {
            failedLogins.record(ip);
            loginForm(ctx, 401, "That is not the console token.");
            return;
        }
        Cookie c = new Cookie(Sessions.COOKIE, id.get());
        c.setHttpOnly(true);
        c.setSameSite(SameSite.STRICT);
        c.setPath("/");
        ctx.cookie(c);
        app.ledger().record(app.store(), dev.warden.ledger.EventDraft.info("console.login", "console", "console",
                "console:" + sessions.fingerprint(), Json.object().put("address", ip)));
        ctx.redirect("/", io.javalin.http.HttpStatus.SEE_OTHER);
    }

    private void logout(Context ctx) {
        Sessions.Principal p = session(ctx).orElseThrow(() -> new WebServer.HaltException(401, "unauthorized", "not logged in"));
        WebServer.checkSameOrigin(ctx, true);
        String csrf = ctx.formParam("csrf");
        if (csrf == null || !csrf.equals(p.csrf())) {
            throw new WebServer.HaltException(403, "csrf", "missing or wrong CSRF token");
        }
        sessions.logout(ctx.cookie(Sessions.COOKIE));
        ctx.removeCookie(Sessions.COOKIE, "/");
        ctx.redirect("/login", io.javalin.http.HttpStatus.SEE_OTHER);
    }

    public void errorPage(Context ctx, int status, String message) {
        ctx.status(status).contentType("text/html; charset=utf-8").result("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Error · Warden</title><link rel=\"stylesheet\" href=\"/assets/console.css\"></head><body><main><h1>"
                + status + "</h1><p>" + e(app.redactor().scrub(message)) + "</p><p><a href=\"/\">Overview</a></p></main></body></html>");
    }

    interface Body {
        String render(Context ctx);
    }

    /** A console page: logged-in users only (others go to the login page). */
    private void page(Context ctx, String title, String active, Body body) {
        Optional<Sessions.Principal> p = session(ctx);
        if (p.isEmpty()) {
            ctx.redirect("/login", io.javalin.http.HttpStatus.SEE_OTHER);
            return;
        }
        String html;
        try {
            html = body.render(ctx);
        } catch (WardenException ex) {
            errorPage(ctx, ex.code() == dev.warden.common.ErrorCode.NOT_FOUND ? 404 : 400, ex.getMessage());
            return;
        }
        String self = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
        ctx.contentType("text/html; charset=utf-8").result(app.redactor().scrub(Html.page(title, active, p.get().csrf(), self, html)));
    }

    // ------------------------------------------------------------------ live updates

    private void events(SseClient client) {
        if (session(client.ctx()).isEmpty()) {
            client.ctx().status(401);
            client.close();
            return;
        }
        client.keepAlive();
        clients.add(client);
        client.onClose(() -> clients.remove(client));
        startWatcher();
        client.sendEvent("hello", "connected");
    }

    /** One thread per server: when the ledger or the kill switch changes, every open page is told to refresh. */
    private synchronized void startWatcher() {
        if (watcher != null) {
            return;
        }
        watcher = Thread.ofPlatform().daemon().name("console-events").start(() -> {
            String last = "";
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(300);
                    if (clients.isEmpty()) {
                        continue;
                    }
                    String now = app.store().read(tx -> tx.ledgerTail(1).stream().map(x -> x.chain() + ":" + x.seq()).findFirst().orElse(""))
                            + (app.killSwitch().fileOn() ? ":file-on" : "");
                    if (!now.equals(last)) {
                        last = now;
                        for (SseClient c : clients) {
                            try {
                                c.sendEvent("update", now);
                            } catch (RuntimeException gone) {
                                clients.remove(c);
                            }
                        }
                    }
                } catch (InterruptedException ie) {
                    return;
                } catch (RuntimeException ignored) {
                    // the store is briefly unavailable: try again on the next round
                }
            }
        });
    }

    /** Stops the live-update thread and lets go of the open pages (the server is stopping). */
    public synchronized void close() {
        if (watcher != null) {
            watcher.interrupt();
            try {
                watcher.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            watcher = null;
        }
        clients.clear();
    }

    // ------------------------------------------------------------------ pages

    private String overview(Context ctx) {
        StringBuilder b = new StringBuilder();
        boolean kill = app.killSwitch().isOn();
        b.append("<section class=\"killswitch ").append(kill ? "on" : "off").append("\"><h2>Kill switch: <span id=\"killswitch-state\">")
                .append(kill ? "ON" : "OFF").append("</span></h2>")
                .append(kill ? "<p>No job is claimed and no model call is made until it is turned off.</p>" : "<p>Jobs run normally.</p>")
                .append("<button id=\"killswitch-toggle\" class=\"").append(kill ? "" : "danger").append("\" hx-post=\"/api/killswitch\" hx-vals='{\"state\": \"")
                .append(kill ? "off" : "on").append("\"}' hx-swap=\"none\">Turn ").append(kill ? "off" : "on")
                .append("</button></section>");
        Map<JobState, Long> counts = app.queue().countByState();
        b.append("<section><h2>Queue</h2><table class=\"counts\"><tr>");
        for (JobState s : JobState.values()) {
            b.append("<th>").append(badge(s.name().toLowerCase(java.util.Locale.ROOT))).append("</th>");
        }
        b.append("</tr><tr>");
        for (JobState s : JobState.values()) {
            b.append("<td><a href=\"/jobs?state=").append(e(s.name().toLowerCase(java.util.Locale.ROOT))).append("\">")
                    .append(counts.getOrDefault(s, 0L)).append("</a></td>");
        }
        b.append("</tr></table></section>");
        long waiting = app.store().read(tx -> tx.approvals().countPending());
        b.append("<section><h2>Approvals</h2><p id=\"overview-approvals\"><a href=\"/approvals\">").append(waiting)
                .append(waiting == 1 ? " request waits" : " requests wait").append(" for a decision</a></p></section>");
        b.append(hourlyChart());
        b.append("<section><h2>Workers</h2>").append(workersTable()).append("</section>");
        b.append("<section><h2>Providers and spend today</h2>").append(providersTable()).append(spendToday()).append("</section>");
        b.append(spendChart());
        b.append("<section><h2>Last canary</h2>").append(lastCanary()).append("</section>");
        return b.toString();
    }

    private String workersTable() {
        List<Tx.WorkerRow> rows = app.store().read(Tx::workers);
        Map<String, Integer> running = app.store().read(Tx::runningByOwner);
        long now = app.clock().millis();
        long aliveWithin = Math.max(app.config().lease().toMillis(), app.config().tick().toMillis() * 10);
        if (rows.isEmpty()) {
            return "<p>No worker has registered.</p>";
        }
        StringBuilder b = new StringBuilder("<table><tr><th>worker</th><th>node</th><th>state</th><th>last heartbeat</th><th>running</th></tr>");
        int shown = 0;
        for (Tx.WorkerRow w : rows) {
            String state = w.stoppedAt() != null ? "stopped" : now - w.heartbeatAt() <= aliveWithin ? "alive" : "dead";
            if (state.equals("stopped") && shown >= 5) {
                continue;
            }
            shown++;
            b.append("<tr><td><code>").append(e(w.id())).append("</code></td><td>").append(e(w.node())).append("</td><td>")
                    .append(badge(state)).append("</td><td>").append((now - w.heartbeatAt()) / 1000).append(" s ago</td><td>")
                    .append(running.getOrDefault(w.id(), 0)).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    private String providersTable() {
        ModelsConfig m = app.config().models();
        if (m.isEmpty()) {
            return "<p>No model providers configured.</p>";
        }
        StringBuilder b = new StringBuilder("<table><tr><th>provider</th><th>base URL</th><th>key</th><th>breaker</th><th>last error</th></tr>");
        for (dev.warden.model.ProviderStatus p : dev.warden.model.ProviderStatus.of(m, app.store(), ProviderKeys.fromSystem())) {
            b.append("<tr><td>").append(e(p.id())).append(p.local() ? " (local)" : "").append("</td><td><code>").append(e(p.baseUrl()))
                    .append("</code></td><td><code>").append(e(p.key())).append("</code></td><td>").append(badge(p.breaker()))
                    .append("</td><td>").append(e(p.lastErrorClass() == null ? "-" : p.lastErrorClass())).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    private String spendToday() {
        String today = app.spend().today();
        ModelsConfig.BudgetCaps caps = app.config().models().budget();
        long day = 0;
        StringBuilder scopes = new StringBuilder();
        for (Tx.SpendRow r : app.spend().on(today)) {
            if (r.scope().equals("day")) {
                day = r.spentNano();
            } else {
                scopes.append("<tr><td>").append(e(r.scope())).append("</td><td>").append(e(Usd.format(r.spentNano())))
                        .append("</td><td>").append(r.calls()).append("</td></tr>");
            }
        }
        StringBuilder b = new StringBuilder("<p class=\"spend\">Spend today (").append(e(today)).append("): <strong>")
                .append(e(Usd.format(day))).append(" USD</strong> of ")
                .append(e(caps.usdPerDay().map(x -> x.toPlainString() + " USD").orElse("no cap"))).append("</p>");
        if (!scopes.isEmpty()) {
            b.append("<table><tr><th>scope</th><th>USD</th><th>calls</th></tr>").append(scopes).append("</table>");
        }
        return b.toString();
    }

    private String lastCanary() {
        Path log = app.dataDir().resolve("canary.log");
        try {
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                if (!lines.isEmpty()) {
                    return "<p><code>" + e(lines.get(lines.size() - 1)) + "</code></p>";
                }
            }
        } catch (IOException ignored) {
            // shown as never run
        }
        return "<p>The canary has not run (<code>warden canary</code>).</p>";
    }

    private String hourlyChart() {
        long now = app.clock().millis();
        long start = Instant.ofEpochMilli(now).truncatedTo(ChronoUnit.HOURS).minus(23, ChronoUnit.HOURS).toEpochMilli();
        long[][] buckets = new long[24][2];
        for (Map.Entry<Long, JobState> e : app.store().read(tx -> tx.finishedSince(start))) {
            int i = (int) ((e.getKey() - start) / 3_600_000L);
            if (i >= 0 && i < 24) {
                if (e.getValue() == JobState.succeeded) {
                    buckets[i][0]++;
                } else if (e.getValue() == JobState.failed || e.getValue() == JobState.dead) {
                    buckets[i][1]++;
                }
            }
        }
        List<String> labels = new ArrayList<>();
        List<long[]> series = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            labels.add(String.format("%02d:00", Instant.ofEpochMilli(start + i * 3_600_000L).atZone(ZoneOffset.UTC).getHour()));
            series.add(buckets[i]);
        }
        return "<section>" + Charts.bars("Jobs finished per hour (UTC, last 24 h)", labels, series, List.of("succeeded", "failed or dead"), "")
                + "</section>";
    }

    private String spendChart() {
        LocalDate today = LocalDate.parse(app.spend().today());
        Map<String, Long> byDay = new LinkedHashMap<>();
        for (int i = 13; i >= 0; i--) {
            byDay.put(today.minusDays(i).toString(), 0L);
        }
        for (Tx.SpendRow r : app.store().read(tx -> tx.spendDays("day", 14))) {
            byDay.computeIfPresent(r.day(), (k, v) -> r.spentNano() / 1000); // micro-USD for the chart
        }
        List<String> labels = new ArrayList<>();
        List<long[]> series = new ArrayList<>();
        byDay.forEach((d, v) -> {
            labels.add(d.substring(5));
            series.add(new long[] {v});
        });
        return "<section>" + Charts.bars("Model spend per day (micro-USD, last 14 days)", labels, series, List.of("spend"), " µUSD")
                + "</section>";
    }

    private String jobs(Context ctx) {
        String state = blankToNull(ctx.queryParam("state"));
        String kind = blankToNull(ctx.queryParam("kind"));
        String label = blankToNull(ctx.queryParam("label"));
        String project = blankToNull(ctx.queryParam("project"));
        Map<String, String> labels = new LinkedHashMap<>();
        if (label != null) {
            int eq = label.indexOf('=');
            if (eq <= 0) {
                throw WardenException.badInput("label: '" + label + "' must be KEY=VALUE");
            }
            labels.put(label.substring(0, eq), label.substring(eq + 1));
        }
        List<JobRow> rows = app.queue().list(new Tx.JobFilter(state == null ? null : JobState.parse(state), kind, labels, 200, 0));
        if (project != null) {
            rows = rows.stream().filter(r -> project.equals(r.project())).toList();
        }
        StringBuilder b = new StringBuilder("<form class=\"filters\" method=\"get\" action=\"/jobs\">");
        b.append("<label>state <select name=\"state\"><option value=\"\">any</option>");
        for (JobState s : JobState.values()) {
            String v = s.name().toLowerCase(java.util.Locale.ROOT);
            b.append("<option").append(v.equals(state) ? " selected" : "").append('>').append(v).append("</option>");
        }
        b.append("</select></label><label>kind <input name=\"kind\" value=\"").append(e(kind)).append("\"></label>")
                .append("<label>project <input name=\"project\" value=\"").append(e(project)).append("\"></label>")
                .append("<label>label <input name=\"label\" placeholder=\"key=value\" value=\"").append(e(label)).append("\"></label>")
                .append("<button type=\"submit\">Filter</button></form>");
        b.append("<table class=\"jobs\"><tr><th>job</th><th>kind</th><th>state</th><th>attempts</th><th>created</th><th>finished</th><th>error</th></tr>");
        for (JobRow r : rows) {
            b.append("<tr data-job=\"").append(e(r.id())).append("\"><td><a href=\"/jobs/").append(e(r.id())).append("\"><code>").append(e(r.id()))
                    .append("</code></a></td><td>").append(e(r.kind())).append("</td><td>").append(badge(r.state().name().toLowerCase(java.util.Locale.ROOT)))
                    .append("</td><td>").append(r.attempts()).append('/').append(r.maxAttempts()).append("</td><td>")
                    .append(e(JobJson.iso(r.createdAt()))).append("</td><td>").append(r.finishedAt() == null ? "" : e(JobJson.iso(r.finishedAt())))
                    .append("</td><td>").append(e(r.errorCode())).append("</td></tr>");
        }
        b.append("</table>");
        if (rows.isEmpty()) {
            b.append("<p>No jobs match.</p>");
        }
        return b.toString();
    }

    private String job(Context ctx) {
        JobRow r = app.queue().get(ctx.pathParam("id"));
        String state = r.state().name().toLowerCase(java.util.Locale.ROOT);
        StringBuilder b = new StringBuilder("<h1>Job <code>").append(e(r.id())).append("</code> <span id=\"job-state\">").append(badge(state))
                .append("</span></h1>");
        b.append("<p class=\"actions\">");
        if (!r.state().isTerminal()) {
            b.append("<button hx-post=\"/api/jobs/").append(e(r.id())).append("/cancel\" hx-swap=\"none\" class=\"danger\">Cancel</button>");
        } else if (r.state() != JobState.succeeded) {
            b.append("<button hx-post=\"/api/jobs/").append(e(r.id())).append("/retry\" hx-swap=\"none\">Retry</button>");
        }
        b.append("</p><table class=\"fields\">");
        row(b, "kind", r.kind());
        row(b, "project", r.project());
        row(b, "attempts", r.attempts() + " of " + r.maxAttempts());
        row(b, "created", JobJson.iso(r.createdAt()));
        row(b, "started", r.startedAt() == null ? "-" : JobJson.iso(r.startedAt()));
        row(b, "finished", r.finishedAt() == null ? "-" : JobJson.iso(r.finishedAt()));
        if (r.errorCode() != null) {
            row(b, "error", r.errorCode() + ": " + r.errorMessage());
        }
        b.append("</table>");
        List<Tx.LedgerRow> events = app.store().read(tx -> tx.ledgerByCorrId(r.id()));
        List<JsonNode> denials = new ArrayList<>();
        List<JsonNode> modelCalls = new ArrayList<>();
        JsonNode usage = null;
        for (Tx.LedgerRow x : events) {
            JsonNode d = Json.parse(x.entry()).path("details");
            if (x.event().equals("policy.denied")) {
                denials.add(d);
            } else if (x.event().equals("model.call")) {
                modelCalls.add(d);
            } else if (x.event().startsWith("job.") && d.path("usage").isObject()) {
                usage = d.path("usage");
            }
        }
        b.append("<section><h2>Cost</h2>");
        if (usage == null) {
            b.append("<p>No attempt has finished yet.</p>");
        } else {
            b.append("<table class=\"fields\">");
            row(b, "wall time", usage.path("wall_ms").asLong() + " ms");
            row(b, "output", usage.path("output_bytes").asLong() + " bytes");
            row(b, "tool calls", usage.path("tool_calls").asText("0"));
            row(b, "model tokens", usage.path("tokens").asText("0"));
            row(b, "model USD", usage.path("usd").asText("0"));
            b.append("</table>");
        }
        if (!modelCalls.isEmpty()) {
            b.append("<table><tr><th>model call</th><th>model</th><th>outcome</th><th>USD</th></tr>");
            for (JsonNode c : modelCalls) {
                b.append("<tr><td>").append(e(c.path("target").asText())).append("</td><td>").append(e(c.path("model").asText("-")))
                        .append("</td><td>").append(e(c.path("outcome").asText())).append("</td><td>")
                        .append(e(c.path("cost_usd").path("actual").asText())).append("</td></tr>");
            }
            b.append("</table>");
        }
        List<ApprovalRow> asked = app.approvals().forJob(r.id());
        if (!asked.isEmpty()) {
            b.append("</section><section><h2>Approvals</h2><table><tr><th>request</th><th>state</th><th>by</th></tr>");
            for (ApprovalRow a : asked) {
                b.append("<tr><td><a href=\"/approvals#").append(e(a.id())).append("\">").append(e(a.summary())).append("</a></td><td>")
                        .append(badge(a.state())).append("</td><td>").append(e(a.decidedBy() == null ? "-" : a.decidedBy()))
                        .append("</td></tr>");
            }
            b.append("</table>");
        }
        b.append("</section><section><h2>Denials</h2>");
        if (denials.isEmpty()) {
            b.append("<p>Nothing was denied.</p>");
        } else {
            b.append("<ul>");
            denials.forEach(d -> b.append("<li>").append(e(d.path("act").asText())).append(" <code>").append(e(d.path("target").asText()))
                    .append("</code>: ").append(e(d.path("reason").asText())).append("</li>"));
            b.append("</ul>");
        }
        b.append("</section><section><h2>Ledger timeline</h2><ol class=\"timeline\">");
        for (Tx.LedgerRow x : events) {
            JsonNode env = Json.parse(x.entry());
            b.append("<li><time>").append(e(env.path("ts").asText())).append("</time> <code>").append(e(x.event())).append("</code> by ")
                    .append(e(env.path("actor").asText())).append(" <span class=\"seq\">").append(e(x.chain())).append('#').append(x.seq())
                    .append("</span></li>");
        }
        b.append("</ol></section>");
        b.append("<section id=\"evidence\"><h2>Evidence</h2>");
        if (r.state().isTerminal()) {
            Path dir = app.evidence().materialize(r);
            try {
                b.append("<div class=\"summary\">").append(Markdown.render(Files.readString(dir.resolve("summary.md")))).append("</div>");
                Path artifacts = dir.resolve("artifacts");
                if (Files.isDirectory(artifacts)) {
                    try (var files = Files.list(artifacts)) {
                        List<Path> list = files.filter(Files::isRegularFile).sorted().toList();
                        if (!list.isEmpty()) {
                            b.append("<h3>Artifacts</h3><ul>");
                            for (Path f : list) {
                                String name = f.getFileName().toString();
                                b.append("<li><a href=\"/jobs/").append(e(r.id())).append("/artifacts/").append(e(name)).append("\">")
                                        .append(e(name)).append("</a> (").append(Files.size(f)).append(" bytes)</li>");
                            }
                            b.append("</ul>");
                        }
                    }
                }
            } catch (IOException ex) {
                b.append("<p>The evidence bundle cannot be read: ").append(e(ex.getMessage())).append("</p>");
            }
        } else {
            b.append("<p>The bundle is written when the job ends.</p>");
        }
        return b.append("</section>").toString();
    }

    private void artifact(Context ctx) {
        if (session(ctx).isEmpty()) {
            throw new WebServer.HaltException(401, "unauthorized", "log in first");
        }
        String name = ctx.pathParam("name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw WardenException.badInput("name: '" + name + "' is not an artifact name");
        }
        JobRow r = app.queue().get(ctx.pathParam("id"));
        Path f = app.evidence().materialize(r).resolve("artifacts").resolve(name);
        if (!Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw WardenException.notFound("artifact " + name + " of job " + r.id() + " does not exist");
        }
        try {
            ctx.contentType("text/plain; charset=utf-8").header("Content-Disposition", "attachment; filename=\"" + name + "\"")
                    .result(app.redactor().scrub(Files.readString(f)));
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    private String approvals(Context ctx) {
        List<ApprovalRow> pending = app.approvals().list(Approvals.PENDING, 200);
        StringBuilder b = new StringBuilder("<h1>Approvals</h1><p id=\"approvals-pending\">").append(pending.size())
                .append(pending.size() == 1 ? " request waits" : " requests wait").append(" for a decision.</p>");
        java.util.Map<String, JsonNode> plans = new java.util.HashMap<>();
        for (ApprovalRow r : pending) {
            JsonNode action = Json.parse(r.action());
            JsonNode plan = plans.computeIfAbsent(r.jobId(), id -> app.store().read(tx -> tx.approvals().plan(id))
                    .map(Json::parse).orElse(Json.object()));
            b.append("<article class=\"approval\" id=\"").append(e(r.id())).append("\"><h2>").append(e(action.path("type").asText()))
                    .append(" <small>for job <a href=\"/jobs/").append(e(r.jobId())).append("\">").append(e(r.jobId()))
                    .append("</a></small></h2><table class=\"fields\">");
            row(b, "message", action.path("message_id").asText() + " \u2014 " + action.path("message_subject").asText());
            row(b, "why proposed", action.path("reason").asText());
            row(b, "requested", JobJson.iso(r.requestedAt()));
            row(b, "expires", JobJson.iso(r.expiresAt()) + " (not executed if undecided by then)");
            b.append("</table><h3>Why it waits</h3><ul class=\"reasons\">");
            Json.parse(r.reasons()).forEach(x -> b.append("<li>").append(e(x.asText())).append("</li>"));
            b.append("</ul><h3>The action</h3><pre>").append(e(Json.pretty(app.redactor().redact(action.path("args")))))
                    .append("</pre>");
            b.append(messagePlan(plan, action.path("message_id").asText()));
            b.append("<p class=\"actions\"><button class=\"approve\" hx-post=\"/api/approvals/").append(e(r.id()))
                    .append("/approve\" hx-swap=\"none\">Approve</button> <button class=\"danger reject\" hx-post=\"/api/approvals/")
                    .append(e(r.id())).append("/reject\" hx-swap=\"none\">Reject</button></p></article>");
        }
        List<ApprovalRow> decided = app.approvals().list(null, 60).stream()
                .filter(r -> !Approvals.PENDING.equals(r.state())).limit(20).toList();
        b.append("<h2>Recent decisions</h2>");
        if (decided.isEmpty()) {
            b.append("<p>None yet.</p>");
        } else {
            b.append("<table><tr><th>request</th><th>state</th><th>by</th><th>when</th><th>job</th></tr>");
            for (ApprovalRow r : decided) {
                b.append("<tr><td>").append(e(r.summary())).append("</td><td>").append(badge(r.state())).append("</td><td>")
                        .append(e(r.decidedBy() == null ? "-" : r.decidedBy())).append("</td><td>")
                        .append(r.decidedAt() == null ? "-" : e(JobJson.iso(r.decidedAt()))).append("</td><td><a href=\"/jobs/")
                        .append(e(r.jobId())).append("\">").append(e(r.jobId())).append("</a></td></tr>");
            }
            b.append("</table>");
        }
        return b.toString();
    }

    /** The whole plan the brain proposed for one message: what runs by itself and what waits. */
    private String messagePlan(JsonNode plan, String messageId) {
        for (JsonNode m : plan.path("plans")) {
            if (!m.path("id").asText().equals(messageId)) {
                continue;
            }
            StringBuilder b = new StringBuilder("<h3>The plan for this message</h3><table class=\"plan\"><tr><th>action</th>"
                    + "<th>disposition</th><th>outcome</th><th>reason</th></tr>");
            for (JsonNode a : m.path("actions")) {
                b.append("<tr><td>").append(e(a.path("type").asText())).append("</td><td>").append(e(a.path("disposition").asText()))
                        .append("</td><td>").append(badge(a.path("outcome").asText())).append("</td><td>")
                        .append(e(a.path("reason").asText())).append("</td></tr>");
            }
            return b.append("</table>").toString();
        }
        return "";
    }

    private String schedules(Context ctx) {
        StringBuilder b = new StringBuilder("<h1>Schedules</h1><table><tr><th>name</th><th>cron</th><th>state</th><th>next fire</th>"
                + "<th>last fire</th><th>last job</th><th></th></tr>");
        for (Tx.ScheduleRow s : app.schedules().list()) {
            b.append("<tr><td>").append(e(s.name())).append("</td><td><code>").append(e(s.cron())).append("</code></td><td>")
                    .append(badge(s.enabled() ? "enabled" : "disabled")).append("</td><td>")
                    .append(s.nextFireAt() == null ? "-" : e(JobJson.iso(s.nextFireAt()))).append("</td><td>")
                    .append(s.lastFireAt() == null ? "-" : e(JobJson.iso(s.lastFireAt()))).append("</td><td>")
                    .append(s.lastJobId() == null ? "-" : "<a href=\"/jobs/" + e(s.lastJobId()) + "\">" + e(s.lastJobId()) + "</a>")
                    .append("</td><td><button hx-post=\"/api/schedules/").append(e(s.name())).append(s.enabled() ? "/disable" : "/enable")
                    .append("\" hx-swap=\"none\">").append(s.enabled() ? "Disable" : "Enable").append("</button></td></tr>");
        }
        return b.append("</table>").toString();
    }

    private String providers(Context ctx) {
        StringBuilder b = new StringBuilder("<h1>Providers</h1>").append(providersTable());
        ModelsConfig m = app.config().models();
        if (!m.routes().isEmpty()) {
            b.append("<h2>Routes</h2><table><tr><th>purpose</th><th>primary</th><th>fallbacks</th><th>pinned</th></tr>");
            for (ModelsConfig.Route r : m.routes().values()) {
                b.append("<tr><td>").append(e(r.purpose())).append("</td><td>").append(e(r.primary())).append("</td><td>")
                        .append(e(String.join(", ", r.fallbacks()))).append("</td><td>").append(r.pinned() ? "yes" : "no").append("</td></tr>");
            }
            b.append("</table>");
        }
        b.append("<h2>Spend</h2>").append(spendToday());
        List<Tx.GatewayTokenRow> tokens = app.gatewayTokens().list();
        if (!tokens.isEmpty()) {
            b.append("<h2>Gateway clients</h2><table><tr><th>name</th><th>fingerprint</th><th>USD/day</th><th>routes</th><th>state</th></tr>");
            for (Tx.GatewayTokenRow t : tokens) {
                b.append("<tr><td>").append(e(t.name())).append("</td><td><code>").append(e(t.fingerprint())).append("</code></td><td>")
                        .append(e(Usd.format(t.usdPerDayNano()))).append("</td><td>").append(e(t.routes())).append("</td><td>")
                        .append(badge(t.revokedAt() == null ? "active" : "revoked")).append("</td></tr>");
            }
            b.append("</table>");
        }
        return b.toString();
    }

    private String ledger(Context ctx) {
        StringBuilder b = new StringBuilder("<h1>Ledger</h1>");
        if ("1".equals(ctx.queryParam("verify"))) {
            Ledger.VerifyReport v = Ledger.verify(app.store(), Optional.empty());
            b.append("<p class=\"verify ").append(v.ok() ? "ok" : "bad").append("\">").append(v.ok() ? "Verified: " : "TAMPERING FOUND: ")
                    .append(v.entries()).append(" entries in ").append(v.chains()).append(" chain(s)")
                    .append(v.firstBad().map(f -> "; first bad entry " + e(f)).orElse("")).append("</p>");
        } else {
            b.append("<p><a href=\"/ledger?verify=1\">Verify every chain now</a></p>");
        }
        b.append("<table class=\"ledger\"><tr><th>chain#seq</th><th>time</th><th>event</th><th>actor</th><th>corr_id</th></tr>");
        for (Tx.LedgerRow x : app.store().read(tx -> tx.ledgerTail(50))) {
            JsonNode env = Json.parse(x.entry());
            b.append("<tr><td>").append(e(x.chain())).append('#').append(x.seq()).append("</td><td>").append(e(env.path("ts").asText()))
                    .append("</td><td><code>").append(e(x.event())).append("</code></td><td>").append(e(env.path("actor").asText()))
                    .append("</td><td>").append(x.corrId() != null && x.corrId().startsWith("job-")
                            ? "<a href=\"/jobs/" + e(x.corrId()) + "\">" + e(x.corrId()) + "</a>" : e(x.corrId())).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    private String projects(Context ctx) {
        StringBuilder b = new StringBuilder("<h1>Projects</h1>");
        b.append(app.projects().source().isPresent()
                ? "<p>From the registry <code>" + e(app.projects().source().get()) + "</code>; jobs may only name these projects.</p>"
                : "<p>No registry (<code>&lt;data_dir&gt;/projects.json</code>): any project id is accepted. Projects named by recent jobs:</p>");
        b.append("<table><tr><th>project</th><th>name</th><th>repo</th><th>owner</th><th>recent jobs</th><th>failed</th></tr>");
        for (dev.warden.web.ProjectSummary.Row r : dev.warden.web.ProjectSummary.of(app)) {
            var p = r.registered();
            b.append("<tr><td><a href=\"/jobs?project=").append(e(r.id())).append("\">").append(e(r.id())).append("</a>")
                    .append(p == null && app.projects().source().isPresent() ? " (not registered)" : "").append("</td><td>")
                    .append(p == null ? "" : e(p.name())).append("</td><td>").append(p == null || p.repo() == null ? "" : "<code>" + e(p.repo()) + "</code>")
                    .append("</td><td>").append(p == null ? "" : e(p.owner())).append("</td><td>").append(r.recentJobs()).append("</td><td>")
                    .append(r.failedRecently()).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    private static void row(StringBuilder b, String k, Object v) {
        b.append("<tr><th>").append(e(k)).append("</th><td>").append(e(v)).append("</td></tr>");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
