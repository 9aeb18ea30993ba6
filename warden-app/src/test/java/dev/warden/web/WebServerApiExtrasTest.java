package dev.warden.web;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST API's read side (evidence, providers, spend, ledger, projects) and its OpenAPI description. */
class WebServerApiExtrasTest {
    static final String TOKEN = "wdn_extras_token_0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void everyDocumentedGetRouteAnswersAndEvidenceIsServed() throws Exception {
        WardenApp app = TestWarden.open(dir, Clock.systemUTC(), "worker: {tick_ms: 100, poll_ms: 20}\n");
        WorkerPool pool = app.newWorkerPool(2);
        WebServer server = new WebServer(app, TOKEN, pool::wakeUp);
        String base = "http://127.0.0.1:" + server.start("127.0.0.1", 0, false);
        pool.start();
        HttpClient http = HttpClient.newHttpClient();
        try {
            HttpResponse<String> enq = http.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs")).header(WebServer.TOKEN_HEADER, TOKEN)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            String id = Json.parse(enq.body()).path("id").asText();
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> app.queue().get(id).state().isTerminal());
            // an escalated triage job, so the approvals routes have a request to show
            var triage = Json.object().put("kind", "triage");
            triage.putObject("payload").put("source", "api").put("execute", true).putArray("messages").addObject()
                    .put("id", "m1").put("subject", "leaked password").put("body", "rotate the password");
            triage.putObject("budgets").put("wall_time_s", 30).put("tool_calls", 0).put("output_bytes", 100_000);
            String tid = app.queue().enqueue(app.parser().parse(triage), "test").job().id();
            Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> app.queue().get(tid).state() == dev.warden.job.JobState.escalated);
            String approvalId = app.approvals().forJob(tid).get(0).id();
            // the plan is readable through the API (redaction hides content keys, not the plan)
            assertThat(get(http, base, "/api/jobs/" + tid).body()).contains("rotate_secret").contains("pending_approval");
            JsonNode spec = Json.parse(get(http, base, "/api/openapi.json").body());
            assertThat(spec.path("openapi").asText()).startsWith("3.");
            List<String> problems = new ArrayList<>();
            for (Iterator<String> it = spec.path("paths").fieldNames(); it.hasNext(); ) {
                String path = it.next();
                if (!spec.path("paths").path(path).has("get") || path.startsWith("/v1/")) {
                    continue;
                }
                String concrete = path.replace("{id}", path.startsWith("/api/approvals/") ? approvalId : id).replace("{kind}", "bundle").replace("{name}", "summary.md");
                int status = get(http, base, concrete).statusCode();
                if (status != 200) {
                    problems.add(path + " -> " + status);
                }
            }
            assertThat(problems).isEmpty();
            JsonNode files = Json.parse(get(http, base, "/api/jobs/" + id + "/evidence").body()).path("files");
            assertThat(files.findValuesAsText("name")).contains("events.jsonl", "summary.md");
            assertThat(get(http, base, "/api/jobs/" + id + "/evidence/bundle/summary.md").body()).contains("What it cost");
            assertThat(get(http, base, "/api/jobs/" + id + "/evidence/artifacts/..%2F..%2Fwarden.db").statusCode()).isIn(400, 404);
            assertThat(get(http, base, "/api/jobs/" + id + "/evidence/secrets/x").statusCode()).isEqualTo(400);
            assertThat(Json.parse(get(http, base, "/api/ledger/verify").body()).path("ok").asBoolean()).isTrue();
            assertThat(get(http, base, "/api/ledger/tail?n=0").statusCode()).isEqualTo(400);
            assertThat(Json.parse(get(http, base, "/api/ledger/tail?n=0").body()).path("error").path("message").asText()).startsWith("n:");
            assertThat(get(http, base, "/api/spend?day=yesterday").statusCode()).isEqualTo(400);
        } finally {
            server.close();
            pool.shutdown(Duration.ofSeconds(2));
            app.close();
        }
    }

    private static HttpResponse<String> get(HttpClient http, String base, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header(WebServer.TOKEN_HEADER, TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
