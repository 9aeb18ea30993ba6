package dev.warden.web.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import dev.warden.model.GatewayTokens;
import dev.warden.model.Router;
import dev.warden.model.Spend;
import dev.warden.web.FailedAttempts;
import dev.warden.web.WebServer;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The OpenAI-compatible gateway: {@code POST /v1/chat/completions} (plain and streamed) and
 * {@code GET /v1/models}. A client token (Bearer) maps to a daily budget and the routes it may
 * use; every call goes through the same {@link Router} as a job's, and errors come back in
 * OpenAI's format.
 */
public final class GatewayRoutes {
    private final WardenApp app;
    private final FailedAttempts failed;
    private volatile GatewayTokens tokens;

    public GatewayRoutes(WardenApp app, FailedAttempts failed) {
        this.app = app;
        this.failed = failed;
    }

    private GatewayTokens tokens() {
        if (tokens == null) {
            tokens = app.gatewayTokens();
        }
        return tokens;
    }

    /** What the gateway needs of an HTTP exchange (Javalin's {@link Context}, or Jetty's own request for chat completions). */
    interface Exchange {
        String header(String name);

        String ip();

        /** The request body, read within {@link WebServer#MAX_BODY} (an {@link io.javalin.http.HttpResponseException} 413 above it). */
        byte[] body() throws IOException;

        void respond(int status, String contentType, byte[] body) throws IOException;

        /**
         * Sends the head of a streamed response; the body follows on the returned stream, which
         * may buffer writes until {@code flush()}; {@code close()} ends the response (and may be
         * called again).
         */
        OutputStream openStream(int status, String contentType, String cacheControl) throws IOException;
    }

    /** Javalin's exchange (GET /v1/models). */
    private static Exchange of(Context ctx) {
        return new Exchange() {
            @Override
            public String header(String name) {
                return ctx.header(name);
            }

            @Override
            public String ip() {
                return ctx.ip();
            }

            @Override
            public byte[] body() throws IOException {
                return GatewayRoutes.body(ctx);
            }

            @Override
            public void respond(int status, String contentType, byte[] body) {
                ctx.status(status).contentType(contentType).result(body);
            }

            @Override
            public OutputStream openStream(int status, String contentType, String cacheControl) throws IOException {
                ctx.res().setStatus(status);
                ctx.res().setContentType(contentType);
                ctx.res().setHeader("Cache-Control", cacheControl);
                return ctx.res().getOutputStream();
            }
        };
    }

    private Optional<GatewayTokens.Client> authenticate(Exchange ctx) {
        String ip = ctx.ip();
        if (failed.limited(ip)) {
            error(ctx, 429, "rate_limited", "too many failed token attempts; wait a minute", "rate_limit_error");
            return Optional.empty();
        }
        String auth = ctx.header("Authorization");
        String presented = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : null;
        Optional<GatewayTokens.Client> client = tokens().authenticate(presented);
        if (client.isEmpty()) {
            if (presented != null) {
                failed.record(ip); // a guess; a request without a key is not one
            }
            error(ctx, 401, "invalid_api_key", presented == null ? "missing 'Authorization: Bearer <token>' header"
                    : "invalid or revoked gateway token", "authentication_error");
        }
        return client;
    }

    public void models(Context ctx) {
        Optional<GatewayTokens.Client> client = authenticate(of(ctx));
        if (client.isEmpty()) {
            return;
        }
        TreeSet<String> ids = new TreeSet<>();
        app.config().models().routes().keySet().stream().filter(client.get()::mayUse).forEach(ids::add);
        app.config().models().models().keySet().stream().filter(client.get()::mayUse).forEach(ids::add);
        ObjectNode n = Json.object().put("object", "list");
        ArrayNode data = n.putArray("data");
        for (String id : ids) {
            data.addObject().put("id", id).put("object", "model").put("created", 0).put("owned_by", "warden");
        }
        ctx.status(200).contentType("application/json").result(Json.write(n));
    }

