package dev.warden.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The one path for every model call, a job's ({@code JobContext.model}) or an external agent's
 * (the gateway). It resolves a purpose (route) or model id to ordered candidates, and for each:
 * skips a provider whose circuit is open, refuses a hosted model without a price or a provider
 * without its key, reserves the estimated cost against every cap, calls once, classifies the
 * outcome, settles the cost, and falls back to the next candidate only on a transient class. The
 * loop runs over a fixed candidate list, so it is bounded and cannot restart itself. Every call,
 * failed or not, is one {@code model.call} ledger entry (no content).
 */
public final class Router {
    private final ModelsConfig config;
    private final UpstreamClient client;
    private final CircuitBreakers breakers;
    private final ProviderKeys keys;
    private final Spend spend;
    private final Ledger ledger;
    private final Clock clock;
    private final BooleanSupplier killSwitchOn;

    public Router(ModelsConfig config, UpstreamClient client, CircuitBreakers breakers, ProviderKeys keys, Spend spend,
                  Ledger ledger, Clock clock, BooleanSupplier killSwitchOn) {
        this.config = config;
        this.client = client;
        this.breakers = breakers;
        this.keys = keys;
        this.spend = spend;
        this.ledger = ledger;
        this.clock = clock;
        this.killSwitchOn = killSwitchOn;
    }

    /** Meters a job's token budget (the gateway has none). */
    public interface TokenBudget {
        /** Reserves {@code tokens}; false when that would cross the budget. */
        boolean reserve(long tokens);

        void settle(long reserved, long actual);
    }

    /** Keeps a job's prompts and responses (scrubbed) in its evidence; returns the content's reference. */
    public interface ContentStore {
        String put(String kind, JsonNode content);
    }

    /**
     * Who is calling: the ledger's component, corr_id and actor; the spend scopes besides the day;
     * an optional token budget and content store; and which targets it may use.
     */
    public record Caller(String component, String corrId, String actor, List<Spend.Scope> scopes,
                         Optional<TokenBudget> tokens, Optional<ContentStore> content, Predicate<String> mayUse) {}

    /** Receives a streamed call: {@link #begin} once the first token arrived, then every event's data. */
    public interface StreamSink {
        void begin() throws IOException;

        /** An event; it may be buffered until {@link #flush} or {@link #end}. */
        void data(String json) throws IOException;

        /** An event and its parse (which the sink may change), so a sink that reads it need not parse it again. */
        default void data(String json, JsonNode parsed) throws IOException {
            data(json);
        }

        /**
         * Sends the events given so far. Called when the upstream has no further event at hand, so
         * events that arrived together leave together (one write) and none waits for a later one.
         */
        default void flush() throws IOException {}

        /** The call failed after output was sent: an error event, then the end. */
        void fail(ObjectNode openAiError) throws IOException;

        void end() throws IOException;
    }

    /**
     * Receives a non-streamed call's answer (the upstream's body as received) as soon as it is in,
     * before the call is settled and recorded, as a stream's events are; the caller is not kept
     * waiting for the store. An {@link IOException} means the client is gone: the call is still
     * charged and recorded ({@code client_disconnected}).
     */
    public interface Delivery {
        void deliver(byte[] raw) throws IOException;
    }

    public record Attempt(String provider, String model, String outcome, int status, long latencyMs, String message) {}

    /** What one call did; also the body of its {@code model.call} ledger entry. */
    public record CallRecord(String target, String route, String provider, String model, List<Attempt> attempts,
                             boolean fallbackUsed, boolean stream, long inputTokens, long outputTokens, boolean usageReported,
                             long estimatedNano, long actualNano, long latencyMs, String outcome) {
        public boolean ok() {
            return outcome.equals("ok");
        }
    }

    /** A completed non-streamed call; {@code raw} is the upstream's body as received (UTF-8 JSON). */
    public record Completion(JsonNode response, byte[] raw, CallRecord record) {}

    /**
     * The call failed closed. {@code code} is stable ({@code all_candidates_failed},
     * {@code budget_exceeded:<which>}, …); {@code httpStatus} is what the gateway answers.
     */
    public static final class CallFailed extends RuntimeException {
        private final String code;
        private final int httpStatus;
        private final CallRecord record;

