package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import java.nio.file.Files;
import dev.warden.testing.CliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line, in process: exit codes and one clear line on stderr for every expected error. */
class CliTest {
    @TempDir
    Path dir;

    CliRun warden(String... args) {
        return CliRun.in(dir.resolve("data"), args);
    }

    Path spec(String json) throws Exception {
        Path f = Files.createTempFile(dir, "spec", ".json");
        Files.writeString(f, json);
        return f;
    }

    static void assertNoStackTrace(CliRun r) {
        assertThat(r.err()).doesNotContain("\tat ", "Exception:");
    }

    @Test
    void enqueuePrintsTheIdAloneAndJsonOnRequest() throws Exception {
        Path f = spec("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}");
        CliRun r = warden("enqueue", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).matches("job-[0-9a-z]{26}");
        CliRun j = warden("enqueue", "--json", f.toString());
        assertThat(Json.parse(j.out()).path("state").asText()).isEqualTo("queued");
        CliRun show = warden("jobs", "show", "--json", r.out().strip());
        assertThat(show.code()).isZero();
        assertThat(Json.parse(show.out()).path("id").asText()).isEqualTo(r.out().strip());
        for (String field : new String[] {"id", "kind", "project", "state", "attempts", "max_attempts", "priority",
                "created_at", "updated_at", "labels", "result", "error"}) {
            assertThat(Json.parse(show.out()).has(field)).as(field).isTrue();
        }
        CliRun list = warden("jobs", "list", "--state", "queued", "--json");
        assertThat(Json.parse(list.out()).size()).isEqualTo(2);
        Path labelled = spec("{\"kind\":\"noop\",\"labels\":{\"team\":\"infra\",\"app.io/name\":\"x\"},"
                + "\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}");
        String lid = warden("enqueue", labelled.toString()).out().strip();
        CliRun byLabel = warden("jobs", "list", "--label", "team=infra", "--label", "app.io/name=x", "--json");
        assertThat(Json.parse(byLabel.out())).singleElement().satisfies(x -> assertThat(x.path("id").asText()).isEqualTo(lid));
        assertThat(Json.parse(warden("jobs", "list", "--label", "team=web", "--json").out())).isEmpty();
    }

