package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.health.FakeNvidiaSmi;
import dev.warden.store.Tx;
import dev.warden.testing.TestWarden;
import dev.warden.testing.WebhookReceiver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** canary, doctor, notify test, vram-guard and systemd install from the command line: output, exit codes, files. */
class OpsCliTest {
    static final String KEY = "sk-opscli-planted-abcdefgh12345678";
    /** SPEC section 11, exactly. */
    static final String CANARY_LINE = "CANARY status=(OK|DEGRADED|FAIL) store=\\S+ workers=\\S+ models=\\S+ ledger=\\S+ "
            + "killswitch=(ON|OFF) ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z";

    @TempDir
    Path dir;

    WebhookReceiver receiver = new WebhookReceiver();

    @AfterEach
    void stop() {
        receiver.close();
    }

    record Run(int code, String out, String err) {}

    Run warden(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> full = new ArrayList<>(List.of("--data-dir", data().toString()));
        full.addAll(List.of(args));
        int code = Main.execute(full.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    Path data() {
        return dir.resolve("data");
    }

    void config(String yaml) throws Exception {
        Files.createDirectories(data());
        Files.writeString(data().resolve("warden.yaml"), yaml);
    }

    /** Registers a live worker process, as a running 'warden up' would. */
    void liveWorker() {
        try (WardenApp app = TestWarden.open(data(), Clock.systemUTC(), null)) {
            long now = System.currentTimeMillis();
            app.store().write(tx -> {
                tx.putWorker(new Tx.WorkerRow("node:1:w", "node", 1, 4, now, now, null));
                return null;
            });
        }
    }

    @Test
    void canaryPrintsOneLineAppendsTheLogAndExitsByStatus() throws Exception {
        liveWorker();
        Run ok = warden("canary");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out().strip()).matches(CANARY_LINE)
                .startsWith("CANARY status=OK store=ok workers=ok models=none ledger=ok killswitch=OFF ts=");
        assertThat(ok.out().lines()).hasSize(1);
        warden("killswitch", "on");
        Run degraded = warden("canary");
        assertThat(degraded.code()).isEqualTo(10);
        assertThat(degraded.out()).contains("status=DEGRADED", "killswitch=ON");
        assertThat(degraded.err()).contains("canary: killswitch: ON");
        assertThat(Files.readAllLines(data().resolve("canary.log"))).hasSize(2)
                .allSatisfy(l -> assertThat(l).matches(CANARY_LINE));
        Run tail = warden("ledger", "tail", "-n", "20");
        assertThat(tail.out().lines().filter(l -> l.contains("\"event\":\"canary.run\""))).hasSize(2);
    }

    @Test
    void canaryFailNotifiesOnceWithinTheRateLimitAndDryRunPrintsInstead() throws Exception {
        config("notify: {webhooks: [{url: \"" + receiver.url("/canary") + "\", events: [canary.fail]}]}\n");
        Run dry = warden("canary", "--dry-run");
        assertThat(dry.code()).isEqualTo(20);
        assertThat(dry.out().strip()).startsWith("CANARY status=FAIL").contains("workers=none");
        assertThat(dry.err()).contains("NOTIFY dry-run POST " + receiver.url("") + "/…", "\"event\":\"canary.fail\"");
        assertThat(receiver.received()).isEmpty();

        Run first = warden("canary");
        assertThat(first.code()).isEqualTo(20);
        assertThat(first.err()).contains("canary: notified " + receiver.url("") + "/… (HTTP 204)");
        assertThat(receiver.received()).hasSize(1);
        JsonNode p = receiver.received().get(0).json();
        assertThat(p.path("event").asText()).isEqualTo("canary.fail");
        assertThat(p.path("check_id").asText()).isEqualTo("canary.fail:workers");
        assertThat(p.path("details").path("status").asText()).isEqualTo("FAIL");

        Run second = warden("canary");
        assertThat(second.code()).isEqualTo(20);
        assertThat(second.err()).contains("suppressed (rate limit)");
        assertThat(receiver.received()).as("rate-limited across processes via notify-state.json").hasSize(1);
        assertThat(warden("canary", "--no-notify").err()).doesNotContain("notif");
    }

    @Test
    void canaryStillReportsAndNotifiesWhenTheStoreCannotBeOpened() throws Exception {
        config("notify: {webhooks: [{url: \"" + receiver.url("/canary") + "\"}]}\n");
        Path notADir = dir.resolve("a-file");
        Files.writeString(notADir, "x");
        Run r = warden("--store", "sqlite:" + notADir.resolve("warden.db"), "canary");
        assertThat(r.code()).isEqualTo(20);
        assertThat(r.out().strip()).matches(CANARY_LINE)
                .startsWith("CANARY status=FAIL store=fail workers=unknown models=none ledger=unknown");
        assertThat(r.err()).contains("canary: store: cannot open").doesNotContain("\tat ");
        assertThat(receiver.received()).singleElement().satisfies(x ->
                assertThat(x.json().path("check_id").asText()).isEqualTo("canary.fail:store"));
        assertThat(Files.readString(data().resolve("logs/warden.log"))).contains("\"event\":\"canary.run\"", "\"recorded_in_ledger\":false");
    }

    @Test
    void doctorReportsEveryCheckWithRemediesAndExitCodes() throws Exception {
        Path key = dir.resolve("hosted.key");
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, KEY);
        config("""
                server: {bind: 0.0.0.0, allow_non_loopback: true}
                models:
                  providers:
                    - {id: hosted, base_url: "%s", key: "file:%s"}
                """.formatted(receiver.url("/v1"), key));
        liveWorker();
        Run r = warden("doctor", "--json");
        JsonNode j = Json.parse(r.out());
        List<String> names = new ArrayList<>();
        j.path("checks").forEach(c -> names.add(c.path("name").asText()));
        assertThat(names).containsExactly("store", "data_dir", "disk", "console_bind", "console_token", "keys", "providers",
                "bubblewrap", "workers", "ledger", "killswitch");
        assertThat(check(j, "console_bind").path("status").asText()).isEqualTo("WARN");
        assertThat(check(j, "console_bind").path("remedy").asText()).isNotEmpty();
        assertThat(check(j, "keys").path("message").asText()).contains("hosted: sk-…5678");
        assertThat(r.out()).doesNotContain(KEY);
        assertThat(check(j, "providers").path("status").asText()).isEqualTo("PASS");
        assertThat(check(j, "store").path("status").asText()).isEqualTo("PASS");
        assertThat(check(j, "ledger").path("status").asText()).isEqualTo("PASS");
        assertThat(j.path("status").asText()).isIn("WARN", "FAIL");
        assertThat(r.code()).isEqualTo(j.path("status").asText().equals("WARN") ? 10 : 20);

        Files.setPosixFilePermissions(data(), PosixFilePermissions.fromString("rwxrwxrwx"));
        Run text = warden("doctor");
        assertThat(text.code()).isEqualTo(20);
        assertThat(text.out()).containsPattern("FAIL +data_dir +.*writable by others")
                .contains("remedy: chmod 700 " + data());
        Files.setPosixFilePermissions(data(), PosixFilePermissions.fromString("rwx------"));
        config("server: {bind: 0.0.0.0}\n");
        Run bind = warden("doctor", "--json");
        assertThat(check(Json.parse(bind.out()), "console_bind").path("status").asText()).isEqualTo("FAIL");
        assertThat(bind.code()).isEqualTo(20);
    }

