package dev.warden.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.testing.TestWarden;
import dev.warden.worker.WorkerPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API over a real socket on 127.0.0.1 (port 0). */
class WebServerTest {
    static final String TOKEN = "wdn_test_token_0123456789abcdef";
    static final String NOOP = "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}";

    @TempDir
    Path dir;

    WardenApp app;
    WorkerPool pool;
    WebServer server;
    String base;
    HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        app = TestWarden.open(dir, Clock.systemUTC(), "worker: {tick_ms: 100, poll_ms: 20}\n");
        app.secrets().register(TOKEN);
        pool = app.newWorkerPool(2);
        server = new WebServer(app, TOKEN, pool::wakeUp);
        int port = server.start("127.0.0.1", 0, false);
        base = "http://127.0.0.1:" + port;
        pool.start();
    }

    @AfterEach
    void stop() {
        server.close();
        pool.shutdown(Duration.ofSeconds(2));
        app.close();
    }

    HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header(WebServer.TOKEN_HEADER, token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthzIsOpenAndApiNeedsTheToken() throws Exception {
        HttpResponse<String> h = send("GET", "/healthz", null, null);
        assertThat(h.statusCode()).isEqualTo(200);
        assertThat(Json.parse(h.body()).path("killswitch").asText()).isEqualTo("OFF");
        assertThat(send("GET", "/api/jobs", null, null).statusCode()).isEqualTo(401);
        HttpResponse<String> wrong = send("GET", "/api/jobs", null, "wrong");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(Json.parse(wrong.body()).at("/error/code").asText()).isEqualTo("unauthorized");
        assertThat(send("GET", "/api/jobs", null, TOKEN).statusCode()).isEqualTo(200);
        assertThat(h.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    }

    @Test
    void enqueueRunsAndShowsTheJob() throws Exception {
        HttpResponse<String> r = send("POST", "/api/jobs", NOOP, TOKEN);
        assertThat(r.statusCode()).isEqualTo(201);
        String id = Json.parse(r.body()).path("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                Json.parse(send("GET", "/api/jobs/" + id, null, TOKEN).body()).path("state").asText().equals("succeeded"));
        JsonNode events = Json.parse(send("GET", "/api/jobs/" + id + "/events", null, TOKEN).body()).path("events");
        assertThat(events.size()).isGreaterThanOrEqualTo(3);
        assertThat(events.get(0).path("schema").asText()).isEqualTo("warden.event.v1");
        JsonNode list = Json.parse(send("GET", "/api/jobs?state=succeeded", null, TOKEN).body());
        assertThat(list.path("jobs").size()).isEqualTo(1);
    }

    @Test
    void badInputIsAJsonErrorNamingTheField() throws Exception {
        HttpResponse<String> r = send("POST", "/api/jobs", "{\"kind\":\"noop\",\"budgets\":{}}", TOKEN);
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode err = Json.parse(r.body()).path("error");
        assertThat(err.path("code").asText()).isEqualTo("bad_input");
        assertThat(err.path("violations").toString()).contains("budgets.wall_time_s: required field is missing");
        assertThat(send("POST", "/api/jobs", "not json", TOKEN).statusCode()).isEqualTo(400);
        assertThat(send("GET", "/api/jobs/job-missing", null, TOKEN).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/api/jobs?limit=0", null, TOKEN).statusCode()).isEqualTo(400);
        HttpResponse<String> denied = send("POST", "/api/jobs",
                "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":7200,\"tool_calls\":0,\"output_bytes\":1}}", TOKEN);
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(Json.parse(denied.body()).at("/error/code").asText()).isEqualTo("policy_denied");
    }

    @Test
    void oversizedPayloadIsRefused() throws Exception {
        String big = "{\"kind\":\"noop\",\"labels\":{\"x\":\"" + "a".repeat(1_100_000) + "\"}}";
        assertThat(send("POST", "/api/jobs", big, TOKEN).statusCode()).isEqualTo(413);
    }

    @Test
    void crossOriginMutationIsRefused() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header(WebServer.TOKEN_HEADER, TOKEN).header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString(NOOP)).build();
        assertThat(http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
    }

    @Test
    void repeatedBadTokensAreRateLimited() throws Exception {
        int last = 0;
        for (int i = 0; i < WebServer.MAX_BAD_TOKENS_PER_MINUTE + 2; i++) {
            last = send("GET", "/api/jobs", null, "guess-" + i).statusCode();
        }
        assertThat(last).isEqualTo(429);
    }

    @Test
    void killSwitchViaApiIsAuditedWithATokenFingerprint() throws Exception {
        HttpResponse<String> r = send("POST", "/api/killswitch", "{\"state\":\"on\"}", TOKEN);
        assertThat(Json.parse(r.body()).path("killswitch").asText()).isEqualTo("ON");
        assertThat(Json.parse(send("GET", "/healthz", null, null).body()).path("killswitch").asText()).isEqualTo("ON");
        String ledger = String.join("\n", app.store().read(tx -> tx.ledgerTail(10)).stream().map(x -> x.entry()).toList());
        assertThat(ledger).contains("killswitch.on", "api:tok-").doesNotContain(TOKEN);
        assertThat(send("POST", "/api/killswitch", "{\"state\":\"maybe\"}", TOKEN).statusCode()).isEqualTo(400);
    }

    @Test
    void schedulesThroughTheApi() throws Exception {
        String body = "{\"name\":\"every-minute\",\"cron\":\"* * * * *\",\"spec\":" + NOOP + "}";
        HttpResponse<String> created = send("POST", "/api/schedules", body, TOKEN);
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(Json.parse(created.body()).path("enabled").asBoolean()).isFalse();
        HttpResponse<String> enabled = send("POST", "/api/schedules/every-minute/enable", null, TOKEN);
        assertThat(Json.parse(enabled.body()).path("next_fire_at").asText()).isNotEmpty();
        assertThat(Json.parse(send("GET", "/api/schedules", null, TOKEN).body()).path("schedules").size()).isEqualTo(1);
        assertThat(send("POST", "/api/schedules", "{\"name\":\"x\",\"cron\":\"nope\",\"spec\":" + NOOP + "}", TOKEN)
                .statusCode()).isEqualTo(400);
        assertThat(send("DELETE", "/api/schedules/every-minute", null, TOKEN).statusCode()).isEqualTo(200);
        assertThat(send("DELETE", "/api/schedules/every-minute", null, TOKEN).statusCode()).isEqualTo(404);
    }

    @Test
    void aPortInUseIsBadInputNamingThePort() {
        WebServer other = new WebServer(app, TOKEN, () -> { });
        int port = Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> other.start("127.0.0.1", port, false))
                .isInstanceOfSatisfying(dev.warden.common.WardenException.class,
                        e -> assertThat(e.code()).isEqualTo(dev.warden.common.ErrorCode.BAD_INPUT))
                .hasMessageContaining("--port: 127.0.0.1:" + port + " is not available");
    }

    @Test
    void nonLoopbackBindNeedsExplicitPermission() {
        WebServer other = new WebServer(app, TOKEN, () -> { });
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> other.start("0.0.0.0", 0, false))
                .hasMessageContaining("not a loopback address");
    }
}
