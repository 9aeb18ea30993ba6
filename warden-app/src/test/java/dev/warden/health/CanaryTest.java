package dev.warden.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.queue.ClaimResult;
import dev.warden.store.Tx;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The canary's components and status, on a real store with a clock the test moves. */
class CanaryTest {
    /** SPEC section 11, exactly. */
    static final String LINE = "CANARY status=(OK|DEGRADED|FAIL) store=\\S+ workers=\\S+ models=\\S+ ledger=\\S+ "
            + "killswitch=(ON|OFF) ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z";

    @TempDir
    Path dir;

    MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");
    WardenApp app;
    List<ProviderProbes.Probe> probes = new ArrayList<>();
    Canary canary;

    @BeforeEach
    void open() {
        app = TestWarden.open(dir, clock, "worker: {lease_s: 30, tick_ms: 1000}\n");
        canary = new Canary(app.dataDir(), clock, app.workerAliveWithin(), () -> List.copyOf(probes));
    }

    @AfterEach
    void close() {
        app.close();
    }

    void worker(String id, long heartbeatAgoMs) {
        long now = clock.millis();
        app.store().write(tx -> {
            tx.putWorker(new Tx.WorkerRow(id, "node", 1, 4, now - heartbeatAgoMs - 1000, now - heartbeatAgoMs, null));
            return null;
        });
    }

    Canary.Report run() {
        return canary.check(Optional.of(app.store()), null);
    }

    static ProviderProbes.Probe probe(String id, ProviderProbes.State s) {
        return new ProviderProbes.Probe(id, s, s == ProviderProbes.State.OK ? null : "transient_server", 3, s == ProviderProbes.State.OK ? "" : "HTTP 503");
    }

    @Test
    void healthyPlaneIsOkWithTheExactLine() {
        worker("w1", 0);
        Canary.Report r = run();
        assertThat(r.line()).matches(LINE);
        assertThat(r.line()).isEqualTo("CANARY status=OK store=ok workers=ok models=none ledger=ok killswitch=OFF ts=2026-11-22T01:00:00.000Z");
        assertThat(r.status().exitCode()).isZero();
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void noAliveWorkerFailsAndADeadOneHoldingJobsDegrades() {
        assertThat(run().workers()).isEqualTo("none");
        assertThat(run().status()).isEqualTo(Canary.Status.FAIL);
        worker("w-old", 0);
        clock.advance(Duration.ofMinutes(5));
        assertThat(run().workers()).as("heartbeat older than the lease").isEqualTo("none");

        worker("w-alive", 0);
        app.queue().enqueue(TestWarden.parse(app, TestWarden.noop()), "test");
        assertThat(app.queue().claim("w-old", 1)).isInstanceOf(ClaimResult.Claimed.class);
        Canary.Report r = run();
        assertThat(r.workers()).isEqualTo("stuck");
        assertThat(r.status()).isEqualTo(Canary.Status.DEGRADED);
        assertThat(r.status().exitCode()).isEqualTo(10);
        assertThat(r.problems()).anySatisfy(p -> assertThat(p).contains("holding 1 running job"));
    }

    @Test
    void modelsAreNoneOkDegradedOrDown() {
        worker("w1", 0);
        probes.add(probe("local", ProviderProbes.State.OK));
        assertThat(run().models()).isEqualTo("ok");
        probes.add(probe("hosted", ProviderProbes.State.DEGRADED));
        Canary.Report degraded = run();
        assertThat(degraded.models()).isEqualTo("degraded");
        assertThat(degraded.status()).isEqualTo(Canary.Status.DEGRADED);
        probes.clear();
        probes.add(probe("local", ProviderProbes.State.DOWN));
        probes.add(probe("hosted", ProviderProbes.State.OK));
        assertThat(run().models()).as("one of two down").isEqualTo("degraded");
        probes.set(1, probe("hosted", ProviderProbes.State.DOWN));
        Canary.Report down = run();
        assertThat(down.models()).isEqualTo("down");
        assertThat(down.status()).isEqualTo(Canary.Status.FAIL);
        assertThat(down.failing()).containsExactly("models");
    }

    @Test
    void killSwitchOnDegrades() {
        worker("w1", 0);
        app.killSwitch().set(true, "test");
        Canary.Report r = run();
        assertThat(r.killSwitch()).isTrue();
        assertThat(r.status()).isEqualTo(Canary.Status.DEGRADED);
        assertThat(r.line()).contains("killswitch=ON");
    }

    @Test
    void unreachableStoreFailsWithUnknownComponents() {
        Canary.Report r = canary.check(Optional.empty(), "cannot open: connection refused");
        assertThat(r.line()).matches(LINE).startsWith("CANARY status=FAIL store=fail workers=unknown models=none ledger=unknown");
        assertThat(r.status().exitCode()).isEqualTo(20);
        assertThat(r.problems()).containsExactly("store: cannot open: connection refused");
    }

    @Test
    void editedLedgerFailsAndTruncationSinceTheLastRunIsCaught() throws Exception {
        worker("w1", 0);
        for (int i = 0; i < 5; i++) {
            app.queue().enqueue(TestWarden.parse(app, TestWarden.noop()), "test");
        }
        assertThat(run().ledger()).isEqualTo("ok");
        assertThat(app.dataDir().resolve(Canary.CHECKPOINT_FILE)).exists();
        String chain = app.ledger().chain();
        // cut the last two entries and rewind the head consistently: only the checkpoint can tell
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("warden.db"))) {
            String hash3;
            try (PreparedStatement ps = c.prepareStatement("SELECT entry FROM ledger WHERE chain = ? AND seq = 3")) {
                ps.setString(1, chain);
                var rs = ps.executeQuery();
                rs.next();
                hash3 = Json.parse(rs.getString(1)).path("hash").asText();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM ledger WHERE chain = ? AND seq > 3")) {
                ps.setString(1, chain);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE ledger_heads SET seq = 3, hash = ? WHERE chain = ?")) {
                ps.setString(1, hash3);
                ps.setString(2, chain);
                ps.executeUpdate();
            }
        }
        assertThat(dev.warden.ledger.Ledger.verify(app.store(), Optional.empty()).ok()).as("consistent without a checkpoint").isTrue();
        Canary.Report r = run();
        assertThat(r.ledger()).isEqualTo("bad");
        assertThat(r.status()).isEqualTo(Canary.Status.FAIL);
        assertThat(r.problems()).anySatisfy(p -> assertThat(p).contains("truncated"));
    }

    @Test
    void theLineIsAppendedToCanaryLogAndTheEnvelopeRecorded() throws Exception {
        worker("w1", 0);
        Canary.Report first = run();
        canary.appendLog(first);
        assertThat(Canary.record(app.store(), app.ledger(), first, "cli:test")).isTrue();
        clock.advance(Duration.ofMinutes(15));
        Canary.Report second = run();
        canary.appendLog(second);
        assertThat(Files.readAllLines(app.dataDir().resolve(Canary.LOG_FILE))).containsExactly(first.line(), second.line());
        JsonNode env = app.store().read(tx -> tx.ledgerTail(10)).stream().filter(x -> x.event().equals(Canary.EVENT))
                .map(x -> Json.parse(x.entry())).findFirst().orElseThrow();
        assertThat(env.path("schema").asText()).isEqualTo("warden.event.v1");
        assertThat(env.path("severity").asText()).isEqualTo("info");
        assertThat(env.path("details").path("status").asText()).isEqualTo("OK");
        assertThat(env.path("details").path("workers").asText()).isEqualTo("ok");
    }
}
