package dev.warden.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.WardenException;
import dev.warden.queue.ClaimResult;
import dev.warden.store.JobRow;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** slots_require_vram: the gpu slot is claimed only while the VRAM guard (a fake nvidia-smi) says yes. */
class VramGateTest {
    @TempDir
    Path dir;

    MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");

    static final String CONFIG = """
            slots: {gpu: 1, cpu: 4}
            slots_require_vram: {gpu: {min_free_mb: 4000}}
            """;

    List<JobRow> claim(WardenApp app) {
        return app.queue().claim("w1", 10) instanceof ClaimResult.Claimed c ? c.jobs() : List.of();
    }

    JobRow enqueue(WardenApp app, String slot) {
        ObjectNode s = TestWarden.noop();
        if (slot != null) {
            ((ObjectNode) s.get("budgets")).put("slot", slot);
        }
        return app.queue().enqueue(TestWarden.parse(app, s), "test").job();
    }

    @Test
    void gpuJobWaitsWhileVramIsShortAndRunsWhenItFrees() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.printing(bin, "24576, 23552\n");
        try (WardenApp app = TestWarden.open(dir.resolve("data"), clock, CONFIG)) {
            app.useVramGuard(() -> new VramGuard(VramGuard.findOnPath(bin.toString()), Duration.ofSeconds(5)));
            JobRow gpu = enqueue(app, "gpu");
            JobRow cpu = enqueue(app, "cpu");
            JobRow plain = enqueue(app, null);
            assertThat(claim(app)).as("no sample yet: closed").extracting(JobRow::id).containsExactlyInAnyOrder(cpu.id(), plain.id());
            app.vramGate().refresh();
            assertThat(app.vramGate().verdict("gpu")).get().satisfies(v -> {
                assertThat(v.ok()).isFalse();
                assertThat(v.reason()).isEqualTo(VramGuard.Reason.BELOW_THRESHOLD);
                assertThat(v.maxFreeVramMb()).isEqualTo(1024L);
            });
            assertThat(app.vramGate().verdict("cpu")).isEmpty();
            assertThat(claim(app)).isEmpty();
            FakeNvidiaSmi.printing(bin, "24576, 1024\n");
            app.vramGate().refresh();
            assertThat(claim(app)).extracting(JobRow::id).containsExactly(gpu.id());
            assertThat(app.store().read(tx -> tx.ledgerTail(50)).stream().filter(r -> r.event().equals("slot.gated"))
                    .map(r -> dev.warden.common.Json.parse(r.entry()).path("details").path("reason").asText()))
                    .as("one entry per reason").containsExactlyInAnyOrder("NVIDIA_SMI_ERROR", "BELOW_THRESHOLD");
        }
    }

    @Test
    void aStaleSampleClosesTheSlot() {
        Path bin = dir.resolve("bin");
        FakeNvidiaSmi.printing(bin, "24576, 0\n");
        try (WardenApp app = TestWarden.open(dir.resolve("data"), clock, CONFIG)) {
            app.useVramGuard(() -> new VramGuard(VramGuard.findOnPath(bin.toString()), Duration.ofSeconds(5)));
            enqueue(app, "gpu");
            app.vramGate().refresh();
            clock.advance(VramGate.STALE_AFTER.plusSeconds(1));
            assertThat(app.vramGate().closed("gpu")).get().satisfies(c -> assertThat(c.message()).contains("s old"));
            assertThat(claim(app)).isEmpty();
        }
    }

    @Test
    void missingNvidiaSmiClosesTheSlotUnlessAllowed() {
        try (WardenApp app = TestWarden.open(dir.resolve("a"), clock, CONFIG)) {
            app.useVramGuard(() -> new VramGuard(VramGuard.findOnPath(dir.resolve("none").toString()), Duration.ofSeconds(5)));
            enqueue(app, "gpu");
            app.vramGate().refresh();
            assertThat(app.vramGate().closed("gpu")).get().satisfies(c -> assertThat(c.reason()).isEqualTo("NVIDIA_SMI_MISSING"));
            assertThat(claim(app)).isEmpty();
        }
        try (WardenApp app = TestWarden.open(dir.resolve("b"), clock, """
                slots: {gpu: 1}
                slots_require_vram: {gpu: {min_free_mb: 4000, allow_no_nvidia_smi: true}}
                """)) {
            app.useVramGuard(() -> new VramGuard(VramGuard.findOnPath(dir.resolve("none").toString()), Duration.ofSeconds(5)));
            enqueue(app, "gpu");
            app.vramGate().refresh();
            assertThat(claim(app)).hasSize(1);
        }
    }

    @Test
    void aVramRequirementOnAnUndeclaredSlotIsAConfigError() {
        assertThatThrownBy(() -> TestWarden.open(dir.resolve("c"), clock, """
                slots: {cpu: 1}
                slots_require_vram: {gpu: {min_free_mb: 4000}, cpu: {min_free_mb: -1, extra: 1}}
                """)).isInstanceOf(WardenException.class)
                .hasMessageContaining("slots_require_vram");
        assertThatThrownBy(() -> TestWarden.open(dir.resolve("d"), clock, """
                slots: {cpu: 1}
                slots_require_vram: {gpu: {min_free_mb: 4000}}
                """)).isInstanceOf(WardenException.class)
                .hasMessageContaining("slots_require_vram.gpu: no slot 'gpu' in slots");
    }
}
