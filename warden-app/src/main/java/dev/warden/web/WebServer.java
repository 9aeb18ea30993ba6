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
    static final long MAX_BODY = 1024 * 1024;
    static final int MAX_BAD_TOKENS_PER_MINUTE = 20;

    private final WardenApp app;
    private final byte[] token;
    private final String actor;
    private final Runnable onEnqueue;
    private final FailedAttempts badTokens = new FailedAttempts(MAX_BAD_TOKENS_PER_MINUTE);
    private final dev.warden.web.gateway.GatewayRoutes gateway;
    private Javalin javalin;

    public WebServer(WardenApp app, String token, Runnable onEnqueue) {
        this.app = app;
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.actor = "api:" + ConsoleToken.fingerprint(token);
        this.onEnqueue = onEnqueue;
        this.gateway = new dev.warden.web.gateway.GatewayRoutes(app, badTokens);
    }

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
            cfg.jetty.host = host;
            cfg.jetty.port = port;
            cfg.routes.before(this::securityHeaders);
            cfg.routes.before("/api/*", this::authenticate);
            cfg.routes.get("/healthz", this::health);
            cfg.routes.get("/", this::landing);
            cfg.routes.get("/api/jobs", this::listJobs);
            cfg.routes.post("/api/jobs", this::enqueue);
            cfg.routes.get("/api/jobs/{id}", ctx -> json(ctx, 200, view(app.queue().get(ctx.pathParam("id")))));
            cfg.routes.get("/api/jobs/{id}/events", this::events);
            cfg.routes.post("/api/jobs/{id}/cancel", ctx -> json(ctx, 200, view(app.queue().cancel(ctx.pathParam("id"), actor))));
            cfg.routes.post("/api/jobs/{id}/retry", ctx -> {
                JobRow r = app.queue().retry(ctx.pathParam("id"), actor);
                onEnqueue.run();
                json(ctx, 200, view(r));
            });
            cfg.routes.get("/api/schedules", ctx -> {
                ArrayNode arr = Json.NODES.arrayNode();
                app.schedules().list().forEach(r -> arr.add(dev.warden.schedule.Schedules.view(r)));
                json(ctx, 200, Json.object().set("schedules", arr));
            });
            cfg.routes.post("/api/schedules", this::addSchedule);
            cfg.routes.post("/api/schedules/{name}/enable", ctx -> json(ctx, 200,
                    dev.warden.schedule.Schedules.view(app.schedules().setEnabled(ctx.pathParam("name"), true, actor))));
            cfg.routes.post("/api/schedules/{name}/disable", ctx -> json(ctx, 200,
                    dev.warden.schedule.Schedules.view(app.schedules().setEnabled(ctx.pathParam("name"), false, actor))));
            cfg.routes.delete("/api/schedules/{name}", ctx -> {
                app.schedules().remove(ctx.pathParam("name"), actor);
                json(ctx, 200, Json.object().put("removed", ctx.pathParam("name")));
            });
            cfg.routes.get("/api/killswitch", ctx -> json(ctx, 200, killSwitchState()));
            cfg.routes.post("/v1/chat/completions", gateway::chatCompletions);
            cfg.routes.get("/metrics", new Metrics(app, t -> MessageDigest.isEqual(t.getBytes(StandardCharsets.UTF_8), token), badTokens)::handle);
            cfg.routes.get("/v1/models", gateway::models);
            cfg.routes.post("/api/killswitch", this::setKillSwitch);
            cfg.routes.exception(HaltException.class, (e, ctx) -> error(ctx, e.code, e.getMessage(), null, e.status));
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
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        ctx.header("Cache-Control", "no-store");
    }

    private void authenticate(Context ctx) {
        String ip = ctx.ip();
        if (badTokens.limited(ip)) {
            throw new HaltException(429, "rate_limited", "too many failed token attempts; wait a minute");
        }
        String presented = ctx.header(TOKEN_HEADER);
        if (presented == null || !MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), token)) {
            badTokens.record(ip);
            throw new HaltException(401, "unauthorized", presented == null ? "missing " + TOKEN_HEADER + " header" : "invalid token");
        }
        if (!ctx.method().name().equals("GET") && !ctx.method().name().equals("HEAD")) {
            String origin = ctx.header("Origin");
            if (origin != null && !origin.equals("http://" + ctx.host())) {
                throw new HaltException(403, "forbidden", "cross-origin request refused (Origin " + origin + ")");
            }
        }
    }

    /** Ends a request early with a JSON error. */
    static final class HaltException extends RuntimeException {
        final int status;
        final String code;

        HaltException(int status, String code, String message) {
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

    /** The console pages arrive in a later release; until then the root says how to reach the API. */
    private void landing(Context ctx) {
        ctx.contentType("text/html; charset=utf-8").result("""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warden</title></head>
                <body><h1>Warden is running</h1>
                <p>The web console is not part of this build yet. Use the REST API with the token from
                <code>&lt;data_dir&gt;/console.token</code> in the <code>X-Warden-Token</code> header:</p>
                <pre>curl -H "X-Warden-Token: $(cat .warden/console.token)" %s/api/jobs</pre>
                <p>Health: <a href="/healthz">/healthz</a></p></body></html>
                """.formatted("http://" + ctx.host()));
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
        Queue.Enqueued e = app.queue().enqueue(spec, actor);
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
                body.path("allow_overlap").asBoolean(false), body.path("catch_up").asText("one"), actor);
        json(ctx, 201, dev.warden.schedule.Schedules.view(row));
    }

    private ObjectNode killSwitchState() {
        return Json.object().put("killswitch", app.killSwitch().isOn() ? "ON" : "OFF")
                .put("file", app.killSwitch().file().toString());
    }

    private void setKillSwitch(Context ctx) {
        JsonNode body = Json.parse(ctx.body());
        String s = body.path("state").asText("");
        if (!s.equalsIgnoreCase("on") && !s.equalsIgnoreCase("off")) {
            throw WardenException.badInput("state: must be \"on\" or \"off\"");
        }
        app.killSwitch().set(s.equalsIgnoreCase("on"), actor);
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
        int status = switch (code) {
            case BAD_INPUT -> 400;
            case NOT_FOUND -> 404;
            case POLICY_DENIED -> 403;
            case KILL_SWITCH_ON -> 503;
            default -> 500;
        };
        error(ctx, code.wireName(), message, e, status);
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
    }
}