        CallFailed(String code, int httpStatus, String message, CallRecord record) {
            super(message);
            this.code = code;
            this.httpStatus = httpStatus;
            this.record = record;
        }

        public String code() {
            return code;
        }

        public int httpStatus() {
            return httpStatus;
        }

        public CallRecord record() {
            return record;
        }

        /** The budget named by a {@code budget_exceeded:<which>} code, or null. */
        public String budget() {
            return code.startsWith("budget_exceeded:") ? code.substring("budget_exceeded:".length()) : null;
        }
    }

    public ModelsConfig config() {
        return config;
    }

    /** Releases the HTTP client. */
    public void close() {
        client.close();
    }

    public CircuitBreakers breakers() {
        return breakers;
    }

    /** A non-streamed chat completion. */
    public Completion complete(Caller caller, String target, ObjectNode request) {
        return complete(caller, target, request, null);
    }

    /** A non-streamed chat completion whose answer goes to {@code delivery} before the call is settled (null: none). */
    public Completion complete(Caller caller, String target, ObjectNode request, Delivery delivery) {
        Call call = new Call(caller, target, request, false);
        call.delivery = delivery;
        call.run(null);
        return new Completion(call.response.body(), call.response.raw(), call.finished);
    }

    /** A streamed chat completion; throws {@link CallFailed} only when nothing was sent to the sink. */
    public CallRecord stream(Caller caller, String target, ObjectNode request, StreamSink sink) {
        Call call = new Call(caller, target, request, true);
        call.run(sink);
        return call.finished;
    }

    /** {@link #candidates} per target: the config is immutable, so each list is worked out once. */
    private final java.util.concurrent.ConcurrentHashMap<String, Optional<List<ModelsConfig.ModelDef>>> candidateCache =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The candidates for a target: a route's models (a route that is not pinned falls back to {@code general} last), or one model. */
    public Optional<List<ModelsConfig.ModelDef>> candidates(String target) {
        Optional<List<ModelsConfig.ModelDef>> cached = candidateCache.get(target);
        if (cached != null) {
            return cached;
        }
        Optional<List<ModelsConfig.ModelDef>> c = computeCandidates(target);
        if (c.isPresent()) { // unknown targets are not kept: a client could fill the map with names
            candidateCache.putIfAbsent(target, c);
        }
        return c;
    }

    private Optional<List<ModelsConfig.ModelDef>> computeCandidates(String target) {
        ModelsConfig.Route route = config.routes().get(target);
        List<String> ids = new ArrayList<>();
        if (route != null) {
            ids.addAll(route.candidates());
            ModelsConfig.Route general = config.routes().get("general");
            if (!route.pinned() && general != null && route != general) {
                general.candidates().stream().filter(m -> !ids.contains(m)).forEach(ids::add);
            }
        } else if (config.models().containsKey(target)) {
            ids.add(target);
        } else {
            return Optional.empty();
        }
        return Optional.of(ids.stream().map(config.models()::get).toList());
    }

    /** The estimated input tokens of a request: its message text in characters / 4, rounded up. */
    static long estimateInputTokens(JsonNode request) {
        long chars = 0;
        for (JsonNode m : request.path("messages")) {
            JsonNode c = m.path("content");
            if (c.isTextual()) {
                chars += c.asText().length();
            } else if (c.isArray()) {
                for (JsonNode part : c) {
                    chars += part.path("text").asText("").length();
                }
            }
        }
        return (chars + 3) / 4;
    }

    /** One call through the candidate loop. */
    private final class Call {
        private final Caller caller;
        private final String target;
        private final ObjectNode request;
        private final boolean stream;
        private final long started = System.nanoTime();
        private final List<Attempt> attempts = new ArrayList<>();
        private CallRecord finished;
        private UpstreamClient.Completed response;
        private String route;
        private ModelsConfig.ModelDef lastModel;
        private long inputTokens;
        private long outputTokens;
        private boolean usageReported;
        private long estimatedNano;
        private long actualNano;
        private Delivery delivery;

