package dev.warden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.ApprovalsTx.ApprovalRow;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.testing.CliRun;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import dev.warden.worker.WorkerPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code triage} kind with the rule brain, end to end on a real store and worker pool: plans
 * run dry by default; executed plans run their auto actions and escalate the rest to the approvals
 * queue; the job waits {@code escalated} and resumes when every request is decided or expired;
 * approved actions still go through policy; nothing already done runs twice.
 */
class TriageApprovalTest {
    /** The store under test: the embedded SQLite file here; PostgreSQL in {@link PostgresTriageApprovalTest}. */
    Optional<String> storeUrl() {
        return Optional.empty();
    }

    void release() {}

    @TempDir
    Path dir;
    Path inbox;
    /**
     * Ahead of the wall clock: the CLI runs in this JVM on the system clock, and a job it puts back
     * (a decision resumes it, due "now") must be due for the pool on this clock too.
     */
    MutableClock clock = MutableClock.at(java.time.Instant.now().plus(Duration.ofDays(1))
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    WardenApp app;
    WorkerPool pool;

    @BeforeEach
    void open() throws Exception {
        inbox = Files.createDirectories(dir.resolve("inbox"));
        Files.writeString(inbox.resolve("01-ci.eml"), "From: dev@example.test\nSubject: CI failed on main\n\nThe build failed after the merge.\n");
        Files.writeString(inbox.resolve("02-creds.txt"), "From: ops@example.test\nSubject: leaked credentials\n\n"
                + "Someone pasted the deploy password in the chat. Please rotate it.\n");
        Files.writeString(inbox.resolve("03-news.json"), "{\"from\":\"news@example.test\",\"subject\":\"Our newsletter\","
                + "\"body\":\"Unsubscribe any time.\"}");
        Files.writeString(inbox.resolve(".hidden"), "not a message");
        app = TestWarden.open(dir.resolve("data"), clock, storeUrl(), """
                worker: {tick_ms: 50, poll_ms: 20, lease_s: 30}
                policy:
                  paths: {read: [%s]}
                  exec: {allow: [{path: /bin/echo}, {path: /usr/bin/echo}]}
                """.formatted(dir));
        pool = app.newWorkerPool(2);
        pool.start();
    }

    @AfterEach
    void close() {
        if (pool == null) {
            release(); // open() did not get that far (e.g. no PostgreSQL here: the test was skipped)
            return;
        }
        pool.shutdown(Duration.ofSeconds(2));
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        app.close();
        release();
    }

    private ObjectNode spec(ObjectNode payload) {
        ObjectNode s = Json.object().put("kind", "triage");
        s.set("payload", payload);
        s.putObject("policy").putObject("paths").putArray("read").add(inbox.toString());
        s.putObject("budgets").put("wall_time_s", 60).put("tool_calls", 5).put("output_bytes", 1_000_000);
        return s;
    }

    private JobRow enqueue(ObjectNode spec) {
        JobRow r = app.queue().enqueue(app.parser().parse(spec), "test").job();
        pool.wakeUp();
        return r;
    }

    private JobRow awaitState(String id, JobState state) {
        await().atMost(Duration.ofSeconds(20)).until(() -> app.queue().get(id).state() == state);
        return app.queue().get(id);
    }

    private static JsonNode message(JsonNode result, String id) {
        for (JsonNode m : result.path("plans")) {
            if (m.path("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no message " + id + " in " + result);
    }

    private static JsonNode action(JsonNode message, String type) {
        for (JsonNode a : message.path("actions")) {
            if (a.path("type").asText().equals(type)) {
                return a;
            }
        }
        throw new AssertionError("no action " + type + " in " + message);
    }

    private List<String> events(String jobId) {
        return app.store().read(tx -> tx.ledgerByCorrId(jobId)).stream().map(Tx.LedgerRow::event).toList();
    }

    @Test
    void plansRunDryByDefault() {
        JobRow done = awaitState(enqueue(spec(Json.object().put("source", "dir:" + inbox))).id(), JobState.succeeded);
        JsonNode result = Json.parse(done.result());
        assertThat(result.path("dry_run").asBoolean()).isTrue();
        assertThat(result.path("messages_read").asInt()).isEqualTo(3); // the hidden file is not a message
        JsonNode creds = message(result, "02-creds.txt");
        JsonNode rotate = action(creds, "rotate_secret");
        assertThat(rotate.path("disposition").asText()).isEqualTo("escalate");
        assertThat(rotate.path("outcome").asText()).isEqualTo("would_escalate");
        assertThat(rotate.path("reasons").toString()).contains("off_allowlist").contains("touches_secrets");
        assertThat(action(message(result, "01-ci.eml"), "reply_draft").path("outcome").asText()).isEqualTo("planned");
        assertThat(action(message(result, "03-news.json"), "label").path("args").path("labels").toString()).contains("low-priority");
        // nothing was carried out and nobody was asked
        assertThat(app.approvals().list(null, 100)).isEmpty();
        assertThat(events(done.id())).doesNotContain("triage.labelled", "approval.requested");
        assertThat(app.dataDir().resolve("evidence").resolve(done.id()).resolve("artifacts").resolve("reply-01-ci.eml.md"))
                .doesNotExist();
    }

    @Test
    void executedPlanEscalatesWaitsAndResumesWithTheDecisions() {
        JobRow job = enqueue(spec(Json.object().put("source", "dir:" + inbox).put("execute", true)));
        JobRow escalated = awaitState(job.id(), JobState.escalated);
        JsonNode partial = Json.parse(escalated.result());
        assertThat(action(message(partial, "02-creds.txt"), "rotate_secret").path("outcome").asText()).isEqualTo("pending_approval");
        assertThat(action(message(partial, "01-ci.eml"), "reply_draft").path("outcome").asText()).isEqualTo("executed");
        Path artifacts = app.dataDir().resolve("evidence").resolve(job.id()).resolve("artifacts");
        assertThat(artifacts.resolve("reply-01-ci.eml.md")).content().contains("CI failed on main").contains("dev@example.test");

        List<ApprovalRow> pending = app.approvals().list(Approvals.PENDING, 100);
        assertThat(pending).hasSize(1);
        ApprovalRow req = pending.get(0);
        assertThat(req.jobId()).isEqualTo(job.id());
        assertThat(Json.parse(req.action()).path("type").asText()).isEqualTo("rotate_secret");
        assertThat(req.summary()).contains("02-creds.txt").contains("touches_secrets");
        assertThat(req.expiresAt() - req.requestedAt()).isEqualTo(Duration.ofDays(1).toMillis());
        // the job stays escalated while the request is pending, however often workers poll
        pool.wakeUp();
        assertThat(app.queue().get(job.id()).state()).isEqualTo(JobState.escalated);

        Path evidence = app.dataDir().resolve("evidence").resolve(job.id());
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(evidence.resolve("summary.md"))
                && Files.readString(evidence.resolve("summary.md")).contains("| escalated |"));
        assertThat(evidence.resolve("summary.md")).content().contains("## Approvals").contains(req.id()).contains("| pending |");
        app.approvals().decide(req.id(), true, "operator:test", "rotated by hand");
        JobRow done = awaitState(job.id(), JobState.succeeded);
        JsonNode result = Json.parse(done.result());
        JsonNode rotate = action(message(result, "02-creds.txt"), "rotate_secret");
        assertThat(rotate.path("outcome").asText()).isEqualTo("approved_manual");
        assertThat(rotate.path("decided_by").asText()).isEqualTo("operator:test");
        assertThat(result.path("outcomes").path("pending_approval").isMissingNode()).isTrue();

        List<String> ev = events(job.id());
        assertThat(ev).containsSubsequence("approval.requested", "job.escalated", "approval.approved", "job.resumed",
                "job.claimed", "job.succeeded");
        // the auto actions of the first attempt were not repeated by the resumed one
        long labels = ev.stream().filter("triage.labelled"::equals).count();
        assertThat(labels).isEqualTo(3);
        assertThatThrownBy(() -> app.approvals().decide(req.id(), false, "operator:late", null))
                .isInstanceOf(WardenException.class).hasMessageContaining("already approved");
    }

    @Test
    void rejectedActionsNeverRunAndApprovedOnesStillObeyPolicy() {
        ObjectNode payload = Json.object().put("source", "dir:" + inbox).put("execute", true);
        var rules = payload.putArray("rules");
        ObjectNode r = rules.addObject();
        r.putObject("when").putArray("any").add("ci failed");
        r.putArray("actions").addObject().put("type", "exec").put("reason", "say hello")
                .putObject("args").putArray("argv").add("/usr/bin/touch").add("/tmp/warden-triage-should-not-exist");
        ObjectNode r2 = rules.addObject();
        r2.putObject("when").putArray("any").add("newsletter");
        r2.putArray("actions").addObject().put("type", "exec").put("reason", "would unsubscribe")
                .putObject("args").putArray("argv").add("/bin/echo").add("unsubscribe");
        JobRow job = enqueue(spec(payload));
        awaitState(job.id(), JobState.escalated);
        List<ApprovalRow> pending = app.approvals().list(Approvals.PENDING, 100);
        assertThat(pending).hasSize(2);
        ApprovalRow touch = pending.stream().filter(p -> p.action().contains("touch")).findFirst().orElseThrow();
        ApprovalRow echo = pending.stream().filter(p -> p.action().contains("echo")).findFirst().orElseThrow();
        app.approvals().decide(echo.id(), false, "operator:test", "not now");
        assertThat(app.queue().get(job.id()).state()).isEqualTo(JobState.escalated); // one still pending
        app.approvals().decide(touch.id(), true, "operator:test", null);
        JobRow done = awaitState(job.id(), JobState.succeeded);
        JsonNode result = Json.parse(done.result());
        // approved is consent, not a policy bypass: /usr/bin/touch is not in exec.allow
        JsonNode touched = action(message(result, "01-ci.eml"), "exec");
        assertThat(touched.path("outcome").asText()).isEqualTo("denied");
        assertThat(Path.of("/tmp/warden-triage-should-not-exist")).doesNotExist();
        assertThat(action(message(result, "03-news.json"), "exec").path("outcome").asText()).isEqualTo("rejected");
        List<String> ev = events(job.id());
        assertThat(ev).contains("approval.rejected", "approval.approved", "policy.denied").doesNotContain("exec.started");
    }

    @Test
    void undecidedRequestsExpireAndAreNotExecuted() {
        ObjectNode payload = Json.object().put("source", "dir:" + inbox).put("execute", true).put("approval_ttl_s", 60);
        JobRow job = enqueue(spec(payload));
        awaitState(job.id(), JobState.escalated);
        ApprovalRow req = app.approvals().list(Approvals.PENDING, 10).get(0);
        clock.advance(Duration.ofSeconds(61));
        assertThatThrownBy(() -> app.approvals().decide(req.id(), true, "operator:late", null))
                .isInstanceOf(WardenException.class).hasMessageContaining("expired");
        // the pool's control loop sweeps expiries on the same (advanced) clock and may get there first
        assertThat(app.approvals().expireDue("test")).isBetween(0, 1);
        JobRow done = awaitState(job.id(), JobState.succeeded);
        assertThat(action(message(Json.parse(done.result()), "02-creds.txt"), "rotate_secret").path("outcome").asText())
                .isEqualTo("expired");
        assertThat(events(job.id())).contains("approval.expired", "job.resumed");
        assertThat(events(job.id()).stream().filter("approval.expired"::equals).count()).isEqualTo(1); // expired once
    }

    @Test
    void cancellingAnEscalatedJobWithdrawsItsRequests() {
        JobRow job = enqueue(spec(Json.object().put("source", "dir:" + inbox).put("execute", true)));
        awaitState(job.id(), JobState.escalated);
        app.queue().cancel(job.id(), "operator:test");
        assertThat(app.queue().get(job.id()).state()).isEqualTo(JobState.cancelled);
        assertThat(app.approvals().list(Approvals.PENDING, 10)).isEmpty();
        ApprovalRow closed = app.approvals().forJob(job.id()).get(0);
        assertThat(closed.state()).isEqualTo(Approvals.WITHDRAWN);
        assertThatThrownBy(() -> app.approvals().decide(closed.id(), true, "operator:test", null))
                .isInstanceOf(WardenException.class).hasMessageContaining("already withdrawn");
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        assertThatThrownBy(() -> app.parser().parse(spec(Json.object().put("source", "api"))))
                .isInstanceOf(WardenException.class).hasMessageContaining("payload.messages");
        ObjectNode outside = spec(Json.object().put("source", "dir:/etc"));
        assertThatThrownBy(() -> app.parser().parse(outside)).hasMessageContaining("payload.source");
        assertThatThrownBy(() -> app.parser().parse(spec(Json.object().put("source", "mailbox"))))
                .isInstanceOf(WardenException.class).hasMessageContaining("source");
        ObjectNode badRule = Json.object().put("source", "dir:" + inbox);
        badRule.putArray("rules").addObject().putArray("actions").addObject().put("type", "rm -rf");
        assertThatThrownBy(() -> app.parser().parse(spec(badRule))).isInstanceOf(WardenException.class);
        ObjectNode llmNoRoute = Json.object().put("source", "dir:" + inbox).put("brain", "llm");
        JobRow failed = awaitState(enqueue(spec(llmNoRoute)).id(), JobState.failed);
        assertThat(failed.errorCode()).isEqualTo("brain_unavailable"); // no model, no plan: fail closed
        assertThatThrownBy(() -> app.approvals().decide("apr-nope", true, "operator:test", null))
                .isInstanceOf(WardenException.class).hasMessageContaining("not found");
        assertThatThrownBy(() -> app.approvals().list("maybe", 10)).hasMessageContaining("state");
    }

    @Test
    void apiSourceTakesMessagesFromThePayload() {
        ObjectNode payload = Json.object().put("source", "api").put("execute", true);
        payload.putArray("messages").addObject().put("id", "m1").put("subject", "hello").put("body", "just saying hi");
        JobRow done = awaitState(enqueue(spec(payload)).id(), JobState.succeeded);
        JsonNode m = message(Json.parse(done.result()), "m1");
        assertThat(action(m, "label").path("outcome").asText()).isEqualTo("executed");
        assertThat(action(m, "reply_draft").path("outcome").asText()).isEqualTo("executed");
    }

    private CliRun cli(String... args) {
        if (storeUrl().isEmpty()) {
            return CliRun.in(app.dataDir(), args);
        }
        String[] full = new String[args.length + 2];
        full[0] = "--store";
        full[1] = storeUrl().get();
        System.arraycopy(args, 0, full, 2, args.length);
        return CliRun.in(app.dataDir(), full);
    }

    @Test
    void theCliListsShowsAndDecidesRequests() {
        JobRow job = enqueue(spec(Json.object().put("source", "dir:" + inbox).put("execute", true)));
        awaitState(job.id(), JobState.escalated);
        String id = app.approvals().list(Approvals.PENDING, 10).get(0).id();
        CliRun list = cli("approvals", "list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains(id).contains("pending").contains("rotate_secret");
        CliRun show = cli("approvals", "show", id);
        assertThat(show.code()).isZero();
        assertThat(Json.parse(show.out()).path("reasons").toString()).contains("touches_secrets");
        assertThat(cli("approvals", "list", "--state", "maybe").code()).isEqualTo(2);
        assertThat(cli("approvals", "approve", "apr-nope").code()).isEqualTo(3);
        CliRun reject = cli("approvals", "reject", id, "--note", "rotate it yourself");
        assertThat(reject.code()).as(reject.err()).isZero();
        assertThat(reject.out()).contains("rejected");
        CliRun again = cli("approvals", "approve", id);
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already rejected");
        pool.wakeUp();
        JobRow done = awaitState(job.id(), JobState.succeeded);
        assertThat(action(message(Json.parse(done.result()), "02-creds.txt"), "rotate_secret").path("outcome").asText())
                .isEqualTo("rejected");
        assertThat(cli("approvals", "list", "--state", "all", "--json").out()).contains("rotate it yourself");
    }

    @Test
    void theTriageCommandPrintsThePlanAndRefusesBadFlags() {
        CliRun dry = cli("triage", "--source", "dir:" + inbox);
        assertThat(dry.code()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("dry run").contains("02-creds.txt").contains("rotate_secret")
                .contains("would_escalate").contains("touches_secrets");
        assertThat(app.approvals().list(null, 10)).isEmpty();
        CliRun exec = cli("triage", "--source", "dir:" + inbox, "--execute");
        assertThat(exec.code()).as(exec.err()).isZero();
        assertThat(exec.out()).contains("escalated").contains("pending_approval").contains("1 action(s) wait for approval");
        assertThat(cli("triage", "--source", "dir:" + inbox, "--execute", "--dry-run").err()).contains("choose one");
        assertThat(cli("triage", "--source", "mailbox").err()).contains("--source: must be dir:PATH or api:FILE");
        assertThat(cli("triage", "--source", "dir:" + dir.resolve("nope")).code()).isEqualTo(2);
        assertThat(cli("triage", "--source", "dir:" + inbox, "--rules", dir.resolve("none.json").toString()).err())
                .contains("--rules").contains("does not exist");
    }
}