    /** {@code POST /v1/chat/completions}, served by {@link GatewayHandler} ahead of Javalin. */
    void chatCompletions(Exchange ctx) throws IOException {
        Optional<GatewayTokens.Client> client = authenticate(ctx);
        if (client.isEmpty()) {
            return;
        }
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(ctx.body());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            error(ctx, 400, "invalid_json", "the request body is not valid JSON", "invalid_request_error");
            return;
        }
        String problem = validate(body);
        if (problem != null) {
            error(ctx, 400, "invalid_request", problem, "invalid_request_error");
            return;
        }
        ObjectNode request = (ObjectNode) body;
        String target = request.get("model").asText();
        GatewayTokens.Client c = client.get();
        Spend.Scope scope = new Spend.Scope("token:" + c.name(), app.spend().today(), c.usdPerDayNano(), "token_usd_per_day");
        Router.Caller caller = new Router.Caller("gateway", "gw-" + Ids.ulid(System.currentTimeMillis()), "gateway:" + c.name(),
                List.of(scope), Optional.empty(), Optional.empty(), c::mayUse);
        try {
            if (request.path("stream").asBoolean(false)) {
                app.router().stream(caller, target, request, new SseSink(ctx));
            } else {
                // answered as soon as the upstream has, before the call is settled and recorded (as a stream is)
                app.router().complete(caller, target, request, raw -> ctx.respond(200, "application/json",
                        app.redactor().scrub(new String(raw, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
            }
        } catch (Router.CallFailed e) {
            error(ctx, e.httpStatus(), e.code(), e.getMessage(), type(e));
        }
    }

    /**
     * The request body: read at its declared length when it has one (Javalin's own reader copies
     * through an 8 KB buffer per request), within the same 1 MiB limit (413 above it).
     */
    private static byte[] body(Context ctx) throws IOException {
        long length = ctx.req().getContentLengthLong();
        if (length < 0) {
            return ctx.bodyAsBytes();
        }
        if (length > WebServer.MAX_BODY) {
            throw new io.javalin.http.HttpResponseException(413, "payload too large");
        }
        byte[] b = ctx.req().getInputStream().readNBytes((int) length);
        if (b.length < length) {
            throw new IOException("the request body ended early");
        }
        return b;
    }

    /** The request problems a client should hear about before any routing: each names the field. */
    static String validate(JsonNode body) {
        if (body == null || !body.isObject()) {
            return "the request body must be a JSON object";
        }
        if (!body.path("model").isTextual() || body.path("model").asText().isBlank()) {
            return "model: required, a route (e.g. coder) or a model id";
        }
        if (!body.path("messages").isArray() || body.path("messages").isEmpty()) {
            return "messages: required, a non-empty array";
        }
        for (String f : List.of("max_tokens", "max_completion_tokens")) {
            if (body.has(f) && (!body.get(f).canConvertToLong() || body.get(f).asLong() < 1)) {
                return f + ": must be a positive integer";
            }
        }
        if (body.has("stream") && !body.get("stream").isBoolean()) {
            return "stream: must be true or false";
        }
        return null;
    }

    private static String type(Router.CallFailed e) {
        if (e.budget() != null) {
            return "insufficient_quota";
        }
        return switch (e.httpStatus()) {
            case 400, 404 -> "invalid_request_error";
            case 403 -> "permission_error";
            case 429 -> "rate_limit_error";
            default -> "server_error";
        };
    }

    private void error(Exchange ctx, int status, String code, String message, String type) {
        try {
            ctx.respond(status, "application/json",
                    Json.MAPPER.writeValueAsBytes(Router.openAiError(code, app.redactor().scrub(message), type)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // the client went away
        }
    }

    /**
     * Writes a streamed call to the client as server-sent events, flushing each event; text is
     * scrubbed across chunk boundaries ({@link StreamScrubber}).
     */
    private final class SseSink implements Router.StreamSink {
        private final Exchange ctx;
        private final StreamScrubber scrubber;
        private OutputStream out;

        SseSink(Exchange ctx) {
            this.ctx = ctx;
            this.scrubber = new StreamScrubber(app.redactor().secrets());
        }

        @Override
        public void begin() throws IOException {
            out = ctx.openStream(200, "text/event-stream", "no-cache");
        }

        @Override
        public void data(String json) throws IOException {
            send(scrubber.next(json, null));
        }

        @Override
        public void data(String json, com.fasterxml.jackson.databind.JsonNode parsed) throws IOException {
            send(scrubber.next(json, parsed));
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        private void send(String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void fail(ObjectNode openAiError) throws IOException {
            String rest = scrubber.flush();
            if (rest != null) {
                send(rest);
            }
            send(app.redactor().scrub(Json.write(openAiError)));
            end();
        }

        @Override
        public void end() throws IOException {
            String rest = scrubber.flush();
            if (rest != null) {
                send(rest);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.close(); // the rest and the end of the response in one write; a client gone shows here
        }
    }
}
