package dev.warden.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VRAM guard against fake nvidia-smi executables: real-format output, errors, garbage, missing. */
class VramGuardTest {
    @TempDir
    Path dir;

    VramGuard guardOnPath(Path bin) {
        return new VramGuard(VramGuard.findOnPath(bin.toString()), Duration.ofSeconds(5));
    }

    @Test
    void oneGpuWithEnoughFreeVramIsOk() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.printing(bin, "24576, 1024\n");
        VramGuard.Verdict v = guardOnPath(bin).check(8000, false);
        assertThat(v.ok()).isTrue();
        assertThat(v.reason()).isEqualTo(VramGuard.Reason.OK);
        assertThat(v.gpuCount()).isEqualTo(1);
        assertThat(v.maxFreeVramMb()).isEqualTo(23552L);
        JsonNode j = v.toJson();
        assertThat(j.fieldNames()).toIterable().containsExactly("ok", "reason", "message", "threshold_mb", "gpu_count", "max_free_vram_mb");
        assertThat(j.path("threshold_mb").asLong()).isEqualTo(8000);
    }

    @Test
    void multiGpuTakesTheLargestFreeAmount() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.printing(bin, "81920, 80000\n24576, 20000\n49140, 1\n");
        VramGuard.Verdict ok = guardOnPath(bin).check(49139, false);
        assertThat(ok.ok()).isTrue();
        assertThat(ok.gpuCount()).isEqualTo(3);
        assertThat(ok.maxFreeVramMb()).isEqualTo(49139L);
        VramGuard.Verdict below = guardOnPath(bin).check(49140, false);
        assertThat(below.ok()).isFalse();
        assertThat(below.reason()).isEqualTo(VramGuard.Reason.BELOW_THRESHOLD);
        assertThat(below.message()).contains("49139 MiB", "49140 MiB");
    }

    @Test
    void nonZeroExitIsAnErrorWithItsMessage() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.failing(bin);
        VramGuard.Verdict v = guardOnPath(bin).check(0, true);
        assertThat(v.ok()).isFalse();
        assertThat(v.reason()).isEqualTo(VramGuard.Reason.NVIDIA_SMI_ERROR);
        assertThat(v.message()).contains("exited with 9", "couldn't communicate with the NVIDIA driver");
        assertThat(v.maxFreeVramMb()).isNull();
        assertThat(v.toJson().get("max_free_vram_mb").isNull()).isTrue();
    }

    @Test
    void garbageIsAParseError() {
        for (String out : new String[] {"[N/A], [N/A]\n", "No devices were found\n", "", "24576\n", "1024, 24576\n", "24576, 1024, 7\n"}) {
            Path bin = dir.resolve("bin" + out.hashCode());
            FakeNvidiaSmi.printing(bin, out);
            VramGuard.Verdict v = guardOnPath(bin).check(0, true);
            assertThat(v.ok()).as(out).isFalse();
            assertThat(v.reason()).as(out).isEqualTo(VramGuard.Reason.PARSE_ERROR);
        }
    }

    @Test
    void missingNvidiaSmiBlocksUnlessAllowed() {
        Path empty = dir.resolve("empty");
        VramGuard g = guardOnPath(empty);
        assertThat(g.executable()).isEmpty();
        VramGuard.Verdict blocked = g.check(1000, false);
        assertThat(blocked.ok()).isFalse();
        assertThat(blocked.reason()).isEqualTo(VramGuard.Reason.NVIDIA_SMI_MISSING);
        VramGuard.Verdict allowed = g.check(1000, true);
        assertThat(allowed.ok()).isTrue();
        assertThat(allowed.reason()).isEqualTo(VramGuard.Reason.NVIDIA_SMI_MISSING);
        assertThat(allowed.gpuCount()).isZero();
    }

    @Test
    void aHangingNvidiaSmiIsKilledAtTheTimeout() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.script(bin, "#!/bin/sh\nexec sleep 30\n");
        VramGuard.Verdict v = new VramGuard(VramGuard.findOnPath(bin.toString()), Duration.ofMillis(300)).check(0, false);
        assertThat(v.reason()).isEqualTo(VramGuard.Reason.NVIDIA_SMI_ERROR);
        assertThat(v.message()).contains("did not answer");
    }

    @Test
    void pathLookupSkipsEmptyEntriesAndNonExecutables() throws Exception {
        Path notExec = dir.resolve("noexec");
        java.nio.file.Files.createDirectories(notExec);
        java.nio.file.Files.writeString(notExec.resolve("nvidia-smi"), "#!/bin/sh\n");
        Path bin = dir.resolve("bin");
        Path real = FakeNvidiaSmi.printing(bin, "1, 1\n");
        assertThat(VramGuard.findOnPath(":" + notExec + ":" + bin)).contains(real);
        assertThat(VramGuard.findOnPath(null)).isEmpty();
        assertThat(new VramGuard(Optional.empty(), Duration.ofSeconds(1)).sample().problem()).contains(VramGuard.Reason.NVIDIA_SMI_MISSING);
        assertThat(Json.write(VramGuard.verdict(VramGuard.parse("100, 50"), 50, false).toJson())).contains("\"ok\":true");
    }
}