    static JsonNode check(JsonNode report, String name) {
        for (JsonNode c : report.path("checks")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + report);
    }

    @Test
    void notifyTestDeliversPrintsOrExplains() throws Exception {
        Run none = warden("notify", "test");
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).startsWith("warden: notify.webhooks: no webhook configured");
        config("notify: {webhooks: [{url: \"" + receiver.url("/t") + "\", events: [job.failed]}]}\n");
        Run ok = warden("notify", "test");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("delivered " + receiver.url("") + "/… HTTP 204");
        assertThat(receiver.received()).singleElement().satisfies(x -> assertThat(x.json().path("event").asText()).isEqualTo("notify.test"));
        Run dry = warden("notify", "test", "--event", "job.dead", "--dry-run");
        assertThat(dry.code()).isZero();
        assertThat(dry.out()).contains("NOTIFY dry-run POST", "\"event\":\"job.dead\"");
        assertThat(receiver.received()).hasSize(1);
        Run bogus = warden("notify", "test", "--event", "job.exploded");
        assertThat(bogus.code()).isEqualTo(2);
        assertThat(bogus.err()).contains("--event: 'job.exploded' is not one of");
        Run unsubscribed = warden("notify", "test", "--event", "canary.fail");
        assertThat(unsubscribed.code()).isEqualTo(2);
        receiver.answer(503);
        Run failed = warden("notify", "test");
        assertThat(failed.code()).isEqualTo(1);
        assertThat(failed.out()).contains("failed", "HTTP 503");
        config("notify: {webhooks: [{url: \"" + receiver.url("/t") + "\", events: [job.explode]}]}\n");
        Run badConfig = warden("notify", "test");
        assertThat(badConfig.code()).isEqualTo(2);
        assertThat(badConfig.err()).contains("notify.webhooks[0].events[0]: does not have a value in the enumeration");
    }

    @Test
    void vramGuardRejectsBadInputInProcess() {
        Run r = warden("vram-guard", "--min-free-mb", "-1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("warden: --min-free-mb: must be a non-negative integer (MiB), got -1\n");
        Run nan = warden("vram-guard", "--min-free-mb", "lots");
        assertThat(nan.code()).isEqualTo(2);
        assertThat(nan.err()).contains("--min-free-mb");
    }

    /** The real command in its own JVM with a fake nvidia-smi first on PATH (and none at all). */
    @Test
    void vramGuardFindsNvidiaSmiOnPath() throws Exception {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.printing(bin, "24576, 1024\n24576, 20000\n");
        Sub ok = sub(bin.toString(), "vram-guard", "--min-free-mb", "8000");
        assertThat(ok.code()).as(ok.out()).isZero();
        JsonNode v = Json.parse(ok.out());
        assertThat(v.path("ok").asBoolean()).isTrue();
        assertThat(v.path("gpu_count").asInt()).isEqualTo(2);
        assertThat(v.path("max_free_vram_mb").asLong()).isEqualTo(23552);
        Sub below = sub(bin.toString(), "vram-guard", "--min-free-mb", "30000");
        assertThat(below.code()).isEqualTo(10);
        assertThat(Json.parse(below.out()).path("reason").asText()).isEqualTo("BELOW_THRESHOLD");
        Sub missing = sub(dir.resolve("empty").toString(), "vram-guard");
        assertThat(missing.code()).isEqualTo(20);
        assertThat(Json.parse(missing.out()).path("reason").asText()).isEqualTo("NVIDIA_SMI_MISSING");
        Sub allowed = sub(dir.resolve("empty").toString(), "vram-guard", "--allow-no-nvidia-smi");
        assertThat(allowed.code()).isZero();
    }

    record Sub(int code, String out) {}

    Sub sub(String path, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.warden.cli.Main",
                "--data-dir", data().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", path);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Sub(p.exitValue(), out.strip());
    }

    @Test
    void systemdInstallWritesUserUnitsAndRefusesToOverwrite() throws Exception {
        Path units = dir.resolve("units");
        Path launcher = dir.resolve("checkout/warden");
        Run noUser = warden("systemd", "install", "--dir", units.toString());
        assertThat(noUser.code()).isEqualTo(2);
        assertThat(noUser.err()).contains("--user: required");
        Run r = warden("systemd", "install", "--user", "--dir", units.toString(), "--launcher", launcher.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + units.resolve("warden.service"), "wrote " + units.resolve("warden-canary.timer"),
                "systemctl --user enable --now warden-canary.timer");
        String service = Files.readString(units.resolve("warden.service"));
        assertThat(service).contains("ExecStart=\"" + launcher + "\" up", "Environment=\"WARDEN_DATA_DIR=" + data() + "\"",
                "WorkingDirectory=" + launcher.getParent(), "KillSignal=SIGTERM", "[Install]");
        assertThat(Files.readString(units.resolve("warden-canary.service"))).contains("ExecStart=\"" + launcher + "\" canary",
                "Type=oneshot", "SuccessExitStatus=10");
        assertThat(Files.readString(units.resolve("warden-canary.timer"))).contains("OnCalendar=", "Unit=warden-canary.service");
        assertThat(units.resolve("timers.target.wants")).as("the timer is not enabled").doesNotExist();

        Files.writeString(units.resolve("warden.service"), "# mine\n");
        Run again = warden("systemd", "install", "--user", "--dir", units.toString(), "--launcher", launcher.toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already exist", "--force");
        assertThat(Files.readString(units.resolve("warden.service"))).isEqualTo("# mine\n");
        Run forced = warden("systemd", "install", "--user", "--force", "--dir", units.toString(), "--launcher", launcher.toString());
        assertThat(forced.code()).isZero();
        assertThat(Files.readString(units.resolve("warden.service"))).contains("ExecStart=");

        Run pw = warden("--store", "postgresql://db:5432/warden?user=w&password=hunter2hunter2", "systemd", "install", "--user",
                "--force", "--dir", units.toString(), "--launcher", launcher.toString());
        assertThat(pw.code()).isEqualTo(2);
        assertThat(pw.err()).contains("carries a password").doesNotContain("hunter2");
    }

    @Test
    void helpListsTheOperationsCommands() {
        Run r = warden("--help");
        assertThat(r.out()).contains("canary", "doctor", "vram-guard", "notify", "systemd");
    }
}