        /** Whether this candidate's outcome was recorded in its provider's breaker. */
        private boolean breakerRecorded;

        private void breaker(String provider, ErrorClass failure) {
            breakerRecorded = true;
            Router.this.breaker(provider, failure);
        }

        Call(Caller caller, String target, ObjectNode request, boolean stream) {
            this.caller = caller;
            this.target = target;
            this.request = request;
            this.stream = stream;
        }

        JsonNode run(StreamSink sink) {
            if (killSwitchOn.getAsBoolean()) {
                throw fail("kill_switch", 503, "the kill switch is on: model calls are refused");
            }
            for (String many : List.of("n", "best_of")) {
                if (request.has(many) && !(request.get(many).canConvertToInt() && request.get(many).asInt() == 1)) {
                    throw fail("invalid_request", 400, many + ": only 1 is supported (the cost of several completions per call "
                            + "is not reserved)");
                }
            }
            List<ModelsConfig.ModelDef> candidates = candidates(target)
                    .orElseThrow(() -> fail("model_not_found", 404, "'" + target + "' is neither a configured route nor a model id"));
            if (!caller.mayUse().test(target)) {
                throw fail("target_not_allowed", 403, "'" + target + "' is not a route or model this caller may use");
            }
            route = config.routes().containsKey(target) ? target : null;
            ModelsConfig.Route r = route == null ? null : config.routes().get(route);
            for (ModelsConfig.ModelDef model : candidates) {
                lastModel = model;
                ModelsConfig.Provider provider = config.providers().get(model.provider());
                CircuitBreakers.Permit permit = breakers.tryAcquire(provider.id());
                breakerRecorded = false;
                if (permit == CircuitBreakers.Permit.DENIED) {
                    attempts.add(new Attempt(provider.id(), model.id(), ErrorClass.CIRCUIT_OPEN.wire(), 0, 0,
                            "circuit open: provider cooling down"));
                    continue;
                }
                try {
                    Optional<String> key = keys.resolve(provider.key());
                    if (provider.key().isPresent() && key.isEmpty()) {
                        attempts.add(new Attempt(provider.id(), model.id(), ErrorClass.MISSING_KEY.wire(), 0, 0,
                                "key " + provider.key().get() + " resolves to nothing"));
                        throw fail("missing_key", 503, "provider " + provider.id() + " has no key (" + provider.key().get() + ")");
                    }
                    if (!provider.local() && model.price().isEmpty()) {
                        attempts.add(new Attempt(provider.id(), model.id(), ErrorClass.NO_PRICE.wire(), 0, 0,
                                "hosted model without a price"));
                        throw fail("no_price", 503, "model " + model.id() + " is hosted and has no price: refused");
                    }
                    ObjectNode body = upstreamBody(model, r);
                    long in = estimateInputTokens(request);
                    long out = body.has("max_completion_tokens") ? body.get("max_completion_tokens").asLong()
                            : body.path("max_tokens").asLong();
                    long estimate = model.price().filter(p -> !provider.local())
                            .map(p -> Usd.cost(in, p.inputPer1m()) + Usd.cost(out, p.outputPer1m())).orElse(0L);
                    estimatedNano = estimate;
                    Optional<Long> perCall = config.budget().usdPerCall().map(Usd::toNano);
                    if (perCall.isPresent() && estimate > perCall.get()) {
                        throw fail("budget_exceeded:usd_per_call", 429, "the estimated cost " + Usd.format(estimate)
                                + " USD is above the per-call cap of " + Usd.format(perCall.get()) + " USD");
                    }
                    if (caller.tokens().isPresent() && !caller.tokens().get().reserve(in + out)) {
                        throw fail("budget_exceeded:tokens", 429, "the job's token budget cannot cover " + (in + out) + " more tokens");
                    }
                    List<Spend.Scope> scopes = new ArrayList<>();
                    scopes.add(spend.day(config.budget().usdPerDay().map(Usd::toNano).orElse(-1L)));
                    scopes.addAll(caller.scopes());
                    Spend.Reservation reservation;
                    try {
                        reservation = spend.reserve(scopes, estimate);
                    } catch (Spend.Refused e) {
                        caller.tokens().ifPresent(t -> t.settle(in + out, 0));
                        throw fail("budget_exceeded:" + e.scope().budget(), 429, "the estimated cost " + Usd.format(estimate)
                                + " USD would cross the " + e.scope().budget() + " cap of " + Usd.format(e.scope().capNano()) + " USD");
                    }
                    Attempted a = attempt(provider, model, key.orElse(null), body, in, out, reservation, sink);
                    if (a.result != null || a.streamedOk) {
                        return a.result;
                    }
                    if (!a.errorClass.fallsBack()) {
                        throw fail(a.code, a.httpStatus, a.message);
                    }
                } finally {
                    if (permit == CircuitBreakers.Permit.PROBE && !breakerRecorded) {
                        breakers.release(provider.id()); // never called, the client left, or an unexpected error
                    }
                }
            }
            ErrorClass last = attempts.isEmpty() ? ErrorClass.TRANSIENT_SERVER
                    : attempts.stream().map(a -> a.outcome()).reduce((x, y) -> y).map(Router::classOf).orElse(ErrorClass.TRANSIENT_SERVER);
            throw fail("all_candidates_failed", last == ErrorClass.TRANSIENT_QUOTA ? 429 : 503,
                    "every candidate for '" + target + "' failed: " + summary());
        }

