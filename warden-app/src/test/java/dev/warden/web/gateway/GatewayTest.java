package dev.warden.web.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.testing.FakeOpenAi;
import dev.warden.testing.TestWarden;
import dev.warden.web.WebServer;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenAI-compatible gateway over a real socket, with plain HTTP and with the official {@code openai} npm client. */
class GatewayTest {
    static final String CONSOLE_TOKEN = "wdn_test_token_0123456789abcdef";
    static final String KEY = "sk-gateway-planted-key-77aa88bb99cc";

    @TempDir
    Path dir;
    FakeOpenAi up = new FakeOpenAi();
    FakeOpenAi flaky = new FakeOpenAi();
    WardenApp app;
    WebServer server;
    String base;
    String token;
    String poorToken;
    String coderOnly;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Path key = dir.resolve("k.key");
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, KEY);
        String yaml = """
                models:
                  providers:
                    - {id: up, base_url: "%s", key: "file:%s"}
                    - {id: flaky, base_url: "%s", key: "file:%s"}
                  models:
                    - {id: m-up, provider: up, name: real-model, price: {input_per_1m: 1, output_per_1m: 2}}
                    - {id: m-flaky, provider: flaky, name: flaky-model, price: {input_per_1m: 1, output_per_1m: 2}}
                  routes:
                    coder: {primary: m-up}
                    general: {primary: m-up}
                    flaky: {primary: m-flaky, pinned: true}
                """.formatted(up.baseUrl(), key, flaky.baseUrl(), key);
        app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), yaml);
        server = new WebServer(app, CONSOLE_TOKEN, () -> { });
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0, false);
        token = app.gatewayTokens().create("agent", new BigDecimal("5"), List.of("coder", "flaky"), app.config().models(), "test");
        poorToken = app.gatewayTokens().create("poor", BigDecimal.ZERO, List.of("coder"), app.config().models(), "test");
        coderOnly = token;
        flaky.otherwise(b -> new FakeOpenAi.StreamReply(List.of("partial", " answer", " lost"), 2, true, 5));
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
        up.close();
        flaky.close();
    }

    HttpResponse<String> post(String path, String body, String bearer) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String chat(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    @Test
    void plainAndStreamedCompletionsAndModels() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", chat("coder", false), token);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Json.parse(r.body()).path("choices").get(0).path("message").path("content").asText()).isEqualTo("hello from the fake upstream");
        HttpResponse<String> s = post("/v1/chat/completions", chat("coder", true), token);
        assertThat(s.statusCode()).isEqualTo(200);
        assertThat(s.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(s.body()).contains("data: ").endsWith("data: [DONE]\n\n").doesNotContain("\"usage\"");
        HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(Json.parse(m.body()).findValuesAsText("id")).containsExactly("coder", "flaky");
        // every call is in the ledger with the client's name, without content (recorded just after the answer is sent)
        org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
            String ledger = app.store().read(tx -> tx.ledgerTail(50)).toString();
            assertThat(ledger.split("\"model\\.call\"", -1)).hasSize(3); // two calls
            assertThat(ledger).contains("\"actor\":\"gateway:agent\"").doesNotContain("hello from the fake upstream");
        });
    }

    @Test
    void errorsAreInOpenAiFormatWithStableCodes() throws Exception {
        record Case(String body, String bearer, int status, String code, String type) {}
        List<Case> cases = List.of(
                new Case(chat("coder", false), null, 401, "invalid_api_key", "authentication_error"),
                new Case(chat("coder", false), "wgw_wrong", 401, "invalid_api_key", "authentication_error"),
                new Case(chat("nope", false), token, 404, "model_not_found", "invalid_request_error"),
                new Case(chat("general", false), token, 403, "target_not_allowed", "permission_error"),
                new Case("{\"model\":\"coder\",\"messages\":[]}", token, 400, "invalid_request", "invalid_request_error"),
                new Case("{not json", token, 400, "invalid_json", "invalid_request_error"),
                new Case(chat("coder", false), poorToken, 429, "budget_exceeded:token_usd_per_day", "insufficient_quota"));
        for (Case c : cases) {
            HttpResponse<String> r = post("/v1/chat/completions", c.body(), c.bearer());
            JsonNode e = Json.parse(r.body()).path("error");
            assertThat(r.statusCode()).as(c.toString()).isEqualTo(c.status());
            assertThat(e.path("code").asText()).as(c.toString()).isEqualTo(c.code());
            assertThat(e.path("type").asText()).as(c.toString()).isEqualTo(c.type());
            assertThat(e.path("message").asText()).as(c.toString()).isNotBlank();
        }
        assertThat(Json.parse(post("/v1/chat/completions", "{\"model\":\"coder\",\"messages\":[]}", token).body())
                .path("error").path("message").asText()).startsWith("messages:");
        app.killSwitch().set(true, "test");
        HttpResponse<String> killed = post("/v1/chat/completions", chat("coder", false), token);
        assertThat(killed.statusCode()).isEqualTo(503);
        assertThat(Json.parse(killed.body()).path("error").path("code").asText()).isEqualTo("kill_switch");
        app.killSwitch().set(false, "test");
        app.gatewayTokens().revoke("agent", "test");
        assertThat(post("/v1/chat/completions", chat("coder", false), token).statusCode()).isEqualTo(401);
    }

    @Test
    void connectionsSayHowLongTheyStayOpenAndAnAnswerBeforeTheBodyWasReadCloses() throws Exception {
        HttpResponse<String> ok = post("/v1/chat/completions", chat("coder", false), token);
        assertThat(ok.headers().firstValue("keep-alive")).hasValue("timeout=" + WebServer.KEEP_ALIVE_HINT_S);
        assertThat(ok.headers().firstValue("connection")).isEmpty();
        assertThat(WebServer.KEEP_ALIVE_HINT_S).isGreaterThan(30); // longer than the JDK client's own 30 s keep-alive
        // refused before its body was read: the rest of the body may still be on its way, and Jetty
        // closes such a connection after the answer, so the answer says so
        HttpResponse<String> refused = post("/v1/chat/completions", chat("coder", false), null);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.headers().firstValue("connection")).hasValue("close");
    }

    /** The text a client assembles from a streamed response: every event's {@code delta.content}, in order. */
    static String streamedText(String sse) {
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                for (JsonNode c : Json.parse(line.substring(6)).path("choices")) {
                    text.append(c.path("delta").path("content").asText(""));
                }
            }
        }
        return text.toString();
    }

    @Test
    void aSecretSplitAcrossStreamChunksIsMasked() throws Exception {
        // the provider key, spelled by the model across three chunks, then across two before the stream breaks
        up.then(FakeOpenAi.stream("Your key is sk-gateway-pla", "nted-key-77aa", "88bb99cc, keep it safe."));
        flaky.then(new FakeOpenAi.StreamReply(List.of("leaked: sk-gateway-planted-k", "ey-77aa88bb99cc"), 2, true, 5));
        HttpResponse<String> s = post("/v1/chat/completions", chat("coder", true), token);
        assertThat(s.statusCode()).isEqualTo(200);
        assertThat(s.body()).doesNotContain(KEY).doesNotContain("sk-gateway-pla").doesNotContain("77aa").endsWith("data: [DONE]\n\n");
        assertThat(streamedText(s.body())).isEqualTo("Your key is [secret], keep it safe.");
        HttpResponse<String> broken = post("/v1/chat/completions", chat("flaky", true), token);
        assertThat(broken.body()).doesNotContain(KEY).doesNotContain("sk-gateway-planted-k").doesNotContain("77aa")
                .contains("stream failed after output began").endsWith("data: [DONE]\n\n");
        assertThat(streamedText(broken.body())).isEqualTo("leaked: [secret]");
    }

    @Test
    void officialOpenAiNodeClient() throws Exception {
        String modules = System.getenv("WARDEN_TEST_NODE_MODULES");
        if (modules == null || modules.isBlank()) {
            if ("1".equals(System.getenv("WARDEN_REQUIRE_NODE"))) {
                throw new AssertionError("WARDEN_REQUIRE_NODE=1 but WARDEN_TEST_NODE_MODULES is not set");
            }
            Assumptions.abort("set WARDEN_TEST_NODE_MODULES to a node_modules with the openai package");
        }
        Path script = dir.resolve("gateway-check.cjs");
        try (var in = getClass().getResourceAsStream("/openai-client/gateway-check.cjs")) {
            Files.write(script, in.readAllBytes());
        }
        ProcessBuilder pb = new ProcessBuilder("node", script.toString()).redirectError(dir.resolve("node.err").toFile());
        pb.environment().put("NODE_PATH", modules);
        pb.environment().put("WARDEN_BASE_URL", base + "/v1");
        pb.environment().put("WARDEN_TOKEN", token);
        pb.environment().put("WARDEN_POOR_TOKEN", poorToken);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("node.err"))).isZero();
        JsonNode r = Json.parse(out);
        assertThat(r.path("models").path("value").findValuesAsText("")).isEmpty();
        assertThat(r.path("models").path("value").toString()).isEqualTo("[\"coder\",\"flaky\"]");
        assertThat(r.path("plain").path("value").path("text").asText()).isEqualTo("hello from the fake upstream");
        assertThat(r.path("plain").path("value").path("usage").path("total_tokens").asInt()).isEqualTo(15);
        assertThat(r.path("stream").path("value").path("text").asText()).isEqualTo("hello from the fake upstream");
        assertThat(r.path("streamUsage").path("value").path("usage").path("completion_tokens").asInt()).isEqualTo(3);
        assertThat(r.path("badToken").path("status").asInt()).isEqualTo(401);
        assertThat(r.path("badToken").path("name").asText()).isEqualTo("AuthenticationError");
        assertThat(r.path("unknownModel").path("status").asInt()).isEqualTo(404);
        assertThat(r.path("unknownModel").path("code").asText()).isEqualTo("model_not_found");
        assertThat(r.path("badRequest").path("name").asText()).isEqualTo("BadRequestError");
        assertThat(r.path("overBudget").path("status").asInt()).isEqualTo(429);
        assertThat(r.path("overBudget").path("code").asText()).isEqualTo("budget_exceeded:token_usd_per_day");
        assertThat(r.path("midStreamError").path("ok").asBoolean()).isFalse();
        assertThat(r.path("midStreamError").path("message").asText()).contains("stream failed after output began");
        assertThat(out).doesNotContain(KEY);
    }
}
