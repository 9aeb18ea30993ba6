package dev.warden.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.queue.ClaimResult;
import dev.warden.queue.Outcome;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import dev.warden.testing.WebhookReceiver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhook notifications against a loopback receiver: delivered, rate-limited, dry run, redacted, failures recorded. */
class NotifierTest {
    static final String PLANTED = "planted-secret-0123456789abcdef";

    @TempDir
    Path dir;

    MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");
    WebhookReceiver receiver = new WebhookReceiver();
    WardenApp app;

    @AfterEach
    void close() {
        if (app != null) {
            app.close();
        }
        receiver.close();
    }

    WardenApp open(String notifyYaml) {
        app = TestWarden.open(dir, clock, notifyYaml);
        return app;
    }

    /** Enqueues, claims and fails one noop job the way a worker would. */
    JobRow failJob(String code, String message, boolean retryable) {
        app.queue().enqueue(TestWarden.parse(app, TestWarden.noop()), "test");
        JobRow claimed = ((ClaimResult.Claimed) app.queue().claim("w1", 1)).jobs().get(0);
        app.queue().complete(List.of(new Outcome.Failed(claimed, code, message, retryable, 12, null)));
        return claimed;
    }

    @Test
    void aFailedJobIsPostedOnceAndRepeatsAreRateLimitedPerCheckId() {
        open("notify: {webhooks: [{url: \"" + receiver.url("/hooks/T000/B000/XXXXXXXX") + "\", events: [job.failed]}]}\n");
        Notifier notifier = app.startNotifications(new PrintWriter(new StringWriter())).orElseThrow();
        JobRow first = failJob("tests_red", "3 tests failed", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 1);
        WebhookReceiver.Received got = receiver.received().get(0);
        assertThat(got.path()).isEqualTo("/hooks/T000/B000/XXXXXXXX");
        assertThat(got.contentType()).isEqualTo("application/json");
        JsonNode p = got.json();
        assertThat(p.path("schema").asText()).isEqualTo(Notification.SCHEMA);
        assertThat(p.path("event").asText()).isEqualTo("job.failed");
        assertThat(p.path("check_id").asText()).isEqualTo("job.failed:noop:tests_red");
        assertThat(p.path("corr_id").asText()).isEqualTo(first.id());
        assertThat(p.path("details").path("kind").asText()).isEqualTo("noop");
        assertThat(p.path("details").path("error").path("message").asText()).isEqualTo("3 tests failed");
        assertThat(p.path("suppressed_since_last").asInt()).isZero();

        failJob("tests_red", "again", false);
        failJob("tests_red", "and again", false);
        failJob("policy_denied", "another check id", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 2 && notifier.idle());
        assertThat(receiver.received().get(1).json().path("check_id").asText()).isEqualTo("job.failed:noop:policy_denied");

        clock.advance(Duration.ofMinutes(31));
        failJob("tests_red", "after the window", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 3);
        JsonNode third = receiver.received().get(2).json();
        assertThat(third.path("check_id").asText()).isEqualTo("job.failed:noop:tests_red");
        assertThat(third.path("suppressed_since_last").asInt()).as("the two suppressed in between").isEqualTo(2);

        await().atMost(Duration.ofSeconds(10)).until(() -> app.store().read(tx -> tx.ledgerTail(200)).stream()
                .filter(r -> r.event().equals("notify.sent")).count() == 3);
        JsonNode sent = app.store().read(tx -> tx.ledgerByCorrId(first.id())).stream().filter(r -> r.event().equals("notify.sent"))
                .map(r -> Json.parse(r.entry())).findFirst().orElseThrow();
        assertThat(sent.path("details").path("webhook").asText()).as("origin only: a hook path can be a credential")
                .isEqualTo(receiver.url("") + "/…");
        assertThat(sent.toString()).doesNotContain("XXXXXXXX");
    }

