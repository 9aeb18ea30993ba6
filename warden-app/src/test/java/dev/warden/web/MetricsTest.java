package dev.warden.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.app.WardenApp;
import dev.warden.testing.TestWarden;
import dev.warden.worker.WorkerPool;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GET /metrics over a real socket: Prometheus text, gauges from the store, counters from the ledger, access rules. */
class MetricsTest {
    static final String TOKEN = "wdn_metrics_token_0123456789abcdef";
    static final String NOOP = "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}";

    @TempDir
    Path dir;

    WardenApp app;
    WorkerPool pool;
    WebServer server;
    HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (pool != null) {
            pool.shutdown(Duration.ofSeconds(2));
        }
        if (app != null) {
            app.close();
        }
    }

    String start(String host, boolean allowNonLoopback) {
        app = TestWarden.open(dir, Clock.systemUTC(), "worker: {tick_ms: 100, poll_ms: 20}\nmodels: {budget: {usd_per_day: 20}}\n");
        app.secrets().register(TOKEN);
        pool = app.newWorkerPool(2);
        server = new WebServer(app, TOKEN, pool::wakeUp);
        int port = server.start(host, 0, allowNonLoopback);
        pool.start();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    HttpResponse<String> get(String url, String header, String value) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (header != null) {
            b.header(header, value);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static double value(String body, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void prometheusTextWithQueueSpendAndLedgerCounters() throws Exception {
        String base = start("127.0.0.1", false);
        app.store().write(tx -> {
            String day = app.spend().today();
            tx.reserveSpend("day", day, 2_500_000_000L, -1);
            tx.settleSpend("day", day, 2_500_000_000L, 1_250_000_000L, 4321);
            return null;
        });
        HttpResponse<String> first = get(base + "/metrics", null, null);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain; version=0.0.4");
        String m = first.body();
        assertThat(m).contains("# TYPE warden_jobs gauge", "# TYPE warden_jobs_claimed_total counter");
        assertThat(value(m, "warden_store_up")).isEqualTo(1);
        assertThat(value(m, "warden_jobs{state=\"queued\"}")).isZero();
        assertThat(value(m, "warden_killswitch")).isZero();
        assertThat(value(m, "warden_approvals_pending")).isZero();
        assertThat(value(m, "warden_model_spend_usd_today")).isEqualTo(1.25);
        assertThat(value(m, "warden_model_tokens_today")).isEqualTo(4321);
        assertThat(value(m, "warden_model_spend_cap_usd_per_day")).isEqualTo(20);
        assertThat(value(m, "warden_workers{state=\"alive\"}")).isEqualTo(1);
        assertThat(value(m, "warden_jobs_claimed_total")).isZero();

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs")).header(WebServer.TOKEN_HEADER, TOKEN)
                    .POST(HttpRequest.BodyPublishers.ofString(NOOP)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(201);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> value(get(base + "/metrics", null, null).body(),
                "warden_job_attempts_finished_total{outcome=\"succeeded\"}") == 3);
        String after = get(base + "/metrics", null, null).body();
        assertThat(value(after, "warden_jobs_claimed_total")).isEqualTo(3);
        assertThat(value(after, "warden_jobs{state=\"succeeded\"}")).isEqualTo(3);
        assertThat(value(after, "warden_job_attempt_duration_seconds_count{outcome=\"succeeded\"}")).isEqualTo(3);
        assertThat(value(after, "warden_job_attempt_duration_seconds_bucket{outcome=\"succeeded\",le=\"+Inf\"}")).isEqualTo(3);
        assertThat(value(after, "warden_policy_denials_total")).isZero();
        assertThat(after).contains("warden_ledger_head_seq{chain=\"" + app.ledger().chain() + "\"}").doesNotContain(TOKEN);
        for (String line : after.split("\n")) {
            assertThat(line).matches("# (HELP|TYPE) .*|[a-z_]+(\\{.*\\})? -?[0-9.eE+-]+");
        }
    }

    @Test
    void fromANonLoopbackAddressTheTokenIsRequired() throws Exception {
        Optional<InetAddress> lan = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .filter(ni -> {
                    try {
                        return ni.isUp() && !ni.isLoopback();
                    } catch (java.net.SocketException e) {
                        return false;
                    }
                })
                .flatMap(ni -> Collections.list(ni.getInetAddresses()).stream())
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()).findFirst();
        Assumptions.assumeTrue(lan.isPresent(), "no non-loopback IPv4 address on this machine");
        String base = start(lan.get().getHostAddress(), true);
        HttpResponse<String> anonymous = get(base + "/metrics", null, null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain("warden_jobs");
        assertThat(get(base + "/metrics", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        HttpResponse<String> bearer = get(base + "/metrics", "Authorization", "Bearer " + TOKEN);
        assertThat(bearer.statusCode()).isEqualTo(200);
        assertThat(bearer.body()).contains("warden_jobs{state=\"queued\"}");
        assertThat(get(base + "/metrics", WebServer.TOKEN_HEADER, TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void labelValuesAreEscaped() {
        assertThat(Metrics.label("outcome", "a\"b\\c\nd")).isEqualTo("{outcome=\"a\\\"b\\\\c\\nd\"}");
        assertThat(Metrics.format(3)).isEqualTo("3");
        assertThat(Metrics.format(0.25)).isEqualTo("0.25");
    }

    @Test
    void aLoopbackClientNamingAnotherHostNeedsTheToken() throws Exception {
        String base = start("127.0.0.1", false);
        int port = Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
        // what a page using DNS rebinding sends: loopback connection, its own name in Host
        for (String[] c : new String[][] {{"evil.example:" + port, "401"}, {"127.0.0.1:" + port, "200"}, {"localhost:" + port, "200"}}) {
            try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
                s.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: " + c[0] + "\r\nConnection: close\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream())).readLine();
                assertThat(status).as(c[0]).contains(" " + c[1] + " ");
            }
        }
    }
}
