package dev.warden.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.ConsoleToken;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.queue.JobJson;
import dev.warden.queue.Queue;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP surface of {@code warden up}: {@code /healthz} (open) and the token-protected REST API.
 * Bound to loopback unless the operator explicitly allows otherwise.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);
    public static final String TOKEN_HEADER = "X-Warden-Token";
    public static final long MAX_BODY = 1024 * 1024;
    static final int MAX_BAD_TOKENS_PER_MINUTE = 20;

    private final WardenApp app;
    private final dev.warden.web.security.Sessions sessions;
    private final dev.warden.web.security.ActionLocks locks;
    private final Runnable onEnqueue;
    private final FailedAttempts badTokens = new FailedAttempts(MAX_BAD_TOKENS_PER_MINUTE);
    private final dev.warden.web.gateway.GatewayRoutes gateway;
    private final dev.warden.web.console.Console console;
    private Javalin javalin;

    public WebServer(WardenApp app, String token, Runnable onEnqueue) {
        this.app = app;
        java.nio.file.Path tokenFile = app.dataDir().resolve(ConsoleToken.FILE_NAME);
        this.sessions = new dev.warden.web.security.Sessions(token,
                fileHolds(tokenFile, token) ? tokenFile : null, app.clock());
        this.locks = new dev.warden.web.security.ActionLocks(app.clock());
        this.onEnqueue = onEnqueue;
        // the gateway's clients (agents) fail on their own counter: a misconfigured agent must not lock the operator out
        this.gateway = new dev.warden.web.gateway.GatewayRoutes(app, new FailedAttempts(MAX_BAD_TOKENS_PER_MINUTE));
        this.console = new dev.warden.web.console.Console(app, sessions, badTokens);
    }

    /** Whether the token file holds this token (then a rotation of the file rotates the server's token). */
    private static boolean fileHolds(java.nio.file.Path f, String token) {
        try {
            return java.nio.file.Files.exists(f) && java.nio.file.Files.readString(f).strip().equals(token);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * How long an idle keep-alive connection is kept open. Jetty's default, 30 s, is exactly the
     * JDK HTTP client's own keep-alive limit (and below OkHttp's, Go's and Apache HttpClient's), so
     * a client could send its next request on a connection at the moment the server closed it: a
     * failed call ("header parser received no bytes"), which a client does not retry for a POST.
     * Idle connections hold no buffers, so keeping them longer costs little. Responses of the
     * gateway also say {@code Keep-Alive: timeout=}{@link #KEEP_ALIVE_HINT_S} for clients that read it.
     */
    static final long IDLE_TIMEOUT_MS = 120_000;
    public static final long KEEP_ALIVE_HINT_S = IDLE_TIMEOUT_MS / 1000 - 5;

    /** Starts on {@code host:port} (port 0 picks a free one) and returns the bound port. */
    public int start(String host, int port, boolean allowNonLoopback) {
        try {
            if (!InetAddress.getByName(host).isLoopbackAddress() && !allowNonLoopback) {
                throw WardenException.badInput("server.bind: " + host + " is not a loopback address; "
                        + "set server.allow_non_loopback: true (or --allow-non-loopback) to expose the console");
            }
        } catch (java.net.UnknownHostException e) {
            throw WardenException.badInput("server.bind: unknown host " + host);
        }
        try {
            javalin = create(host, port);
            javalin.start();
            for (org.eclipse.jetty.server.Connector c : javalin.jettyServer().server().getConnectors()) {
                if (c instanceof org.eclipse.jetty.server.AbstractConnector a) {
                    a.setIdleTimeout(IDLE_TIMEOUT_MS);
                }
            }
        } catch (RuntimeException e) {
            Throwable t = e;
            while (t != null && !(t instanceof java.net.BindException)) {
                t = t.getCause();
            }
            if (t != null || String.valueOf(e.getMessage()).contains("bind")) {
                throw WardenException.badInput("--port: " + host + ":" + port + " is not available (" + (t != null ? t.getMessage() : e.getMessage()) + ")");
            }
            throw e;
        }
        return javalin.port();
    }

    private Javalin create(String host, int port) {
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = MAX_BODY;
            // Jetty's per-connection header cache sizes a trie of 1,024 nodes (96 KB) by default,
            // allocated for every new connection; the headers worth caching here fit in a quarter
            cfg.jetty.modifyHttpConfiguration(http -> http.setHeaderCacheSize(256));
            // POST /v1/chat/completions is served ahead of the servlet layer (see GatewayHandler)
            cfg.jetty.modifyServletContextHandler(h -> h.insertHandler(
                    new dev.warden.web.gateway.GatewayHandler(gateway, app.redactor()::scrub)));
            cfg.jetty.host = host;
            cfg.jetty.port = port;
            cfg.staticFiles.enableWebjars();
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/assets";
                sf.directory = "/console-assets";
                sf.location = io.javalin.http.staticfiles.Location.CLASSPATH;
            });
            cfg.routes.before(this::securityHeaders);
            cfg.routes.before("/api/*", this::authenticate);
            cfg.routes.get("/healthz", this::health);
            console.register(cfg.routes);
            cfg.routes.get("/api/jobs", this::listJobs);
            cfg.routes.post("/api/jobs", this::enqueue);
            cfg.routes.get("/api/jobs/{id}", ctx -> json(ctx, 200, view(app.queue().get(ctx.pathParam("id")))));
            cfg.routes.get("/api/jobs/{id}/events", this::events);
            cfg.routes.post("/api/jobs/{id}/cancel", ctx -> locked(ctx, "job:" + ctx.pathParam("id"),
                    () -> json(ctx, 200, view(app.queue().cancel(ctx.pathParam("id"), actor(ctx))))));
            cfg.routes.post("/api/jobs/{id}/retry", ctx -> locked(ctx, "job:" + ctx.pathParam("id"), () -> {
                JobRow r = app.queue().retry(ctx.pathParam("id"), actor(ctx));
                onEnqueue.run();
                json(ctx, 200, view(r));
            }));
            cfg.routes.post("/api/approvals/{id}/approve", ctx -> decide(ctx, true));
            cfg.routes.post("/api/approvals/{id}/reject", ctx -> decide(ctx, false));
            cfg.routes.get("/api/schedules", ctx -> {
                ArrayNode arr = Json.NODES.arrayNode();
                app.schedules().list().forEach(r -> arr.add(dev.warden.schedule.Schedules.view(r)));
                json(ctx, 200, Json.object().set("schedules", arr));
            });
            cfg.routes.post("/api/schedules", this::addSchedule);
            cfg.routes.post("/api/schedules/{name}/enable", ctx -> locked(ctx, "schedule:" + ctx.pathParam("name"), () -> json(ctx, 200,
                    dev.warden.schedule.Schedules.view(app.schedules().setEnabled(ctx.pathParam("name"), true, actor(ctx))))));
            cfg.routes.post("/api/schedules/{name}/disable", ctx -> locked(ctx, "schedule:" + ctx.pathParam("name"), () -> json(ctx, 200,
                    dev.warden.schedule.Schedules.view(app.schedules().setEnabled(ctx.pathParam("name"), false, actor(ctx))))));
            cfg.routes.delete("/api/schedules/{name}", ctx -> locked(ctx, "schedule:" + ctx.pathParam("name"), () -> {
                app.schedules().remove(ctx.pathParam("name"), actor(ctx));
                json(ctx, 200, Json.object().put("removed", ctx.pathParam("name")));
            }));
            cfg.routes.get("/api/killswitch", ctx -> json(ctx, 200, killSwitchState()));
            new ApiExtras(app).register(cfg.routes);
            cfg.routes.get("/metrics", new Metrics(app, sessions::tokenMatches, badTokens)::handle);
            cfg.routes.get("/v1/models", gateway::models);
            cfg.routes.post("/api/killswitch", ctx -> locked(ctx, "killswitch", () -> setKillSwitch(ctx)));
            cfg.routes.exception(HaltException.class, (e, ctx) -> {
                if (ctx.path().startsWith("/api/") || ctx.path().startsWith("/v1/")) {
                    error(ctx, e.code, e.getMessage(), null, e.status);
                } else {
                    console.errorPage(ctx, e.status, e.getMessage());
                }
            });
            cfg.routes.exception(WardenException.class, (e, ctx) -> error(ctx, e.code(), e.getMessage(), e));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.warn("request {} {} failed: {}", ctx.method(), ctx.path(), app.redactor().scrub(String.valueOf(e)));
                error(ctx, ErrorCode.INTERNAL, "internal error", null);
            });
            cfg.routes.error(404, "*", ctx -> {
                if (ctx.result() == null) {
                    error(ctx, ErrorCode.NOT_FOUND, "no such route: " + ctx.method() + " " + ctx.path(), null);
                }
            });
            cfg.routes.error(413, "*", ctx -> error(ctx, "payload_too_large", "payload over 1 MiB refused", null, 413));
        });
    }

    public int port() {
        return javalin.port();
    }

    // ------------------------------------------------------------------ security

    private void securityHeaders(Context ctx) {
        securityHeaders(ctx::header);
    }

    /** The headers every response carries (also the gateway's, which is served ahead of Javalin). */
    public static void securityHeaders(java.util.function.BiConsumer<String, String> header) {
        header.accept("X-Content-Type-Options", "nosniff");
        header.accept("X-Frame-Options", "DENY");
        header.accept("Referrer-Policy", "same-origin"); // no-referrer would make browsers send "Origin: null" on same-origin form posts
        // no inline scripts or styles anywhere: scripts and styles come from this origin only
        header.accept("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                + "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
        header.accept("Cache-Control", "no-store");
    }

    /**
     * Every {@code /api/*} request: the token header, or a console session cookie. A mutating
     * request must come from this origin (a foreign {@code Origin} is refused) and, when it rides
     * on the session cookie, carry the session's CSRF token.
     */
    private void authenticate(Context ctx) {
        String ip = ctx.ip();
        if (badTokens.limited(ip)) {
            throw new HaltException(429, "rate_limited", "too many failed token attempts; wait a minute");
        }
        String presented = ctx.header(TOKEN_HEADER);
        java.util.Optional<dev.warden.web.security.Sessions.Principal> p = presented != null ? sessions.byHeader(presented)
                : sessions.byCookie(ctx.cookie(dev.warden.web.security.Sessions.COOKIE));
        if (p.isEmpty()) {
            if (presented != null) {
                badTokens.record(ip);
            }
            throw new HaltException(401, "unauthorized", presented != null ? "invalid token"
                    : "missing " + TOKEN_HEADER + " header (or a console session)");
        }
        if (isMutating(ctx)) {
            checkSameOrigin(ctx, p.get().viaCookie());
            if (p.get().viaCookie()) {
                String csrf = ctx.header(CSRF_HEADER);
                if (csrf == null || !MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8),
                        p.get().csrf().getBytes(StandardCharsets.UTF_8))) {
                    throw new HaltException(403, "csrf", "missing or wrong " + CSRF_HEADER + " header");
                }
            }
        }
        ctx.attribute(PRINCIPAL, p.get());
    }

    public static final String CSRF_HEADER = "X-CSRF-Token";
    static final String PRINCIPAL = "warden.principal";

    static boolean isMutating(Context ctx) {
        String m = ctx.method().name();
        return !m.equals("GET") && !m.equals("HEAD") && !m.equals("OPTIONS");
    }

    /**
     * A foreign {@code Origin} is refused. A cookie-borne request must also show where it came
     * from ({@code Origin}, or failing that {@code Referer}) and it must be this server.
     */
    public static void checkSameOrigin(Context ctx, boolean required) {
        String self = "http://" + ctx.host();
        String origin = ctx.header("Origin");
        if (origin != null && !origin.equals(self)) {
            throw new HaltException(403, "forbidden", "cross-origin request refused (Origin " + origin + ")");
        }
        if (origin == null && required) {
            String referer = ctx.header("Referer");
            if (referer == null || !(referer.equals(self) || referer.startsWith(self + "/"))) {
                throw new HaltException(403, "forbidden", "request without a same-origin Origin or Referer refused");
            }
        }
    }

    /** Approve or reject an approval request; body {@code {"note": "…"}} is optional. */
    private void decide(Context ctx, boolean approve) {
        String id = ctx.pathParam("id");
        String note;
        if (String.valueOf(ctx.contentType()).startsWith("application/x-www-form-urlencoded")) {
            note = ctx.formParam("note");
        } else {
            com.fasterxml.jackson.databind.JsonNode n = ctx.body().isBlank() ? Json.object().missingNode()
                    : Json.parse(ctx.body()).path("note");
            if (!n.isMissingNode() && !n.isNull() && !n.isTextual()) {
                throw dev.warden.common.WardenException.badInput("note: must be a string");
            }
            note = n.isTextual() ? n.asText() : null;
        }
        locked(ctx, "approval:" + id, () -> {
            var row = app.approvals().decide(id, approve, actor(ctx), note);
            onEnqueue.run(); // a resumed job is queued: wake the local workers
            json(ctx, 200, dev.warden.agent.Approvals.view(row));
        });
    }

    private String actor(Context ctx) {
        dev.warden.web.security.Sessions.Principal p = ctx.attribute(PRINCIPAL);
        return p == null ? "api:unknown" : p.actor();
    }

    /** Runs an operator action holding the target's action lock (409 while someone else holds it). */
    private void locked(Context ctx, String target, Runnable action) {
        String who = actor(ctx);
        dev.warden.web.security.ActionLocks.Attempt lock = locks.tryLock(target, who);
        if (!lock.taken()) {
            throw new HaltException(409, "locked", target + " is being changed by " + lock.heldBy().actor() + " since "
                    + java.time.Instant.ofEpochMilli(lock.heldBy().since()) + "; try again shortly");
        }
        try {
            action.run();
        } finally {
            locks.unlock(target, lock.mine());
        }
    }

    /** Ends a request early with a JSON error. */
    public static final class HaltException extends RuntimeException {
        final int status;
        final String code;

        public HaltException(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    // ------------------------------------------------------------------ handlers

    private void health(Context ctx) {
        ObjectNode n = Json.object();
        boolean storeOk;
        Map<JobState, Long> counts = Map.of();
        try {
            counts = app.queue().countByState();
            storeOk = true;
        } catch (RuntimeException e) {
            storeOk = false;
        }
        boolean kill = app.killSwitch().fileOn() || (storeOk && app.killSwitch().isOn());
        n.put("status", storeOk ? "ok" : "fail");
        n.put("store", storeOk ? "ok" : "unavailable");
        n.put("killswitch", kill ? "ON" : "OFF");
        ObjectNode q = n.putObject("queue");
        counts.forEach((s, c) -> q.put(s.name(), c));
        json(ctx, storeOk ? 200 : 503, n);
    }

    private void listJobs(Context ctx) {
        JobState state = ctx.queryParam("state") == null ? null : JobState.parse(ctx.queryParam("state"));
        int limit = intParam(ctx, "limit", 50, 1, 1000);
        int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
        ArrayNode arr = Json.NODES.arrayNode();
        java.util.Map<String, String> labels = new java.util.LinkedHashMap<>();
        for (String l : ctx.queryParams("label")) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw WardenException.badInput("label: '" + l + "' must be KEY=VALUE");
            }
            labels.put(l.substring(0, eq), l.substring(eq + 1));
        }
        app.queue().list(new Tx.JobFilter(state, ctx.queryParam("kind"), labels, limit, offset)).forEach(r -> arr.add(view(r)));
        ObjectNode n = Json.object();
        n.set("jobs", arr);
        n.put("limit", limit).put("offset", offset);
        json(ctx, 200, n);
    }

    private void enqueue(Context ctx) {
        JsonNode body = Json.parse(ctx.body());
        JobSpec spec = app.parser().parse(body);
        Queue.Enqueued e = app.queue().enqueue(spec, actor(ctx));
        if (e.created()) {
            onEnqueue.run();
        }
        json(ctx, e.created() ? 201 : 200, view(e.job()));
    }

    private void events(Context ctx) {
        String id = ctx.pathParam("id");
        app.queue().get(id);
        ArrayNode arr = Json.NODES.arrayNode();
        app.store().read(tx -> tx.ledgerByCorrId(id)).forEach(r -> arr.add(Json.parse(r.entry())));
        json(ctx, 200, Json.object().set("events", arr));
    }

    private void addSchedule(Context ctx) {
        JsonNode body = Json.parse(ctx.body());
        for (String required : java.util.List.of("name", "cron", "spec")) {
            if (!body.hasNonNull(required)) {
                throw WardenException.badInput(required + ": required field is missing");
            }
        }
        var row = app.schedules().add(body.get("name").asText(), body.get("cron").asText(), body.get("spec"),
                body.path("allow_overlap").asBoolean(false), body.path("catch_up").asText("one"), actor(ctx));
        json(ctx, 201, dev.warden.schedule.Schedules.view(row));
    }

    private ObjectNode killSwitchState() {
        return Json.object().put("killswitch", app.killSwitch().isOn() ? "ON" : "OFF")
                .put("file", app.killSwitch().file().toString());
    }

    private void setKillSwitch(Context ctx) {
        String type = String.valueOf(ctx.contentType());
        String s = type.startsWith("application/x-www-form-urlencoded") ? String.valueOf(ctx.formParam("state"))
                : Json.parse(ctx.body()).path("state").asText("");
        if (!s.equalsIgnoreCase("on") && !s.equalsIgnoreCase("off")) {
            throw WardenException.badInput("state: must be \"on\" or \"off\"");
        }
        app.killSwitch().set(s.equalsIgnoreCase("on"), actor(ctx));
        json(ctx, 200, killSwitchState());
    }

    // ------------------------------------------------------------------ helpers

    private ObjectNode view(JobRow r) {
        return JobJson.view(r, app.redactor());
    }

    private static int intParam(Context ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw WardenException.badInput(name + ": must be between " + min + " and " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw WardenException.badInput(name + ": '" + v + "' is not an integer");
        }
    }

    private void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(Json.write(app.redactor().redact(body)));
    }

    private void error(Context ctx, ErrorCode code, String message, WardenException e) {
        error(ctx, code.wireName(), message, e, statusOf(code));
    }

    /** The HTTP status an error code answers with. */
    public static int statusOf(ErrorCode code) {
        return switch (code) {
            case BAD_INPUT -> 400;
            case NOT_FOUND -> 404;
            case POLICY_DENIED -> 403;
            case KILL_SWITCH_ON -> 503;
            default -> 500;
        };
    }

    private void error(Context ctx, String code, String message, WardenException e, int status) {
        ObjectNode err = Json.object();
        ObjectNode inner = err.putObject("error");
        inner.put("code", code);
        inner.put("message", app.redactor().scrub(message));
        if (e != null && !e.violations().isEmpty()) {
            ArrayNode v = inner.putArray("violations");
            e.violations().forEach(x -> v.add(app.redactor().scrub(x)));
        }
        ctx.status(status).contentType("application/json").result(Json.write(err));
    }

    @Override
    public void close() {
        if (javalin != null) {
            javalin.stop();
        }
        console.close();
    }
}