    @Test
    void malformedJsonIsBadInput() throws Exception {
        CliRun r = warden("enqueue", spec("{\"kind\": \"noop\",").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("warden: malformed JSON at line 1");
        assertNoStackTrace(r);
    }

    @Test
    void everySchemaViolationIsListedWithItsField() throws Exception {
        CliRun r = warden("enqueue", spec("""
                {"kind":"noop","priority":"high","extra":true,
                 "budgets":{"wall_time_s":5,"output_bytes":-1},
                 "policy":{"paths":{"read":["relative/dir"]}}}
                """).toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("extra: unknown field", "priority: string found, integer expected",
                "budgets.tool_calls: required field is missing", "budgets.output_bytes: must have a minimum value of 0",
                "policy.paths.read[0]: does not match the regex pattern");
        assertNoStackTrace(r);
    }

    @Test
    void missingBudgetsAndUnknownKindAreNamed() throws Exception {
        CliRun r = warden("enqueue", spec("{\"kind\":\"telepathy\"}").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("budgets: required field is missing",
                "kind: 'telepathy' is not a registered kind (one of repo_index, test_runner, doc_compactor, noop, triage)");
    }

    @Test
    void payloadViolationsArePrefixedWithPayload() throws Exception {
        CliRun r = warden("enqueue", spec("""
                {"kind":"repo_index","payload":{"repo":"/srv","patterns":["(unclosed"],"max_files":0},
                 "budgets":{"wall_time_s":5,"tool_calls":0,"output_bytes":10}}
                """).toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("payload.max_files: must have a minimum value of 1");
        CliRun r2 = warden("enqueue", spec("""
                {"kind":"repo_index","payload":{"repo":"/srv","patterns":["(unclosed"]},
                 "budgets":{"wall_time_s":5,"tool_calls":0,"output_bytes":10}}
                """).toString());
        assertThat(r2.err()).contains("payload.patterns[0]: not a valid regular expression");
    }

    @Test
    void pathOutsideTheAllowlistIsDeniedWithExitFour() throws Exception {
        CliRun r = warden("enqueue", spec("""
                {"kind":"repo_index","payload":{"repo":"/etc","patterns":["x"]},
                 "policy":{"paths":{"read":["/etc"]},"repos":["/etc"]},
                 "budgets":{"wall_time_s":5,"tool_calls":0,"output_bytes":10}}
                """).toString());
        assertThat(r.code()).isEqualTo(4);
        assertThat(r.err()).contains("paths.read: /etc not allowed by operator policy", "repos: /etc not allowed by operator policy");
        CliRun r2 = warden("enqueue", spec("""
                {"kind":"repo_index","payload":{"repo":"%s","patterns":["x"]},
                 "budgets":{"wall_time_s":5,"tool_calls":0,"output_bytes":10}}
                """.formatted(dir.resolve("data"))).toString());
        assertThat(r2.code()).as(r2.err()).isEqualTo(4);
        assertThat(r2.err()).contains("payload.repo: " + dir.resolve("data") + " is not in the job's policy repos");
        CliRun r3 = warden("enqueue", spec("""
                {"kind":"noop","budgets":{"wall_time_s":7200,"tool_calls":0,"output_bytes":10}}
                """).toString());
        assertThat(r3.code()).isEqualTo(4);
        assertThat(r3.err()).contains("budgets.wall_time_s: 7200 exceeds operator limit 3600");
        assertThat(warden("jobs", "list", "--json").out().strip()).as("nothing half-written").isEqualTo("[ ]");
    }

    @Test
    void notFoundUsageAndTimeoutExitCodes() throws Exception {
        assertThat(warden("jobs", "show", "job-nope").code()).isEqualTo(3);
        assertThat(warden("enqueue", dir.resolve("missing.json").toString()).code()).isEqualTo(2);
        CliRun usage = warden("jobs", "frobnicate");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("Unmatched argument");
        assertThat(warden("killswitch", "maybe").code()).isEqualTo(2);
        assertThat(warden("jobs", "list", "--state", "sleeping").err()).contains("state: 'sleeping' is not one of");
        String id = warden("enqueue", spec("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}").toString()).out().strip();
        CliRun wait = warden("jobs", "wait", id, "--timeout", "0.2");
        assertThat(wait.code()).isEqualTo(124);
        assertThat(wait.err()).contains("timed out waiting for " + id);
    }

    @Test
    void workerOnceRunsDueJobsAndWaitReportsSuccess() throws Exception {
        String ok = warden("enqueue", spec("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}").toString()).out().strip();
        String bad = warden("enqueue", spec("{\"kind\":\"noop\",\"payload\":{\"fail\":\"permanent\"},\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}").toString()).out().strip();
        CliRun w = warden("worker", "--once");
        assertThat(w.code()).isZero();
        assertThat(w.out()).contains("ran 2 job(s)");
        assertThat(warden("jobs", "wait", ok).code()).isZero();
        CliRun failed = warden("jobs", "wait", bad);
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.out()).contains("failed (noop_failed)");
        assertThat(warden("jobs", "retry", bad).code()).isZero();
        assertThat(warden("evidence", ok).out().strip()).isEqualTo(dir.resolve("data/evidence/" + ok).toString());
        assertThat(warden("ledger", "verify").out()).startsWith("ledger OK");
    }

    @Test
    void schedulesCommands() throws Exception {
        Path f = spec("{\"kind\":\"noop\",\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":10}}");
        CliRun add = warden("schedules", "add", "nightly", "--cron", "0 3 * * *", "--spec", f.toString());
        assertThat(add.code()).as(add.err()).isZero();
        assertThat(add.out()).contains("added (disabled");
        assertThat(warden("schedules", "enable", "nightly").out()).contains("next fire 20");
        assertThat(Json.parse(warden("schedules", "list", "--json").out()).get(0).path("enabled").asBoolean()).isTrue();
        assertThat(warden("schedules", "add", "bad", "--cron", "every day", "--spec", f.toString()).code()).isEqualTo(2);
        assertThat(warden("schedules", "enable", "ghost").code()).isEqualTo(3);
        assertThat(warden("schedules", "remove", "nightly").code()).isZero();
        assertThat(Json.parse(warden("schedules", "list", "--json").out())).isEmpty();
    }

    @Test
    void killSwitchCommandAndWorkerRefusal() {
        assertThat(warden("killswitch", "on").out()).contains("killswitch=ON");
        assertThat(dir.resolve("data/KILL_SWITCH")).exists();
        CliRun w = warden("worker", "--once");
        assertThat(w.code()).isEqualTo(5);
        assertThat(warden("killswitch", "off").out()).contains("killswitch=OFF");
        assertThat(warden("killswitch", "status").out()).contains("killswitch=OFF");
    }

    @Test
    void ledgerCheckpointAndVerifyAgainstIt() throws Exception {
        warden("killswitch", "on");
        Path cp = dir.resolve("cp.json");
        assertThat(warden("ledger", "checkpoint", "--out", cp.toString()).code()).isZero();
        CliRun v = warden("ledger", "verify", "--checkpoint", cp.toString());
        assertThat(v.code()).isZero();
        assertThat(v.out()).contains("consistent with checkpoint");
        CliRun noDir = warden("ledger", "checkpoint", "--out", dir.resolve("missing/dir/cp.json").toString());
        assertThat(noDir.code()).isEqualTo(2);
        assertThat(noDir.err()).contains("--out: cannot write");
        assertNoStackTrace(noDir);
        Files.writeString(cp, "{\"nope\":1}");
        CliRun bad = warden("ledger", "verify", "--checkpoint", cp.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(warden("ledger", "tail", "-n", "1").out()).contains("\"event\":\"ledger.checkpoint\"");
    }

    @Test
    void invalidConfigRefusesToStartListingEveryViolation() throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/warden.yaml"), """
                policy:
                  isolation: chroot
                  paths: {read: [relative]}
                slots: {gpu: -1}
                surprise: true
                """);
        CliRun r = warden("jobs", "list");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("refusing to start", "policy.isolation", "policy.paths.read[0]", "slots.gpu",
                "surprise: unknown field");
        assertNoStackTrace(r);
    }

    @Test
    void jobsWatchFollowsABatchToTheEnd() throws Exception {
        Path noop = spec("{\"kind\":\"noop\",\"labels\":{\"batch\":\"b1\"},\"budgets\":{\"wall_time_s\":5,\"tool_calls\":0,\"output_bytes\":100}}");
        for (int i = 0; i < 3; i++) {
            assertThat(warden("enqueue", noop.toString()).code()).isZero();
        }
        CliRun before = warden("jobs", "watch", "--label", "batch=b1", "--once");
        assertThat(before.code()).isZero();
        assertThat(before.out()).contains("queued=3").contains("[........................................] 0/3 (0%)");
        assertThat(warden("worker", "--once").code()).isZero();
        CliRun after = warden("jobs", "watch", "--label", "batch=b1", "--interval-ms", "50");
        assertThat(after.code()).isZero();
        assertThat(after.out()).contains("succeeded=3").contains("] 3/3 (100%)");
        CliRun bad = warden("jobs", "watch", "--interval-ms", "1");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--interval-ms: must be between 50 and 60000");
    }
}
