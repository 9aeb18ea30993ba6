package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SQLite's ledger tail is the append order (its rowid), not the writers' clocks. */
class SqliteLedgerTailTest {
    @TempDir
    Path dir;

    @Test
    void theTailIsTheAppendOrderEvenWhenAWritersClockIsBehind() {
        Redactor redactor = new Redactor(new SecretScrubber());
        Instant now = Instant.parse("2026-11-22T12:00:00Z");
        Ledger ahead = new Ledger(Clock.fixed(now, ZoneOffset.UTC), redactor, "node-a");
        Ledger behind = new Ledger(Clock.fixed(now.minusSeconds(3600), ZoneOffset.UTC), redactor, "node-b");
        try (SqliteStore store = new SqliteStore(dir.resolve("w.db"))) {
            store.write(tx -> ahead.append(tx, EventDraft.info("test.first", "test", null, "test", Json.object())));
            store.write(tx -> behind.append(tx, EventDraft.info("test.second", "test", null, "test", Json.object())));
            store.write(tx -> ahead.append(tx, EventDraft.info("test.third", "test", null, "test", Json.object())));

            assertThat(store.read(tx -> tx.ledgerTail(3)).stream().map(Tx.LedgerRow::event))
                    .containsExactly("test.first", "test.second", "test.third");
            assertThat(store.read(tx -> tx.ledgerTail(1)).get(0).event()).isEqualTo("test.third");
        }
    }
}
