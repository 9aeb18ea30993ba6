package dev.warden.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.store.Tx;
import dev.warden.store.postgres.PostgresStore;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The background thread of a long-running process that indexes PostgreSQL's ledger by corr_id behind the appends. */
class LedgerIndexerTest {
    final TestPostgres.Database db = new TestPostgres.Database();

    @AfterEach
    void dropDatabase() {
        db.drop();
    }

    private long indexedThrough(String chain) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url());
             ResultSet rs = c.createStatement().executeQuery("SELECT coalesce(max(last_seq), 0) FROM ledger_corr_index WHERE chain = '" + chain + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void indexesEveryChainBehindItsAppendsAndStopsOnClose() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            Ledger a = new Ledger(MutableClock.at("2026-11-23T01:00:00Z"), new Redactor(new SecretScrubber()), "node-a");
            Ledger b = new Ledger(MutableClock.at("2026-11-23T01:00:00Z"), new Redactor(new SecretScrubber()), "node-b");
            List<EventDraft> drafts = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) { // 79 blocks: more than one pass takes of a chain
                drafts.add(EventDraft.info("test.event", "test", "job-" + i, "tester", Json.object().put("n", i)));
            }
            store.write(tx -> a.append(tx, drafts));
            store.write(tx -> b.append(tx, drafts.subList(0, 10)));
            LedgerIndexer indexer = new LedgerIndexer(store);
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> indexedThrough("node-a") == 20_000 && indexedThrough("node-b") == 10);
                store.write(tx -> b.append(tx, drafts.subList(10, 15)));
                await().atMost(Duration.ofSeconds(30)).until(() -> indexedThrough("node-b") == 15);
                List<Tx.LedgerRow> job12 = store.read(tx -> tx.ledgerByCorrId("job-12"));
                assertThat(job12).extracting(Tx.LedgerRow::chain).containsExactly("node-a", "node-b");
            } finally {
                indexer.close();
            }
            store.write(tx -> b.append(tx, drafts.subList(15, 20)));
            // closed: nothing indexes the new block, and the look-up still finds its entries
            Tx.IndexPass pass = store.write(tx -> tx.indexLedgerCorrIds(1));
            assertThat(pass.entries()).isEqualTo(5);
            assertThat(indexedThrough("node-b")).isEqualTo(20);
            List<Tx.LedgerRow> job17 = store.read(tx -> tx.ledgerByCorrId("job-17"));
            assertThat(job17).hasSize(2);
        }
    }
}
