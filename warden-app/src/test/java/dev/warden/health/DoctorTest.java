package dev.warden.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.policy.OperatorPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each doctor check's verdicts, one function at a time. */
class DoctorTest {
    @TempDir
    Path dir;

    static final long GIB = 1L << 30;

    @Test
    void diskPressureByAbsoluteAndRelativeFreeSpace() {
        Path d = Path.of("/data");
        assertThat(Doctor.disk(d, 100 * GIB, 500 * GIB).level()).isEqualTo(Doctor.Level.PASS);
        assertThat(Doctor.disk(d, 30 * GIB, 500 * GIB).level()).as("6 %").isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.disk(d, GIB, 8 * GIB).level()).as("1 GiB").isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.disk(d, 5 * GIB, 500 * GIB).level()).as("1 %").isEqualTo(Doctor.Level.FAIL);
        Doctor.Check low = Doctor.disk(d, 100L << 20, 4 * GIB);
        assertThat(low.level()).isEqualTo(Doctor.Level.FAIL);
        assertThat(low.message()).contains("100 MiB free of 4.0 GiB");
        assertThat(low.remedy()).isNotEmpty();
    }

    @Test
    void consoleBindIsLoopbackExposedOrRefused() {
        assertThat(Doctor.consoleBind("127.0.0.1", false).level()).isEqualTo(Doctor.Level.PASS);
        assertThat(Doctor.consoleBind("::1", false).level()).isEqualTo(Doctor.Level.PASS);
        assertThat(Doctor.consoleBind("0.0.0.0", true).level()).isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.consoleBind("0.0.0.0", false).level()).isEqualTo(Doctor.Level.FAIL);
    }

    @Test
    void dataDirAndTokenPermissions() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        assertThat(Doctor.dataDir(d).level()).isEqualTo(Doctor.Level.PASS);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(Doctor.dataDir(d).level()).isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.dataDir(d).remedy()).isEqualTo("chmod 700 " + d);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwx---"));
        assertThat(Doctor.dataDir(d).level()).isEqualTo(Doctor.Level.FAIL);
        Path token = Files.writeString(dir.resolve("console.token"), "wdn_x");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Doctor.consoleToken(token).level()).isEqualTo(Doctor.Level.FAIL);
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        assertThat(Doctor.consoleToken(token).level()).isEqualTo(Doctor.Level.PASS);
        assertThat(Doctor.consoleToken(dir.resolve("none")).level()).isEqualTo(Doctor.Level.PASS);
    }

    @Test
    void keysAreShownMaskedAndMissingOnesFail() {
        List<String> errors = new ArrayList<>();
        ModelsConfig m = ModelsConfig.parse(Json.parse("""
                {"providers": [{"id": "a", "base_url": "https://a.example/v1", "key": "env:A_KEY"},
                               {"id": "b", "base_url": "https://b.example/v1", "key": "env:B_KEY"}]}"""), errors);
        assertThat(errors).isEmpty();
        String a = "sk-test-aaaaaaaaaaaaaaaaaaaa1234";
        Doctor.Check both = Doctor.keys(m, new ProviderKeys(Map.of("A_KEY", a, "B_KEY", "sk-test-bbbbbbbbbbbbbbbbbbbb9876")::get));
        assertThat(both.level()).isEqualTo(Doctor.Level.PASS);
        assertThat(both.message()).isEqualTo("a: sk-…1234; b: sk-…9876").doesNotContain(a);
        Doctor.Check missing = Doctor.keys(m, new ProviderKeys(Map.of("A_KEY", a)::get));
        assertThat(missing.level()).isEqualTo(Doctor.Level.FAIL);
        assertThat(missing.message()).contains("b (env:B_KEY)");
    }

    @Test
    void bubblewrapMissingFailsClosedAndIsolationNoneWarns() {
        assertThat(Doctor.bubblewrap(Optional.empty(), OperatorPolicy.Isolation.bwrap).level()).isEqualTo(Doctor.Level.FAIL);
        assertThat(Doctor.bubblewrap(Optional.empty(), OperatorPolicy.Isolation.none).level()).isEqualTo(Doctor.Level.WARN);
        dev.warden.exec.Sandbox.Bwrap.find().ifPresent(b ->
                assertThat(Doctor.bubblewrap(Optional.of(b), OperatorPolicy.Isolation.bwrap).level()).isEqualTo(Doctor.Level.PASS));
    }

    @Test
    void providersWorkersVramAndTheExitCode() {
        assertThat(Doctor.providers(List.of()).level()).isEqualTo(Doctor.Level.PASS);
        assertThat(Doctor.providers(List.of(new ProviderProbes.Probe("x", ProviderProbes.State.DEGRADED, "transient_quota", 1, "HTTP 429")))
                .level()).isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.providers(List.of(new ProviderProbes.Probe("x", ProviderProbes.State.DOWN, "transient_network", 1, "refused")))
                .level()).isEqualTo(Doctor.Level.FAIL);
        assertThat(Doctor.workers(new WorkerHealth(0, 0, 1, 0, 0)).level()).isEqualTo(Doctor.Level.WARN);
        assertThat(Doctor.workers(new WorkerHealth(2, 0, 0, 0, 0)).level()).isEqualTo(Doctor.Level.PASS);
        VramGuard.Verdict below = VramGuard.verdict(VramGuard.parse("24576, 24000\n"), 4000, false);
        assertThat(Doctor.vram("gpu", below).remedy()).contains("slots_require_vram.gpu.min_free_mb");
        Doctor.Report r = new Doctor.Report(List.of(Doctor.Check.pass("a", ""), Doctor.Check.warn("b", "", "x")));
        assertThat(r.exitCode()).isEqualTo(10);
        assertThat(new Doctor.Report(List.of(Doctor.Check.fail("c", "", "y"), Doctor.Check.warn("b", "", "x"))).exitCode()).isEqualTo(20);
        assertThat(new Doctor.Report(List.of(Doctor.Check.pass("a", ""))).exitCode()).isZero();
    }
}
