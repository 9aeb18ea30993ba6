package dev.warden.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.testing.TestWarden;
import dev.warden.worker.ExecHarness;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attempts to get a job's process to do more than its policy allows, each with the outcome it
 * must have: refused with the right reason before anything runs, or contained by the sandbox.
 * Real processes, real bubblewrap (Debian package {@code bubblewrap}).
 */
class EscapeBatteryTest {
    static final String SECRET = "sk-battery-SECRET-77e1d0c3b2a9";

    @TempDir
    Path data;

    @TempDir
    Path work;

    @TempDir
    Path readable;

    @TempDir
    Path elsewhere;

    WardenApp app;
    Sandbox bwrap;

    @BeforeEach
    void open() throws Exception {
        bwrap = Sandbox.Bwrap.find().orElseThrow(() -> new AssertionError(
                "bubblewrap is required for these tests: apt-get install bubblewrap"));
        Files.writeString(readable.resolve("key.txt"), SECRET + "\n");
        Files.writeString(readable.resolve("notes.txt"), "readable notes\n");
        app = TestWarden.open(data, Clock.systemUTC(), """
                secrets: {files: [%s]}
                policy:
                  exec:
                    allow:
                      - {path: /usr/bin/true}
                      - {path: /bin/sh}
                      - {path: /usr/bin/env}
                      - {path: /usr/bin/cat}
                      - {path: /usr/bin/python3}
                      - {path: /usr/bin/sleep}
                      - {path: /usr/bin/echo, args: ["hello", "world"]}
                  paths: {read: [%s, %s], write: [%s]}
                  budgets: {wall_time_s: 60, output_bytes: 1000000}
                """.formatted(readable.resolve("key.txt"), readable, work, work));
    }

    @AfterEach
    void close() {
        app.close();
    }

    private ObjectNode spec(String... allowed) {
        ObjectNode s = TestWarden.noop();
        ObjectNode policy = s.putObject("policy");
        ArrayNode allow = policy.putObject("exec").putArray("allow");
        for (String a : allowed) {
            if (a.startsWith("/usr/bin/echo")) {
                allow.addObject().put("path", "/usr/bin/echo").putArray("args").add("hello").add("world");
            } else {
                allow.addObject().put("path", a);
            }
        }
        policy.putObject("paths").putArray("read").add(readable.toString());
        ((ObjectNode) policy.get("paths")).putArray("write").add(work.toString());
        ((ObjectNode) s.get("budgets")).put("wall_time_s", 60).put("output_bytes", 200_000);
        return s;
    }

    private JobContext ctx(String... allowed) {
        return ExecHarness.contextFor(app, spec(allowed), Optional.of(bwrap));
    }

    private static ExecRequest req(String... argv) {
        return req(Path.of("/"), argv);
    }

    private static ExecRequest req(Path cwd, String... argv) {
        return new ExecRequest(List.of(argv), cwd, Map.of(), Duration.ofSeconds(20), 64 * 1024);
    }

    private ExecRequest inWork(String... argv) {
        return req(work, argv);
    }