    @Test
    void webhooksGetOnlyTheEventsTheyAskForAndJobFailedCoversDeadJobs() throws Exception {
        open("notify: {webhooks: [{url: \"" + receiver.url("/failed") + "\", events: [job.failed]}, "
                + "{url: \"" + receiver.url("/canary") + "\", events: [canary.fail]}, {url: \"" + receiver.url("/all") + "\"}]}\n");
        app.startNotifications(new PrintWriter(new StringWriter()));
        JobRow j = app.queue().enqueue(TestWarden.parse(app, TestWarden.noop().put("max_attempts", 1)), "test").job();
        JobRow claimed = ((ClaimResult.Claimed) app.queue().claim("w1", 1)).jobs().get(0);
        app.queue().complete(List.of(new Outcome.Failed(claimed, "transient", "flaky", true, 5, null)));
        assertThat(app.queue().get(j.id()).state().name()).isEqualTo("dead");
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.received().size() == 2);
        assertThat(receiver.received()).extracting(WebhookReceiver.Received::path).containsExactlyInAnyOrder("/failed", "/all");
        assertThat(receiver.received().get(0).json().path("event").asText()).isEqualTo("job.dead");
    }

    @Test
    void dryRunPrintsInsteadOfPosting() {
        open("notify: {dry_run: true, webhooks: [{url: \"" + receiver.url("/hook") + "\"}]}\n");
        StringWriter printed = new StringWriter();
        Notifier n = app.startNotifications(new PrintWriter(printed, true)).orElseThrow();
        assertThat(n.dryRun()).isTrue();
        failJob("boom", "it broke", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> printed.toString().contains("NOTIFY dry-run POST"));
        assertThat(printed.toString()).contains(receiver.url("") + "/…", "\"event\":\"job.failed\"").doesNotContain("/hook");
        assertThat(receiver.received()).isEmpty();
        assertThat(app.store().read(tx -> tx.ledgerTail(50)).stream().map(Tx.LedgerRow::event)).doesNotContain("notify.sent");
    }

    @Test
    void aPlantedSecretNeverReachesAPayload() throws Exception {
        Path secretFile = dir.resolve("svc.secret");
        Files.writeString(secretFile, PLANTED);
        open("secrets: {files: [" + secretFile + "]}\nnotify: {webhooks: [{url: \"" + receiver.url("/hook") + "\"}]}\n");
        try (Notifier n = app.newNotifier(null)) {
            ObjectNode details = Json.object().put("message", "upstream said: key " + PLANTED + " rejected")
                    .put("prompt", "please leak " + PLANTED);
            details.putObject("nested").putArray("list").add(PLANTED);
            List<Notifier.Delivery> ds = n.send(new Notification("budget.exceeded", "budget.exceeded:" + PLANTED, "warn",
                    "summary with " + PLANTED, "job-1", details, clock.instant()));
            assertThat(ds).extracting(Notifier.Delivery::outcome).containsExactly("delivered");
        }
        String body = receiver.received().get(0).body();
        assertThat(body).doesNotContain(PLANTED).contains("[secret]");
        JsonNode p = Json.parse(body);
        assertThat(p.path("details").path("prompt").path("redacted").asBoolean()).isTrue();
        assertThat(app.store().read(tx -> tx.ledgerTail(50)).toString()).doesNotContain(PLANTED);
    }

    @Test
    void aFailingReceiverIsRecordedAndDoesNotThrow() {
        receiver.answer(500);
        open("notify: {webhooks: [{url: \"" + receiver.url("/hook") + "\"}, {url: \"http://127.0.0.1:"
                + dev.warden.testing.FakeOpenAi.closedPort() + "/gone\"}]}\n");
        try (Notifier n = app.newNotifier(null)) {
            List<Notifier.Delivery> ds = n.send(new Notification("canary.fail", "canary.fail:store", "error", "canary FAIL", null,
                    Json.object(), clock.instant()));
            assertThat(ds).extracting(Notifier.Delivery::outcome).containsExactly("failed", "failed");
            assertThat(ds.get(0).result().error()).isEqualTo("HTTP 500");
            assertThat(ds.get(1).result().error()).isEqualTo("connection refused");
        }
        List<JsonNode> failed = app.store().read(tx -> tx.ledgerTail(50)).stream().filter(r -> r.event().equals("notify.failed"))
                .map(r -> Json.parse(r.entry())).toList();
        assertThat(failed).hasSize(2);
        assertThat(failed).allSatisfy(f -> assertThat(f.path("details").path("webhook").asText()).endsWith("/…"));
    }

    @Test
    void theRateLimitIsSharedThroughTheStateFile() {
        Path state = dir.resolve("notify-state.json");
        RateLimiter a = new RateLimiter(Optional.of(state), Duration.ofMinutes(30), clock);
        RateLimiter b = new RateLimiter(Optional.of(state), Duration.ofMinutes(30), clock);
        assertThat(a.admit("canary.fail:store").send()).isTrue();
        assertThat(b.admit("canary.fail:store").send()).as("another process, same data dir").isFalse();
        assertThat(b.admit("canary.fail:ledger").send()).isTrue();
        clock.advance(Duration.ofMinutes(30));
        RateLimiter.Decision d = b.admit("canary.fail:store");
        assertThat(d.send()).isTrue();
        assertThat(d.suppressedBefore()).isEqualTo(1);
        RateLimiter off = new RateLimiter(Optional.empty(), Duration.ZERO, clock);
        assertThat(off.admit("x").send()).isTrue();
        assertThat(off.admit("x").send()).as("rate_limit_minutes: 0").isTrue();
    }

    @Test
    void ledgerEntriesMapToNotifications() {
        open(null);
        LedgerNotifications map = new LedgerNotifications(app.store(), null);
        Tx.LedgerRow call = new Tx.LedgerRow("c", 1, clock.millis(), "model.call", null, Json.write(Json.object()));
        ObjectNode entry = Json.object().put("actor", "gateway:my-agent");
        entry.putObject("details").put("outcome", "budget_exceeded:token_usd_per_day").put("target", "coder");
        Notification n = map.map(call, entry).orElseThrow();
        assertThat(n.event()).isEqualTo("budget.exceeded");
        assertThat(n.checkId()).isEqualTo("budget.exceeded:token_usd_per_day");
        ObjectNode ok = Json.object();
        ok.putObject("details").put("outcome", "ok");
        assertThat(map.map(call, ok)).isEmpty();
        ObjectNode lost = Json.object().put("corr_id", "job-x");
        lost.putObject("details").put("state", "failed").put("lease_owner", "w9");
        Tx.LedgerRow lostRow = new Tx.LedgerRow("c", 2, clock.millis(), "job.lease_lost", "job-x", "{}");
        assertThat(map.map(lostRow, lost)).get().satisfies(x -> assertThat(x.checkId()).isEqualTo("job.failed:unknown:lease_lost"));
        lost.with("details").put("state", "queued");
        assertThat(map.map(lostRow, lost)).as("requeued: not a failure").isEmpty();
        ObjectNode approval = Json.object().put("corr_id", "job-7");
        approval.putObject("details").put("action", "exec");
        assertThat(map.map(new Tx.LedgerRow("c", 3, clock.millis(), "approval.requested", "job-7", "{}"), approval))
                .get().satisfies(x -> assertThat(x.checkId()).isEqualTo("approval.requested:job-7"));
    }
}
