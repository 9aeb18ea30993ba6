package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.store.postgres.PostgresStore;
import dev.warden.store.sqlite.SqliteStore;
import dev.warden.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger's tail (console, API, {@code warden ledger tail}) read without a time index. */
class LedgerTailTest {
    static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    final Redactor redactor = new Redactor(new SecretScrubber());
    final TestPostgres.Database db = new TestPostgres.Database();

    @TempDir
    Path dir;

    @AfterEach
    void dropDatabase() {
        db.drop();
    }

    private Ledger ledger(String chain, Instant at) {
        return new Ledger(Clock.fixed(at, ZoneOffset.UTC), redactor, chain);
    }

    private static void append(Store store, Ledger ledger, String event) {
        store.write(tx -> ledger.append(tx, EventDraft.info(event, "test", null, "test", Json.object())));
    }

    /** SQLite has one writer: the tail is the append order, even when a writer's clock is behind. */
    @Test
    void onSqliteTheTailIsTheAppendOrder() {
        Ledger ahead = ledger("node-a", NOW);
        Ledger behind = ledger("node-b", NOW.minusSeconds(3600));
        try (SqliteStore store = new SqliteStore(dir.resolve("w.db"))) {
            append(store, ahead, "test.first");
            append(store, behind, "test.second");
            append(store, ahead, "test.third");

            assertThat(store.read(tx -> tx.ledgerTail(3)).stream().map(Tx.LedgerRow::event))
                    .containsExactly("test.first", "test.second", "test.third");
            assertThat(store.read(tx -> tx.ledgerTail(1)).get(0).event()).isEqualTo("test.third");
        }
    }

    /** Several nodes: each chain's newest entries, merged by time; a long old chain does not crowd out the others. */
    @Test
    void onPostgresqlTheTailMergesTheChainsByTime() {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            Ledger old = ledger("node-old", NOW.minusSeconds(600));
            for (int i = 0; i < 20; i++) {
                append(store, old, "test.old");
            }
            append(store, ledger("node-a", NOW.plusSeconds(1)), "test.a1");
            append(store, ledger("node-b", NOW.plusSeconds(2)), "test.b1");
            append(store, ledger("node-a", NOW.plusSeconds(3)), "test.a2");
            append(store, ledger("node-b", NOW), "test.b0"); // a clock behind: placed by its time

            assertThat(store.read(tx -> tx.ledgerTail(4)).stream().map(Tx.LedgerRow::event))
                    .containsExactly("test.b0", "test.a1", "test.b1", "test.a2");
            assertThat(store.read(tx -> tx.ledgerTail(6)).stream().map(Tx.LedgerRow::event))
                    .containsExactly("test.old", "test.old", "test.b0", "test.a1", "test.b1", "test.a2");
        }
    }
}