    /** Asserts the act is refused as a policy denial naming {@code reason}, recorded in the ledger, and nothing ran. */
    private void denied(JobContext c, ExecRequest r, String reason) {
        assertThatThrownBy(() -> c.exec(r)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo("policy_denied");
            assertThat(f.getMessage()).contains(reason);
        });
        String ledger = ledger();
        assertThat(ledger).contains("policy.denied");
        assertThat(ledger).doesNotContain("exec.started");
    }

    private String ledger() {
        StringBuilder b = new StringBuilder();
        app.store().read(tx -> tx.ledgerTail(10_000)).forEach(r -> b.append(r.entry()).append('\n'));
        return b.toString();
    }

    // ------------------------------------------------------------------ shell strings and metacharacters

    @Test
    void shellCommandLineAsExecutableIsRefused() {
        denied(ctx("/bin/sh"), inWork("ls -la /"), "looks like a shell command line");
    }

    @Test
    void shDashCStringAsExecutableIsRefused() {
        denied(ctx("/bin/sh"), inWork("/bin/sh -c 'cat /etc/shadow'"), "looks like a shell command line");
    }

    @Test
    void semicolonChainingIsRefused() {
        denied(ctx("/usr/bin/true"), inWork("true;id"), "looks like a shell command line");
    }

    @Test
    void commandSubstitutionIsRefused() {
        denied(ctx("/usr/bin/true"), inWork("$(id)"), "looks like a shell command line");
    }

    @Test
    void backticksAreRefused() {
        denied(ctx("/usr/bin/true"), inWork("`id`"), "looks like a shell command line");
    }

    @Test
    void pipeIsRefused() {
        denied(ctx("/usr/bin/cat"), inWork("cat|sh"), "looks like a shell command line");
    }

    @Test
    void redirectionIsRefused() {
        denied(ctx("/usr/bin/echo"), inWork("echo>/etc/passwd"), "looks like a shell command line");
    }

    @Test
    void backgroundAmpersandIsRefused() {
        denied(ctx("/usr/bin/true"), inWork("true&"), "looks like a shell command line");
    }

    @Test
    void nulByteInAnArgumentIsRefused() {
        denied(ctx("/usr/bin/true"), inWork("true", "a\0b"), "NUL byte");
    }

    @Test
    void emptyArgvIsRefused() {
        denied(ctx("/usr/bin/true"), new ExecRequest(List.of(), work, Map.of(), Duration.ofSeconds(1), 100), "argv is empty");
    }

    // ------------------------------------------------------------------ resolution and the allowlist

    @Test
    void pathResolvedExecutableNotInAllowlistIsRefusedNamingTheResolvedPath() {
        denied(ctx("/usr/bin/true"), inWork("id"), "executable /usr/bin/id (from 'id') is not in exec.allow");
    }

    @Test
    void pathResolvedAllowedExecutableRuns() {
        ExecResult r = ctx("/usr/bin/true").exec(inWork("true"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.executable()).isEqualTo("/usr/bin/true");
        assertThat(r.isolation()).isEqualTo("bwrap");
    }

    @Test
    void relativeExecutableIsResolvedAgainstTheWorkDirAndRefused() throws Exception {
        Path script = work.resolve("tool.sh");
        Files.writeString(script, "#!/bin/sh\necho pwned\n");
        script.toFile().setExecutable(true);
        denied(ctx("/bin/sh"), inWork("./tool.sh"), work.toRealPath().resolve("tool.sh") + " (from './tool.sh') is not in exec.allow");
    }

    @Test
    void symlinkNamedLikeAnAllowedProgramIsJudgedByItsTarget() throws Exception {
        Files.createSymbolicLink(work.resolve("true"), Path.of("/usr/bin/id"));
        denied(ctx("/usr/bin/true"), inWork(work.resolve("true").toString()), "/usr/bin/id");
    }

    @Test
    void symlinkToAnAllowedProgramRunsAsThatProgram() throws Exception {
        Files.createSymbolicLink(work.resolve("mytrue"), Path.of("/usr/bin/true"));
        ExecResult r = ctx("/usr/bin/true").exec(inWork("./mytrue"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.executable()).isEqualTo("/usr/bin/true");
    }

    @Test
    void argumentPatternsAreEnforced() {
        assertThat(ctx("/usr/bin/echo").exec(inWork("echo", "hello", "world")).stdout()).isEqualTo("hello world\n");
        assertThatThrownBy(() -> ctx("/usr/bin/echo").exec(inWork("echo", "hello", "rm")))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.getMessage())
                        .contains("arguments [hello, rm] do not match the argument patterns allowed for /usr/bin/echo"));
    }

    @Test
    void directoryAsExecutableIsNotFound() {
        denied(ctx("/usr/bin/true"), inWork("/usr/bin"), "not found");
    }

    @Test
    void jobAskingForAnExecutableTheOperatorDoesNotAllowIsRefusedAtEnqueue() {
        assertThatThrownBy(() -> app.parser().parse(spec("/usr/bin/curl")))
                .isInstanceOfSatisfying(WardenException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.POLICY_DENIED);
                    assertThat(e.getMessage()).contains("exec.allow: /usr/bin/curl not allowed by operator policy");
                });
    }

    // ------------------------------------------------------------------ working directory

    @Test
    void workingDirectoryOutsideWriteRootsIsRefused() {
        denied(ctx("/usr/bin/true"), req(readable, "true"), "is not inside paths.write");
    }

    @Test
    void dotDotOutOfTheWorkDirIsRefused() {
        denied(ctx("/usr/bin/true"), req(work.resolve(".."), "true"), "is not inside paths.write");
    }

    @Test
    void symlinkedWorkingDirectoryPointingOutsideIsRefused() throws Exception {
        Files.createSymbolicLink(work.resolve("out"), elsewhere);
        denied(ctx("/usr/bin/true"), req(work.resolve("out"), "true"), "is not inside paths.write");
    }

    // ------------------------------------------------------------------ environment

    @Test
    void ldPreloadIsRefused() {
        denied(ctx("/usr/bin/true"), new ExecRequest(List.of("true"), work, Map.of("LD_PRELOAD", "/tmp/evil.so"),
                Duration.ofSeconds(5), 1000), "LD_PRELOAD may not be set");
    }

    @Test
    void pathOverrideIsRefused() {
        denied(ctx("/usr/bin/true"), new ExecRequest(List.of("true"), work, Map.of("PATH", work.toString()),
                Duration.ofSeconds(5), 1000), "PATH may not be set");
    }

    @Test
    void interpreterInjectionVariablesAreRefused() {
        denied(ctx("/usr/bin/python3"), new ExecRequest(List.of("python3", "-V"), work, Map.of("PYTHONSTARTUP", "/x.py"),
                Duration.ofSeconds(5), 1000), "PYTHONSTARTUP may not be set");
    }

    @Test
    void childSeesOnlyTheFixedBaseAndWhatTheJobAskedFor() {
        ExecResult r = ctx("/usr/bin/env").exec(new ExecRequest(List.of("env"), work, Map.of("GREETING", "hi"),
                Duration.ofSeconds(10), 10_000));
        List<String> names = r.stdout().lines().map(l -> l.substring(0, l.indexOf('='))).sorted().toList();
        assertThat(names).containsExactly("GREETING", "HOME", "LANG", "PATH", "PWD", "TMPDIR");
        assertThat(r.stdout()).contains("GREETING=hi", "PATH=/usr/local/bin:/usr/bin:/bin");
    }

    // ------------------------------------------------------------------ containment by the sandbox

    @Test
    void writingOutsideTheWorkDirFails() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "echo x > " + elsewhere.resolve("pwned")));
        assertThat(r.exitCode()).isNotZero();
        assertThat(elsewhere.resolve("pwned")).doesNotExist();
    }

    @Test
    void systemDirectoriesAreReadOnly() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "echo x > /usr/pwned"));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Read-only file system");
        // /etc inside the sandbox is bwrap's own scratch root: a write there never reaches the host
        ctx("/bin/sh").exec(inWork("sh", "-c", "touch /etc/pwned"));
        assertThat(Path.of("/usr/pwned")).doesNotExist();
        assertThat(Path.of("/etc/pwned")).doesNotExist();
    }

    @Test
    void readRootsAreReadOnlyInsideTheSandbox() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "echo changed > " + readable.resolve("notes.txt")));
        assertThat(r.exitCode()).isNotZero();
    }

    @Test
    void writingInsideTheWorkDirWorks() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "echo made > out.txt"));
        assertThat(r.exitCode()).isZero();
        assertThat(work.resolve("out.txt")).hasContent("made");
    }

    @Test
    void tmpIsPrivate() throws Exception {
        String name = "warden-private-" + System.nanoTime();
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "echo x > /tmp/" + name + " && cat /tmp/" + name));
        assertThat(r.exitCode()).isZero();
        assertThat(Path.of("/tmp", name)).doesNotExist();
    }

    @Test
    void filesOutsideTheGrantedRootsAreInvisible() throws Exception {
        Files.writeString(elsewhere.resolve("private.txt"), "host secret\n");
        ExecResult r = ctx("/usr/bin/cat").exec(inWork("cat", elsewhere.resolve("private.txt").toString()));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stdout()).doesNotContain("host secret");
    }

    @Test
    void homeDirectoryOfTheHostIsInvisible() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "ls /root /home 2>&1; ls " + data));
        assertThat(r.stdout()).doesNotContain("warden.db", "console.token");
    }

    @Test
    void grantedReadRootIsReadable() {
        ExecResult r = ctx("/usr/bin/cat").exec(inWork("cat", readable.resolve("notes.txt").toString()));
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).isEqualTo("readable notes\n");
    }

    @Test
    void loopbackConnectionFromInsideTheSandboxFails() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    server.accept().close();
                    accepted.incrementAndGet();
                } catch (Exception ignored) {
                    // closed at the end of the test
                }
            });
            ExecResult r = ctx("/usr/bin/python3").exec(inWork("python3", "-c",
                    "import socket; socket.create_connection(('127.0.0.1', " + server.getLocalPort() + "), 2); print('connected')"));
            assertThat(r.exitCode()).isNotZero();
            assertThat(r.stdout()).doesNotContain("connected");
            assertThat(accepted.get()).isZero();
            server.close();
            acceptor.join(2000);
        }
    }

    @Test
    void capabilitiesAreDropped() {
        ExecResult r = ctx("/usr/bin/cat").exec(inWork("cat", "/proc/self/status"));
        assertThat(r.stdout()).containsPattern("CapEff:\\s+0000000000000000");
    }

    @Test
    void processesSeeTheirOwnPidNamespace() {
        ExecResult r = ctx("/bin/sh").exec(inWork("sh", "-c", "ls /proc | grep -c '^[0-9]'"));
        assertThat(Integer.parseInt(r.stdout().strip())).isLessThan(10);
    }

    // ------------------------------------------------------------------ output, time and process trees

    @Test
    void outputFloodIsCappedWithAMarker() {
        ExecResult r = ctx("/bin/sh").exec(new ExecRequest(List.of("sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x"),
                work, Map.of(), Duration.ofSeconds(20), 10_000));
        assertThat(r.truncated()).isTrue();
        assertThat(r.stdoutBytes()).isEqualTo(5_000_000);
        assertThat(r.stdout()).endsWith("[warden: output truncated, 4990000 more bytes not kept]");
    }

    @Test
    void timeoutKillsTheWholeTreeIncludingChildrenIgnoringSigterm() throws Exception {
        String marker = "4242.4242";
        ExecResult r = ctx("/bin/sh").exec(new ExecRequest(List.of("sh", "-c",
                "trap '' TERM; (trap '' TERM; sleep " + marker + ") & (sleep " + marker + " &) ; sleep " + marker),
                work, Map.of(), Duration.ofSeconds(1), 1000));
        assertThat(r.timedOut()).isTrue();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.allProcesses()
                .noneMatch(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false)));
    }

    @Test
    void plantedSecretIsScrubbedFromCapturedOutputAndTheLedger() {
        ExecResult r = ctx("/usr/bin/cat").exec(inWork("cat", readable.resolve("key.txt").toString()));
        assertThat(r.stdout()).isEqualTo("[secret]\n");
        assertThat(ledger()).doesNotContain(SECRET);
    }

    // ------------------------------------------------------------------ isolation

    @Test
    void missingBubblewrapFailsClosed() {
        JobContext c = ExecHarness.contextFor(app, spec("/usr/bin/true"), Optional.empty());
        assertThatThrownBy(() -> c.exec(inWork("true"))).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo("isolation_unavailable");
            assertThat(f.getMessage()).contains("bubblewrap");
        });
        assertThat(ledger()).contains("exec.refused").doesNotContain("exec.started");
    }

    @Test
    void unisolatedRunsAreRecordedAsSuch() {
        JobContext c = ExecHarness.contextFor(app, spec("/usr/bin/true"), Optional.of(new Sandbox.None()));
        ExecResult r = c.exec(inWork("true"));
        assertThat(r.isolation()).isEqualTo("none");
        assertThat(ledger()).contains("\"isolation\":\"none\"");
    }

    @Test
    void everyRunIsRecordedWithItsIsolationAndOutcome() {
        ctx("/usr/bin/true").exec(inWork("true"));
        String l = ledger();
        assertThat(l).contains("exec.started", "exec.finished", "\"isolation\":\"bwrap\"", "\"exit_code\":0");
    }

    static {
        Json.object(); // load Jackson before the first timed act
    }
}
