package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.Checkpoint;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.store.postgres.PostgresStore;
import dev.warden.store.sqlite.SqliteStore;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger on PostgreSQL is stored as blocks, one row per append (V10): entries read back one
 * by one across block boundaries, the corr_id look-up finds them in any block, tampering inside a
 * block is found at the entry, and V10 moves a per-entry ledger into blocks that still verify.
 */
class PostgresLedgerBlocksTest {
    final MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");
    final Redactor redactor = new Redactor(new SecretScrubber());
    final TestPostgres.Database db = new TestPostgres.Database();

    @TempDir
    Path dir;

    @AfterEach
    void dropDatabase() {
        db.drop();
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:" + db.url());
    }

    private void sql(String sql, Object... args) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private long blocks() throws SQLException {
        return count("SELECT count(*) FROM ledger_blocks");
    }

    /** Appends {@code n} entries in one transaction (one block, or several past 256); corr_id job-(i % 7). */
    private static void appendTurn(Store store, Ledger ledger, int n, int base) {
        List<EventDraft> drafts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            drafts.add(EventDraft.info("test.event", "test", "job-" + ((base + i) % 7), "tester", Json.object().put("n", base + i)));
        }
        store.write(tx -> ledger.append(tx, drafts));
    }

    private static List<Long> seqs(List<Tx.LedgerRow> rows) {
        return rows.stream().map(Tx.LedgerRow::seq).toList();
    }

    private static Ledger.Finding firstBad(Store store, Optional<Checkpoint> cp) {
        Ledger.VerifyReport r = Ledger.verify(store, cp);
        assertThat(r.ok()).as("tampering detected").isFalse();
        return r.firstBad().orElseThrow();
    }

    @Test
    void anAppendIsOneBlockAndItsEntriesReadBackOneByOne() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            Ledger ledger = new Ledger(clock, redactor, "node-a");
            appendTurn(store, ledger, 300, 0);  // past the block limit: 256 + 44
            appendTurn(store, ledger, 3, 300);
            appendTurn(store, ledger, 1, 303);
            assertThat(blocks()).isEqualTo(4);

            List<Tx.LedgerRow> all = store.read(tx -> tx.ledgerPage("node-a", 0, 1000));
            assertThat(seqs(all)).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 304).boxed().toList());
            for (Tx.LedgerRow r : all) {
                ObjectNode e = (ObjectNode) Json.parse(r.entry());
                assertThat(e.path("seq").asLong()).isEqualTo(r.seq());
                assertThat(e.path("corr_id").asText()).isEqualTo(r.corrId());
                assertThat(e.path("details").path("n").asLong()).isEqualTo(r.seq() - 1);
            }
            // pages that start and end inside blocks and cross their boundaries
            assertThat(seqs(store.read(tx -> tx.ledgerPage("node-a", 250, 10)))).containsExactly(251L, 252L, 253L, 254L, 255L, 256L, 257L, 258L, 259L, 260L);
            assertThat(seqs(store.read(tx -> tx.ledgerPage("node-a", 299, 3)))).containsExactly(300L, 301L, 302L);
            List<Tx.LedgerRow> beyond = store.read(tx -> tx.ledgerPage("node-a", 304, 10));
            assertThat(beyond).isEmpty();
            // job-3's entries sit in the first two blocks, on both sides of their boundary: all found, in order
            List<Tx.LedgerRow> job3 = byCorrId(store, "job-3");
            assertThat(job3).hasSize(43).allSatisfy(r -> assertThat(r.corrId()).isEqualTo("job-3"));
            assertThat(seqs(job3)).isSorted().contains(4L, 256L, 263L, 298L);
            assertThat(store.read(tx -> tx.ledgerTail(5)).stream().map(Tx.LedgerRow::seq)).containsExactly(300L, 301L, 302L, 303L, 304L);
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        }
    }

    private long count(String sql) throws SQLException {
        try (Connection c = connect(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<Tx.LedgerRow> byCorrId(Store store, String corrId) {
        return store.read(tx -> tx.ledgerByCorrId(corrId));
    }

    private static Tx.IndexPass indexPass(Store store, int maxBlocksPerChain) {
        return store.write(tx -> tx.indexLedgerCorrIds(maxBlocksPerChain));
    }

    /** Every entry of {@code corrId}, read page by page along each chain: what a look-up by corr_id must return. */
    private static List<Tx.LedgerRow> scanFor(Store store, String corrId) {
        List<Tx.LedgerRow> out = new ArrayList<>();
        for (String chain : store.read(Tx::ledgerChains)) {
            out.addAll(store.read(tx -> tx.ledgerPage(chain, 0, 100_000)).stream().filter(r -> corrId.equals(r.corrId())).toList());
        }
        out.sort(java.util.Comparator.comparingLong(Tx.LedgerRow::tsMillis).thenComparing(Tx.LedgerRow::chain)
                .thenComparingLong(Tx.LedgerRow::seq));
        return out;
    }

    /**
     * The corr_id index is written behind the appends (V13): a look-up finds every entry before any
     * pass, when only some blocks of a chain are indexed, after all are, and with index rows two
     * processes wrote over the same blocks (each block read once).
     */
    @Test
    void aCorrIdLookUpFindsEveryEntryWhetherOrNotItsBlockIsIndexedYet() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            Ledger a = new Ledger(clock, redactor, "node-a");
            Ledger b = new Ledger(clock, redactor, "node-b");
            for (int turn = 0; turn < 6; turn++) {
                clock.advance(java.time.Duration.ofSeconds(1));
                appendTurn(store, a, 40, turn * 40);
                appendTurn(store, b, 3, turn * 3);
            }
            appendTurn(store, a, 600, 240); // three blocks of one append
            List<Tx.LedgerRow> expected = scanFor(store, "job-3");
            assertThat(expected).hasSizeGreaterThan(90);
            assertThat(expected.stream().map(Tx.LedgerRow::chain).distinct()).containsExactlyInAnyOrder("node-a", "node-b");

            assertThat(count("SELECT count(*) FROM ledger_corr_index")).isZero();
            assertThat(byCorrId(store, "job-3")).isEqualTo(expected); // nothing indexed yet

            Tx.IndexPass first = indexPass(store, 2); // two blocks of each chain
            assertThat(first.more()).isTrue();
            assertThat(first.entries()).isEqualTo(80 + 6);
            assertThat(byCorrId(store, "job-3")).isEqualTo(expected); // partly indexed

            Tx.IndexPass pass;
            int passes = 1;
            do {
                pass = indexPass(store, 2);
                passes++;
            } while (pass.more());
            assertThat(passes).isEqualTo(5); // node-a's 9 blocks, two a pass
            assertThat(indexPass(store, 2)).isEqualTo(Tx.IndexPass.NONE);
            assertThat(count("SELECT max(last_seq) FROM ledger_corr_index WHERE chain = 'node-a'")).isEqualTo(840);
            assertThat(count("SELECT max(last_seq) FROM ledger_corr_index WHERE chain = 'node-b'")).isEqualTo(18);
            // each corr id once per index row, however many of its entries the row's blocks hold
            assertThat(count("SELECT count(*) FROM ledger_corr_index x WHERE cardinality(x.corr_ids) "
                    + "<> (SELECT count(DISTINCT c) FROM unnest(x.corr_ids) c)")).isZero();
            assertThat(count("SELECT max(cardinality(corr_ids)) FROM ledger_corr_index")).isEqualTo(7);
            assertThat(byCorrId(store, "job-3")).isEqualTo(expected); // all indexed

            // another process indexed the first three blocks of node-a as one row: its row overlaps ours
            sql("INSERT INTO ledger_corr_index (chain, last_seq, first_seq, corr_ids) "
                    + "SELECT 'node-a', 120, 1, ARRAY['job-0','job-1','job-2','job-3','job-4','job-5','job-6']");
            assertThat(byCorrId(store, "job-3")).isEqualTo(expected);
            assertThat(byCorrId(store, "job-none")).isEmpty();

            appendTurn(store, a, 5, 840); // past the index again
            // while another process's pass holds the indexing lock, this one's skips
            try (Connection other = connect()) {
                other.setAutoCommit(false);
                try (PreparedStatement lock = other.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                    lock.setLong(1, LedgerBlocks.INDEX_LOCK);
                    lock.execute();
                }
                assertThat(indexPass(store, 2)).isEqualTo(Tx.IndexPass.NONE);
                other.rollback();
            }
            assertThat(count("SELECT max(last_seq) FROM ledger_corr_index WHERE chain = 'node-a'")).isEqualTo(840);
            assertThat(byCorrId(store, "job-3")).isEqualTo(scanFor(store, "job-3")).hasSize(expected.size() + 1);
            assertThat(indexPass(store, 2).entries()).isEqualTo(5);
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        }
    }

    /**
     * A worker's turn appends more than one block's worth while jobs are short: up to four blocks go
     * with the head's move in one statement, more in two; a guess the head no longer matches writes
     * no block at all.
     */
    @Test
    void aLongAppendStoresEveryBlockOnceAndAStaleGuessWritesNone() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            Ledger ledger = new Ledger(clock, redactor, "node-a");
            appendTurn(store, ledger, 1, 0);       // no guess yet: under the head's lock
            appendTurn(store, ledger, 700, 1);     // on its guess: three blocks
            appendTurn(store, ledger, 1100, 701);  // on its guess: five blocks, past one statement's four
            assertThat(blocks()).isEqualTo(1 + 3 + 5);
            appendTurn(store, new Ledger(clock, redactor, "node-a"), 2, 1801); // another process of this node
            appendTurn(store, ledger, 600, 1803);  // its guess is stale: nothing written on it, then under the lock
            assertThat(blocks()).isEqualTo(1 + 3 + 5 + 1 + 3);
            List<Tx.LedgerRow> all = store.read(tx -> tx.ledgerPage("node-a", 0, 10_000));
            assertThat(seqs(all)).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 2403).boxed().toList());
            for (Tx.LedgerRow r : all) {
                assertThat(Json.parse(r.entry()).path("details").path("n").asLong()).isEqualTo(r.seq() - 1);
            }
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        }
    }

    /**
     * Appenders of one process whose transactions overlap (in {@code warden up}: the dispatcher, the
     * gateway's settlements, operator actions): each seals on the head another wrote and has not
     * committed yet, and the store orders them.
     */
    @Test
    void overlappingAppendersOfOneProcessKeepOneUnbrokenChain() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 4)) {
            Ledger ledger = new Ledger(clock, redactor, "node-a");
            appendTurn(store, ledger, 1, 0);
            int threads = 3;
            int turns = 40;
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(threads);
            List<Thread> started = new ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int t = 0; t < threads; t++) {
                int base = 1000 * (t + 1);
                started.add(Thread.ofPlatform().start(() -> {
                    try {
                        together.await();
                        for (int i = 0; i < turns; i++) {
                            int n = base + i * 5;
                            store.write(tx -> {
                                List<EventDraft> drafts = new ArrayList<>();
                                for (int k = 0; k < 5; k++) {
                                    drafts.add(EventDraft.info("test.turn", "test", "job-" + (n + k), "tester", Json.object().put("n", n + k)));
                                }
                                return ledger.append(tx, drafts);
                            });
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : started) {
                t.join();
            }
            assertThat(failures).isEmpty();
            List<Tx.LedgerRow> all = store.read(tx -> tx.ledgerPage("node-a", 0, 10_000));
            assertThat(seqs(all)).isEqualTo(java.util.stream.LongStream.rangeClosed(1, 1 + threads * turns * 5L).boxed().toList());
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        }
    }

    /** Three appends: seqs 1-10, 11-20 and 21-30, a block each. */
    private static Ledger threeBlocks(Store store) {
        Ledger ledger = new Ledger(MutableClock.at("2026-11-22T01:00:00Z"), new Redactor(new SecretScrubber()), "node-a");
        for (int base = 0; base < 30; base += 10) {
            appendTurn(store, ledger, 10, base);
        }
        assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        return ledger;
    }

    private static String entry(Store store, long seq) {
        return store.read(tx -> tx.ledgerPage("node-a", seq - 1, 1)).get(0).entry();
    }

    @Test
    void anEntryEditedInsideABlockIsFoundAtThatEntry() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            threeBlocks(store);
            sql("UPDATE ledger_blocks SET entries[4] = ? WHERE chain = 'node-a' AND last_seq = 10",
                    entry(store, 4).replace("\"n\":3", "\"n\":33"));
            Ledger.Finding f = firstBad(store, Optional.empty());
            assertThat(f.seq()).isEqualTo(4);
            assertThat(f.problem()).contains("hash mismatch");
        }
    }

    @Test
    void anEntryCutOutOfABlockIsFoundWhereItWas() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            threeBlocks(store);
            // the block is kept self-consistent (its CHECK holds): seq 6's place now holds seq 7's entry
            sql("UPDATE ledger_blocks SET ts = ts[1:5] || ts[7:], events = events[1:5] || events[7:], "
                    + "corr_ids = corr_ids[1:5] || corr_ids[7:], entries = entries[1:5] || entries[7:], last_seq = 9 "
                    + "WHERE chain = 'node-a' AND last_seq = 10");
            Ledger.Finding f = firstBad(store, Optional.empty());
            assertThat(f.seq()).isEqualTo(6);
            assertThat(f.problem()).contains("moved or reordered");
        }
    }

    @Test
    void aBlockDeletedFromTheMiddleIsFoundAtItsFirstEntry() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            threeBlocks(store);
            sql("DELETE FROM ledger_blocks WHERE chain = 'node-a' AND last_seq = 20");
            Ledger.Finding f = firstBad(store, Optional.empty());
            assertThat(f.seq()).isEqualTo(11);
            assertThat(f.problem()).contains("entry missing");
        }
    }

    @Test
    void theLastBlockDeletedWithTheHeadRewoundIsFoundAgainstACheckpoint() throws Exception {
        try (PostgresStore store = new PostgresStore(db.url(), 2)) {
            threeBlocks(store);
            Checkpoint cp = Ledger.checkpoint(store, clock);
            String hash20 = Json.parse(entry(store, 20)).path("hash").asText();
            sql("DELETE FROM ledger_blocks WHERE chain = 'node-a' AND last_seq = 30");
            sql("UPDATE ledger_heads SET seq = 20, hash = ? WHERE chain = 'node-a'", hash20);
            assertThat(Ledger.verify(store, Optional.empty()).ok()).as("undetectable without a checkpoint").isTrue();
            Ledger.Finding f = firstBad(store, Optional.of(cp));
            assertThat(f.seq()).isEqualTo(21);
            assertThat(f.problem()).contains("truncated");
        }
    }

    @Test
    void theMigrationMovesAPerEntryLedgerIntoBlocksThatVerify() throws Exception {
        // entries sealed on SQLite (the JSON is the same on both engines) ...
        List<Tx.LedgerRow> a;
        List<Tx.LedgerRow> b;
        List<Tx.LedgerHead> heads;
        try (SqliteStore lite = new SqliteStore(dir.resolve("w.db"))) {
            Ledger na = new Ledger(clock, redactor, "node-a");
            Ledger nb = new Ledger(clock, redactor, "node-b");
            for (int i = 0; i < 600; i += 50) {
                appendTurn(lite, na, 50, i);
            }
            appendTurn(lite, nb, 5, 0);
            a = lite.read(tx -> tx.ledgerPage("node-a", 0, 1000));
            b = lite.read(tx -> tx.ledgerPage("node-b", 0, 1000));
            heads = lite.read(Tx::ledgerHeads);
        }
        // ... written into a PostgreSQL database still at V9, a row per entry
        try (Connection c = connect()) {
            Migrations.apply(c, Dialect.POSTGRES, 9);
            try (StatementCache statements = new StatementCache(c)) { // the layout before V10: SQLite's
                LedgerRows rows = new LedgerRows(statements);
                rows.insert(a);
                rows.insert(b);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ledger_heads (chain, seq, hash) VALUES (?,?,?)")) {
                for (Tx.LedgerHead h : heads) {
                    ps.setString(1, h.chain());
                    ps.setLong(2, h.seq());
                    ps.setString(3, h.hash());
                    ps.executeUpdate();
                }
            }
        }
        try (PostgresStore store = new PostgresStore(db.url(), 2)) { // applies V10 .. V13
            assertThat(blocks()).isEqualTo(4); // node-a: 256 + 256 + 88; node-b: 5
            // V13 indexed every moved block by corr_id, one index row each
            assertThat(count("SELECT count(*) FROM ledger_corr_index")).isEqualTo(4);
            assertThat(indexPass(store, 64)).isEqualTo(Tx.IndexPass.NONE);
            assertThat(byCorrId(store, "job-2")).isEqualTo(scanFor(store, "job-2")).hasSize(600 / 7 + 1 + 1);
            List<Tx.LedgerRow> movedA = store.read(tx -> tx.ledgerPage("node-a", 0, 1000));
            List<Tx.LedgerRow> movedB = store.read(tx -> tx.ledgerPage("node-b", 0, 1000));
            assertThat(movedA).isEqualTo(a);
            assertThat(movedB).isEqualTo(b);
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
            // and the chain goes on from its head
            appendTurn(store, new Ledger(clock, redactor, "node-a"), 2, 600);
            assertThat(seqs(store.read(tx -> tx.ledgerPage("node-a", 599, 10)))).containsExactly(600L, 601L, 602L);
            assertThat(Ledger.verify(store, Optional.empty()).ok()).isTrue();
        }
    }
}
