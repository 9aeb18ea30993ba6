package dev.warden.web.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.testing.TestWarden;
import dev.warden.web.WebServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's and API's defences, each tested: every mutating route refuses a request without
 * credentials (401), from another origin (403), riding on the session cookie without the CSRF
 * token (403), over 1 MiB (413); token guessing is rate-limited (429); a rotated token ends old
 * sessions; security headers; no page or API response carries a planted secret.
 */
class ConsoleSecurityTest {
    static final String TOKEN = "wdn_security_token_0123456789abcdef";
    static final String SECRET = "sk-live-PLANTED-console-5e6f7a8b9c0d";

    @TempDir
    Path dir;
    WardenApp app;
    WebServer server;
    String base;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/console.token"), TOKEN + "\n");
        app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), "secrets: {env: []}\n");
        app.secrets().register(TOKEN);
        app.secrets().register(SECRET);
        server = new WebServer(app, TOKEN, () -> { });
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0, false);
        // a job whose label and failure carry the secret, so pages would show it if anything leaked
        app.queue().enqueue(app.parser().parse(Json.parse("""
                {"kind":"noop","labels":{"note":"%s"},"budgets":{"wall_time_s":5,"tool_calls":0,"output_bytes":100}}
                """.formatted(SECRET))), "test");
        app.schedules().add("nightly", "0 3 * * *", Json.parse("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}"),
                false, "one", "test");
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
    }

    record Session(String cookie, String csrf) {}

    HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    Session login() throws Exception {
        HttpResponse<String> r = send("POST", "/login", "token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8),
                "Content-Type", "application/x-www-form-urlencoded", "Origin", base);
        assertThat(r.statusCode()).isEqualTo(303);
        String setCookie = r.headers().firstValue("set-cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").containsIgnoringCase("SameSite=Strict").contains("Path=/");
        String cookie = setCookie.split(";")[0];
        HttpResponse<String> page = send("GET", "/", null, "Cookie", cookie);
        assertThat(page.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("\"X-CSRF-Token\": \"([0-9a-f]+)\"").matcher(page.body());
        assertThat(m.find()).isTrue();
        return new Session(cookie, m.group(1));
    }

    /** Every mutating route, with a body it would accept. */
    static final List<String[]> MUTATING = List.of(
            new String[] {"POST", "/api/jobs", "{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}"},
            new String[] {"POST", "/api/jobs/JOB/cancel", ""},
            new String[] {"POST", "/api/jobs/JOB/retry", ""},
            new String[] {"POST", "/api/schedules", "{\"name\":\"n2\",\"cron\":\"0 4 * * *\",\"spec\":{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}}"},
            new String[] {"POST", "/api/schedules/nightly/enable", ""},
            new String[] {"POST", "/api/schedules/nightly/disable", ""},
            new String[] {"DELETE", "/api/schedules/nightly", null},
            new String[] {"POST", "/api/killswitch", "{\"state\":\"on\"}"},
            new String[] {"POST", "/api/approvals/apr-x/approve", "{\"note\":\"ok\"}"},
            new String[] {"POST", "/api/approvals/apr-x/reject", ""});

    private String jobId() {
        return app.queue().list(dev.warden.store.Tx.JobFilter.all(1)).get(0).id();
    }

    @Test
    void everyMutatingRouteRefusesMissingCredentialsForeignOriginsAndMissingCsrf() throws Exception {
        Session s = login();
        List<String> problems = new ArrayList<>();
        for (String[] m : MUTATING) {
            String path = m[1].replace("JOB", jobId());
            int none = send(m[0], path, m[2]).statusCode();
            int badToken = send(m[0], path, m[2], WebServer.TOKEN_HEADER, "wdn_wrong").statusCode();
            int foreign = send(m[0], path, m[2], "Cookie", s.cookie(), WebServer.CSRF_HEADER, s.csrf(), "Origin", "http://evil.example").statusCode();
            int foreignWithToken = send(m[0], path, m[2], WebServer.TOKEN_HEADER, TOKEN, "Origin", "http://evil.example").statusCode();
            int noCsrf = send(m[0], path, m[2], "Cookie", s.cookie(), "Origin", base).statusCode();
            int wrongCsrf = send(m[0], path, m[2], "Cookie", s.cookie(), "Origin", base, WebServer.CSRF_HEADER, "00").statusCode();
            int noOriginCookie = send(m[0], path, m[2], "Cookie", s.cookie(), WebServer.CSRF_HEADER, s.csrf()).statusCode();
            String got = m[0] + " " + m[1] + ": none=" + none + " badToken=" + badToken + " foreign=" + foreign + " foreignWithToken="
                    + foreignWithToken + " noCsrf=" + noCsrf + " wrongCsrf=" + wrongCsrf + " noOriginCookie=" + noOriginCookie;
            if (none != 401 || badToken != 401 || foreign != 403 || foreignWithToken != 403 || noCsrf != 403 || wrongCsrf != 403
                    || noOriginCookie != 403) {
                problems.add(got);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(app.killSwitch().isOn()).isFalse();
        // and the same requests are accepted with the session, its CSRF token and this origin
        HttpResponse<String> ok = send("POST", "/api/killswitch", "{\"state\":\"on\"}", "Cookie", s.cookie(), "Origin", base,
                WebServer.CSRF_HEADER, s.csrf(), "Content-Type", "application/json");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(app.store().read(tx -> tx.ledgerTail(3)).toString()).contains("\"actor\":\"console:tok-");
    }

    @Test
    void oversizedPayloadIs413AndTokenGuessingIs429() throws Exception {
        String big = "{\"kind\":\"noop\",\"pad\":\"" + "x".repeat(1024 * 1024 + 10) + "\"}";
        assertThat(send("POST", "/api/jobs", big, WebServer.TOKEN_HEADER, TOKEN).statusCode()).isEqualTo(413);
        int last = 0;
        for (int i = 0; i < 25; i++) {
            last = send("POST", "/login", "token=guess" + i, "Content-Type", "application/x-www-form-urlencoded").statusCode();
        }
        assertThat(last).isEqualTo(429);
        // the right token is refused too while the address is limited
        assertThat(send("POST", "/login", "token=" + TOKEN, "Content-Type", "application/x-www-form-urlencoded").statusCode()).isEqualTo(429);
        assertThat(send("GET", "/api/jobs", null, WebServer.TOKEN_HEADER, TOKEN).statusCode()).isEqualTo(429);
    }

    @Test
    void pagesNeedALoginAndRotationEndsSessions() throws Exception {
        for (String p : List.of("/", "/jobs", "/schedules", "/providers", "/ledger", "/projects", "/approvals")) {
            HttpResponse<String> r = send("GET", p, null);
            assertThat(r.statusCode()).as(p).isEqualTo(303);
            assertThat(r.headers().firstValue("location")).as(p).hasValue("/login");
        }
        assertThat(send("GET", "/console/events", null).statusCode()).isEqualTo(401);
        Session s = login();
        assertThat(send("GET", "/jobs", null, "Cookie", s.cookie()).statusCode()).isEqualTo(200);
        java.io.StringWriter out = new java.io.StringWriter();
        int code = dev.warden.cli.Main.execute(new String[] {"--data-dir", dir.resolve("data").toString(), "token", "rotate"},
                new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(code).isZero();
        String rotated = out.toString().strip();
        assertThat(rotated).startsWith("wdn_").isNotEqualTo(TOKEN);
        assertThat(send("GET", "/jobs", null, "Cookie", s.cookie()).statusCode()).isEqualTo(303);
        assertThat(send("GET", "/api/jobs", null, WebServer.TOKEN_HEADER, TOKEN).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/jobs", null, WebServer.TOKEN_HEADER, rotated).statusCode()).isEqualTo(200);
        assertThat(app.store().read(tx -> tx.ledgerTail(5)).toString()).contains("console.token.rotated").doesNotContain(rotated);
    }

    @Test
    void securityHeadersAndNoSecretInAnyPageOrResponse() throws Exception {
        Session s = login();
        String id = jobId();
        StringBuilder all = new StringBuilder();
        for (String p : List.of("/", "/jobs", "/jobs/" + id, "/schedules", "/providers", "/ledger", "/ledger?verify=1", "/projects",
                "/approvals", "/login")) {
            HttpResponse<String> r = send("GET", p, null, "Cookie", s.cookie());
            assertThat(r.statusCode()).as(p).isEqualTo(200);
            assertThat(r.headers().firstValue("content-security-policy").orElse("")).as(p)
                    .contains("script-src 'self'").contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
            assertThat(r.headers().firstValue("x-frame-options")).hasValue("DENY");
            assertThat(r.body()).as(p).doesNotContain("<script>").doesNotContain(" onclick=").doesNotContain(" style=\"");
            all.append(r.body());
        }
        for (String p : List.of("/api/jobs", "/api/jobs/" + id, "/api/jobs/" + id + "/events", "/api/schedules", "/api/killswitch")) {
            all.append(send("GET", p, null, WebServer.TOKEN_HEADER, TOKEN).body());
        }
        assertThat(all.toString()).contains("[secret]").doesNotContain(SECRET).doesNotContain(TOKEN);
        // html in data is escaped, never interpreted
        assertThat(send("GET", "/jobs?kind=%3Cscript%3Ealert(1)%3C/script%3E", null, "Cookie", s.cookie()).body())
                .doesNotContain("<script>alert(1)").contains("&lt;script&gt;");
    }
}