        private String summary() {
            StringBuilder b = new StringBuilder();
            for (Attempt a : attempts) {
                b.append(b.isEmpty() ? "" : "; ").append(a.model()).append('@').append(a.provider()).append(' ').append(a.outcome());
            }
            return b.toString();
        }

        /** The request as the upstream gets it: its model name, the route's caps, max tokens always set, usage asked for. */
        private ObjectNode upstreamBody(ModelsConfig.ModelDef model, ModelsConfig.Route r) {
            ObjectNode body = request.deepCopy();
            body.put("model", model.name());
            long asked = request.has("max_completion_tokens") ? request.get("max_completion_tokens").asLong()
                    : request.has("max_tokens") ? request.get("max_tokens").asLong() : -1;
            long cap = r != null && r.maxOutputTokens().isPresent() ? r.maxOutputTokens().get() : ModelsConfig.DEFAULT_MAX_OUTPUT_TOKENS;
            long room = Math.max(1, model.contextWindow() - estimateInputTokens(request));
            long out = Math.max(1, Math.min(Math.min(asked > 0 ? asked : cap, cap), room));
            // exactly one output cap goes upstream, the reserved one (a client sending both must not slip a larger one past)
            body.remove("max_tokens");
            body.remove("max_completion_tokens");
            body.put(request.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens", out);
            if (r != null && r.temperature().isPresent()) {
                double t = r.temperature().get();
                if (!body.has("temperature") || body.get("temperature").asDouble() > t) {
                    body.put("temperature", t);
                }
            }
            if (stream) {
                body.put("stream", true);
                body.putObject("stream_options").put("include_usage", true);
            } else {
                body.remove("stream_options");
                body.put("stream", false);
            }
            return body;
        }

        private final class Attempted {
            JsonNode result;
            boolean streamedOk;
            ErrorClass errorClass;
            String code;
            int httpStatus;
            String message;
        }

        private Attempted attempt(ModelsConfig.Provider provider, ModelsConfig.ModelDef model, String key, ObjectNode body,
                                  long in, long out, Spend.Reservation reservation, StreamSink sink) {
            long t0 = System.nanoTime();
            Attempted a = new Attempted();
            UpstreamClient.Result res = client.chat(provider.baseUrl(), key, body);
            if (res instanceof UpstreamClient.Failed f) {
                return failedAttempt(a, provider, model, f.failure(), t0, in, out, reservation, f.failure().status() / 100 == 2);
            }
            if (res instanceof UpstreamClient.Completed c) {
                breaker(provider.id(), null);
                attempts.add(new Attempt(provider.id(), model.id(), "ok", 200, millisSince(t0), ""));
                IOException undelivered = null;
                if (delivery != null) {
                    try {
                        delivery.deliver(c.raw());
                    } catch (IOException clientGone) {
                        undelivered = clientGone;
                    }
                }
                settle(c.body().path("usage"), model, provider, in, out, reservation, undelivered == null ? "ok" : "client_disconnected",
                        Optional.of(c.body()));
                if (undelivered != null) {
                    throw new java.io.UncheckedIOException(undelivered);
                }
                a.result = c.body();
                response = c;
                return a;
            }
            UpstreamClient.Stream s = ((UpstreamClient.Streaming) res).stream();
            boolean clientWantsUsage = request.path("stream_options").path("include_usage").asBoolean(false);
            List<String> held = new ArrayList<>();
            boolean began = false;
            JsonNode usage = null;
            StringBuilder text = new StringBuilder();
            try (s) {
                String data;
                while (true) {
                    try {
                        data = s.next();
                    } catch (IOException e) {
                        UpstreamClient.Failure f = new UpstreamClient.Failure(ErrorClass.TRANSIENT_NETWORK, 200,
                                UpstreamClient.describe(e));
                        return began ? failedAfterOutput(a, provider, model, f, t0, in, out, reservation, usage, sink)
                                : failedAttempt(a, provider, model, f, t0, in, out, reservation, true);
                    }
                    if (data == null) {
                        break;
                    }
                    JsonNode chunk;
                    try {
                        chunk = Json.MAPPER.readTree(data);
                    } catch (IOException e) {
                        chunk = null;
                    }
                    if (chunk == null || !chunk.isObject()) {
                        UpstreamClient.Failure f = new UpstreamClient.Failure(ErrorClass.NON_TRANSIENT, 200, "malformed JSON in the stream");
                        return began ? failedAfterOutput(a, provider, model, f, t0, in, out, reservation, usage, sink)
                                : failedAttempt(a, provider, model, f, t0, in, out, reservation, true);
                    }
                    if (chunk.has("error")) {
                        UpstreamClient.Failure f = streamError(chunk.get("error"));
                        return began ? failedAfterOutput(a, provider, model, f, t0, in, out, reservation, usage, sink)
                                : failedAttempt(a, provider, model, f, t0, in, out, reservation, true);
                    }
                    if (chunk.hasNonNull("usage") && chunk.get("usage").isObject()) {
                        usage = chunk.get("usage");
                    }
                    for (JsonNode ch : chunk.path("choices")) {
                        text.append(ch.path("delta").path("content").asText(""));
                    }
                    boolean usageOnly = chunk.path("choices").isEmpty() && chunk.has("usage");
                    if (usageOnly && !clientWantsUsage) {
                        continue;
                    }
                    if (!began && carriesOutput(chunk)) {
                        sink.begin();
                        began = true;
                        for (String h : held) {
                            sink.data(h);
                        }
                        held.clear();
                    }
                    if (began) {
                        sink.data(data, chunk);
                        if (!s.eventBuffered()) {
                            sink.flush(); // the next event is not at hand yet: send what the client has not seen
                        }
                    } else {
                        held.add(data);
                    }
                }
                if (!began) {
                    sink.begin();
                    for (String h : held) {
                        sink.data(h);
                    }
                }
                sink.end();
            } catch (IOException clientGone) {
                // the client went away: stop reading (closing the upstream stream), charge what is known
                attempts.add(new Attempt(provider.id(), model.id(), "client_disconnected", 200, millisSince(t0), UpstreamClient.describe(clientGone)));
                settle(usage, model, provider, in, out, reservation, "client_disconnected", Optional.of(Json.object().put("streamed_text", text.toString())));
                a.streamedOk = true;
                return a;
            }
            breaker(provider.id(), null);
            attempts.add(new Attempt(provider.id(), model.id(), "ok", 200, millisSince(t0), ""));
            settle(usage, model, provider, in, out, reservation, "ok", Optional.of(Json.object().put("streamed_text", text.toString())));
            a.streamedOk = true;
            return a;
        }

        private boolean carriesOutput(JsonNode chunk) {
            for (JsonNode ch : chunk.path("choices")) {
                JsonNode d = ch.path("delta");
                if (!d.path("content").asText("").isEmpty() || d.has("tool_calls") || d.has("function_call")
                        || !d.path("refusal").asText("").isEmpty() || ch.hasNonNull("finish_reason")) {
                    return true;
                }
            }
            return false;
        }

        private UpstreamClient.Failure streamError(JsonNode err) {
            int status = err.path("status").asInt(err.path("code").asInt(0));
            ErrorClass c = status > 0 ? ErrorClass.ofStatus(status)
                    : "server_error".equals(err.path("type").asText()) ? ErrorClass.TRANSIENT_SERVER : ErrorClass.NON_TRANSIENT;
            return new UpstreamClient.Failure(c, status, "error event in the stream: " + err.path("message").asText(""));
        }

        /**
         * An attempt that failed. {@code answered}: the upstream had already answered 2xx (the body
         * or stream then broke or was unusable), so it did the work and may bill it: without usage,
         * the reservation is charged. Nothing is charged when no response came.
         */
        private Attempted failedAttempt(Attempted a, ModelsConfig.Provider provider, ModelsConfig.ModelDef model,
                                        UpstreamClient.Failure f, long t0, long in, long out, Spend.Reservation reservation,
                                        boolean answered) {
            ErrorClass c = f.errorClass();
            long charge = answered ? reservation.nano() : 0;
            long tokens = answered ? in + out : 0;
            caller.tokens().ifPresent(t -> t.settle(in + out, tokens));
            actualNano += charge;
            if (tokens > 0) {
                inputTokens += in;
                outputTokens += out;
            }
            spend.settle(reservation, charge, tokens, tx -> {});
            breaker(provider.id(), c);
            attempts.add(new Attempt(provider.id(), model.id(), c.wire(), f.status(), millisSince(t0), f.message()));
            a.errorClass = c;
            a.code = c.fallsBack() ? "all_candidates_failed" : "upstream_" + c.wire();
            a.httpStatus = f.status() == 400 ? 400 : 502;
            a.message = "model " + model.id() + " at provider " + provider.id() + " failed (" + c.wire() + "): " + f.message();
            return a;
        }

        private Attempted failedAfterOutput(Attempted a, ModelsConfig.Provider provider, ModelsConfig.ModelDef model,
                                            UpstreamClient.Failure f, long t0, long in, long out, Spend.Reservation reservation,
                                            JsonNode usage, StreamSink sink) {
            breaker(provider.id(), f.errorClass());
            attempts.add(new Attempt(provider.id(), model.id(), f.errorClass().wire(), f.status(), millisSince(t0),
                    "after the first token (no fallback): " + f.message()));
            settle(usage, model, provider, in, out, reservation, "failed_after_output:" + f.errorClass().wire(), Optional.empty());
            try {
                sink.fail(openAiError("upstream_" + f.errorClass().wire(), "the model stream failed after output began: " + f.message(), "upstream_error"));
            } catch (IOException ignored) {
                // the client is gone too
            }
            a.streamedOk = true;
            return a;
        }

        /**
         * Charges reported usage at the model's price, or the whole reservation when no usage was
         * reported, and records the call, in one transaction.
         */
        private void settle(JsonNode usage, ModelsConfig.ModelDef model, ModelsConfig.Provider provider, long in,
                            long out, Spend.Reservation reservation, String outcome, Optional<JsonNode> response) {
            boolean reported = usage != null && usage.isObject() && usage.has("prompt_tokens") && usage.has("completion_tokens");
            long pin = reported ? usage.get("prompt_tokens").asLong() : in;
            long pout = reported ? usage.get("completion_tokens").asLong() : out;
            long cost = reported
                    ? model.price().filter(p -> !provider.local()).map(p -> Usd.cost(pin, p.inputPer1m()) + Usd.cost(pout, p.outputPer1m())).orElse(0L)
                    : reservation.nano();
            usageReported = reported;
            inputTokens += pin;
            outputTokens += pout;
            actualNano += cost;
            caller.tokens().ifPresent(t -> t.settle(in + out, pin + pout));
            finishWith(provider, model, outcome, reservation, cost, pin + pout, response);
        }

        private void finishWith(ModelsConfig.Provider provider, ModelsConfig.ModelDef model, String outcome, Spend.Reservation reservation,
                                long cost, long tokens, Optional<JsonNode> response) {
            finished = record(provider.id(), model.id(), outcome);
            ObjectNode details = details(finished);
            caller.content().ifPresent(store -> {
                ObjectNode ref = details.putObject("content_ref");
                ref.put("request", store.put("request", request));
                response.ifPresent(r -> ref.put("response", store.put("response", r)));
            });
            EventDraft draft = finished.ok() ? EventDraft.info("model.call", caller.component(), caller.corrId(), caller.actor(), details)
                    : EventDraft.warn("model.call", caller.component(), caller.corrId(), caller.actor(), details);
            spend.settle(reservation, cost, tokens, tx -> ledger.append(tx, draft));
        }

        private CallRecord record(String provider, String model, String outcome) {
            return new CallRecord(target, route, provider, model, List.copyOf(attempts),
                    attempts.stream().map(Attempt::model).distinct().count() > 1, stream, inputTokens, outputTokens, usageReported,
                    estimatedNano, actualNano, millisSince(started), outcome);
        }

        private CallFailed fail(String code, int status, String message) {
            finished = record(lastModel == null ? null : lastModel.provider(), lastModel == null ? null : lastModel.id(), code);
            ObjectNode details = details(finished).put("error", message);
            ledger.record(spend.store(), EventDraft.warn("model.call", caller.component(), caller.corrId(), caller.actor(), details));
            return new CallFailed(code, status, message, finished);
        }
    }

