package dev.warden.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each system's reported drain is its median round; a failed round counts as the slowest. */
class PeerBenchTest {
    private static PeerRun.Result drained(double ms) {
        return new PeerRun.Result("warden", "v", PeerTarget.Kind.SQLITE, 1000, 1000, 10, ms, 1, 2, 3, 1000, 0, "claim", "", null, "", null);
    }

    @Test
    void theMedianRoundIsReported() {
        PeerRun.Result slow = drained(400);
        PeerRun.Result middle = drained(200);
        PeerRun.Result fast = drained(100);
        assertThat(PeerBench.median(List.of(slow, fast, middle))).isSameAs(middle);
        assertThat(PeerBench.median(List.of(fast, slow))).as("of two, the slower").isSameAs(slow);
        assertThat(PeerBench.median(List.of(fast))).isSameAs(fast);
    }

    @Test
    void aFailedRoundCountsAsTheSlowest() {
        PeerRun.Result failed = PeerRun.Result.failed("warden", "v", PeerTarget.Kind.SQLITE, 1000, "timed out");
        PeerRun.Result fast = drained(100);
        PeerRun.Result middle = drained(200);
        assertThat(PeerBench.median(List.of(fast, failed, middle))).isSameAs(middle);
        assertThat(PeerBench.median(List.of(failed, fast))).isSameAs(failed);
    }

    @Test
    void progressChecksComeEvery50msUntilATwentiethIsDoneThenATwentiethOfTheTimeLeft() {
        assertThat(PeerRun.nextCheckMs(50_000, 50_000, 30)).isEqualTo(PeerRun.PROGRESS_POLL_MS);
        // a few jobs done early say nothing yet (8 in 20 ms would estimate two minutes)
        assertThat(PeerRun.nextCheckMs(50_000, 49_992, 20)).isEqualTo(PeerRun.PROGRESS_POLL_MS);
        assertThat(PeerRun.nextCheckMs(50_000, 47_501, 20)).isEqualTo(PeerRun.PROGRESS_POLL_MS);
        assertThat(PeerRun.nextCheckMs(50_000, 25_000, 1_000)).isEqualTo(50.0);   // 1 s left: a twentieth
        assertThat(PeerRun.nextCheckMs(50_000, 45_000, 1_000)).isEqualTo(450.0);  // 9 s left
        assertThat(PeerRun.nextCheckMs(50_000, 47_000, 3_000)).isEqualTo(1_000.0); // 47 s left: at most a second
        assertThat(PeerRun.nextCheckMs(50_000, 100, 10_000)).isEqualTo(PeerRun.PROGRESS_POLL_MS);
    }
}
