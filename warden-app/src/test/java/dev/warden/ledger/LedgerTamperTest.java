package dev.warden.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tampering with the stored ledger, the way someone with write access to the database file would. */
class LedgerTamperTest {
    @TempDir
    Path dir;

    MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");
    WardenApp app;
    Ledger ledger;
    String chain;

    @BeforeEach
    void fill() {
        app = TestWarden.open(dir, clock, null);
        ledger = app.ledger();
        chain = ledger.chain();
        for (int i = 1; i <= 10; i++) {
            clock.advance(Duration.ofSeconds(1));
            ObjectNode d = Json.object().put("n", i);
            ledger.record(app.store(), EventDraft.info("test.event", "test", "job-" + i, "tester", d));
        }
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
    }

    @AfterEach
    void close() {
        app.close();
    }

    private Connection db() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("warden.db"));
    }

    private void sql(String sql, Object... args) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private String entry(long seq) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("SELECT entry FROM ledger WHERE chain = ? AND seq = ?")) {
            ps.setString(1, chain);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private Ledger.Finding firstBad(Optional<Checkpoint> cp) {
        Ledger.VerifyReport r = Ledger.verify(app.store(), cp);
        assertThat(r.ok()).as("tampering detected").isFalse();
        return r.firstBad().orElseThrow();
    }

    @Test
    void editedDetailsAreDetectedAtThatEntry() throws Exception {
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 4", entry(4).replace("\"n\":4", "\"n\":44"), chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(4);
        assertThat(f.problem()).contains("hash mismatch");
    }

    @Test
    void editWithRecomputedHashIsCaughtByTheNextEntry() throws Exception {
        ObjectNode e = (ObjectNode) Json.parse(entry(4));
        ((ObjectNode) e.get("details")).put("n", 44);
        e.remove("hash");
        e.put("hash", Envelope.computeHash(e));
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 4", Json.canonical(e), chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(5);
        assertThat(f.problem()).contains("prev_hash");
    }

    @Test
    void deletedEntryIsDetected() throws Exception {
        sql("DELETE FROM ledger WHERE chain = ? AND seq = 6", chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(6);
        assertThat(f.problem()).contains("entry missing");
    }

    @Test
    void reorderedEntriesAreDetected() throws Exception {
        String three = entry(3);
        String seven = entry(7);
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 3", seven, chain);
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 7", three, chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(3);
        assertThat(f.problem()).contains("moved or reordered");
    }

    @Test
    void renumberedSwapIsDetectedByTheChain() throws Exception {
        // swap rows 3 and 7 including their seq fields, so each row is self-consistent
        ObjectNode a = (ObjectNode) Json.parse(entry(3));
        ObjectNode b = (ObjectNode) Json.parse(entry(7));
        a.put("seq", 7);
        b.put("seq", 3);
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 3", Json.canonical(b), chain);
        sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = 7", Json.canonical(a), chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(3);
    }

    @Test
    void truncationIsDetectedAgainstACheckpoint() throws Exception {
        Checkpoint cp = Checkpoint.fromJson(Ledger.checkpoint(app.store(), clock).toJson());
        // an attacker removes the last three entries and rewinds the head so the ledger looks whole
        sql("DELETE FROM ledger WHERE chain = ? AND seq > 7", chain);
        String hash7 = Json.parse(entry(7)).path("hash").asText();
        sql("UPDATE ledger_heads SET seq = 7, hash = ? WHERE chain = ?", hash7, chain);
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).as("undetectable without a checkpoint").isTrue();
        Ledger.Finding f = firstBad(Optional.of(cp));
        assertThat(f.seq()).isEqualTo(8);
        assertThat(f.problem()).contains("truncated");
    }

    @Test
    void rewoundHeadWithTheTailLeftInPlaceIsDetected() throws Exception {
        String hash7 = Json.parse(entry(7)).path("hash").asText();
        sql("UPDATE ledger_heads SET seq = 7, hash = ? WHERE chain = ?", hash7, chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.seq()).isEqualTo(8);
        assertThat(f.problem()).contains("beyond the chain's recorded head");
    }

    @Test
    void tailDeletionWithoutHeadRewindIsDetectedEvenWithoutCheckpoint() throws Exception {
        sql("DELETE FROM ledger WHERE chain = ? AND seq = 10", chain);
        Ledger.Finding f = firstBad(Optional.empty());
        assertThat(f.problem()).contains("recorded head is seq 10");
    }

    @Test
    void rewrittenHistoryIsDetectedAgainstACheckpoint() throws Exception {
        Checkpoint cp = Ledger.checkpoint(app.store(), clock);
        // rebuild the whole chain from seq 5 with different content and valid hashes
        String prev = Json.parse(entry(4)).path("hash").asText();
        for (long s = 5; s <= 10; s++) {
            ObjectNode e = (ObjectNode) Json.parse(entry(s));
            ((ObjectNode) e.get("details")).put("n", 1000 + s);
            e.put("prev_hash", prev);
            e.remove("hash");
            String h = Envelope.computeHash(e);
            e.put("hash", h);
            sql("UPDATE ledger SET entry = ? WHERE chain = ? AND seq = ?", Json.canonical(e), chain, s);
            prev = h;
        }
        sql("UPDATE ledger_heads SET hash = ? WHERE chain = ?", prev, chain);
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        Ledger.Finding f = firstBad(Optional.of(cp));
        assertThat(f.seq()).isEqualTo(10);
        assertThat(f.problem()).contains("differs from the checkpoint");
    }

    @Test
    void verifyIsNotConfusedByEntriesAppendedWhileItRuns() throws Exception {
        for (int i = 0; i < 3000; i++) {
            ledger.record(app.store(), EventDraft.info("bulk", "test", null, "tester", Json.object().put("i", i)));
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                ledger.record(app.store(), EventDraft.info("live", "test", null, "tester", Json.object()));
            }
        });
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    @Test
    void cleanLedgerVerifiesAgainstItsCheckpointAfterGrowing() throws Exception {
        Checkpoint cp = Ledger.checkpoint(app.store(), clock);
        ledger.record(app.store(), EventDraft.info("test.more", "test", null, "tester", Json.object()));
        Ledger.VerifyReport r = Ledger.verify(app.store(), Optional.of(cp));
        assertThat(r.ok()).isTrue();
        assertThat(r.entries()).isEqualTo(11);
        try (Connection c = db(); Statement s = c.createStatement()) {
            assertThat(s.executeQuery("SELECT COUNT(*) FROM ledger").getLong(1)).isEqualTo(11);
        }
    }
}