    /** The store setting holding a provider's breaker state, for {@code warden models status} on any node. */
    public static String breakerSetting(String provider) {
        return "breaker:" + provider;
    }

    /** Records an attempt's outcome in the provider's breaker; a failure or a change of state is also written to the store. */
    private void breaker(String provider, ErrorClass failure) {
        boolean changed = breakers.record(provider, failure);
        if (changed || failure != null) {
            CircuitBreakers.View v = breakers.view(provider);
            ObjectNode n = Json.object().put("state", v.state().name()).put("consecutive_failures", v.consecutiveFailures())
                    .put("open_until", v.openUntil()).put("last_error_class", v.lastErrorClass()).put("updated_at", clock.millis());
            spend.store().write(tx -> {
                tx.putSetting(breakerSetting(provider), Json.write(n));
                return null;
            });
        }
    }

    static ErrorClass classOf(String wire) {
        for (ErrorClass c : ErrorClass.values()) {
            if (c.wire().equals(wire)) {
                return c;
            }
        }
        return ErrorClass.NON_TRANSIENT;
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** The ledger/evidence view of a call: metadata only, never content. */
    public static ObjectNode details(CallRecord r) {
        ObjectNode d = Json.object();
        d.put("target", r.target());
        if (r.route() != null) {
            d.put("route", r.route());
        }
        d.put("provider", r.provider());
        d.put("model", r.model());
        d.put("outcome", r.outcome());
        d.put("fallback_used", r.fallbackUsed());
        d.put("stream", r.stream());
        ArrayNode attempts = d.putArray("attempts");
        for (Attempt a : r.attempts()) {
            ObjectNode x = attempts.addObject().put("provider", a.provider()).put("model", a.model()).put("class", a.outcome())
                    .put("latency_ms", a.latencyMs());
            if (a.status() > 0) {
                x.put("status", a.status());
            }
            if (!a.message().isEmpty()) {
                x.put("message", a.message());
            }
        }
        d.putObject("tokens").put("input", r.inputTokens()).put("output", r.outputTokens()).put("usage_reported", r.usageReported());
        d.putObject("cost_usd").put("estimated", Usd.format(r.estimatedNano())).put("actual", Usd.format(r.actualNano()));
        d.put("latency_ms", r.latencyMs());
        return d;
    }

    /** An error body in OpenAI's format. */
    public static ObjectNode openAiError(String code, String message, String type) {
        ObjectNode e = Json.object();
        e.putObject("error").put("message", message).put("type", type).putNull("param").put("code", code);
        return e;
    }
}
