package dev.warden.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import dev.warden.store.JobRow;
import org.junit.jupiter.api.Test;

class PostgresQueueTest extends QueueContract {
    private final TestPostgres.Database db = new TestPostgres.Database();

    @Override
    Optional<String> storeUrl() {
        return Optional.of(db.url());
    }

    @Override
    void release() {
        db.drop();
    }

    /**
     * A heartbeat renews the leases no other transaction holds and never waits for a row lock: a
     * row held is being completed, claimed or cancelled, and waiting for it could close a cycle
     * with a turn that waits for a row the heartbeat renewed (PostgreSQL found such deadlocks).
     */
    @Test
    void aHeartbeatSkipsARowAnotherTransactionHoldsAndRenewsTheRest() throws Exception {
        JobRow held = enqueue(dev.warden.testing.TestWarden.noop());
        JobRow free = enqueue(dev.warden.testing.TestWarden.noop());
        assertThat(claim("w1", 2)).hasSize(2);
        long claimedUntil = queue.get(held.id()).leaseExpiresAt();
        try (Connection other = DriverManager.getConnection("jdbc:" + db.url())) {
            other.setAutoCommit(false);
            try (var lock = other.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                lock.setString(1, held.id());
                lock.executeQuery().close();
            }
            clock.advance(java.time.Duration.ofSeconds(20));
            List<String> ids = java.util.stream.Stream.of(held.id(), free.id()).sorted().toList();
            // were the heartbeat to wait for the lock, it would wait until the rollback below, which
            // comes after this get: the get would time out instead
            var views = java.util.concurrent.CompletableFuture.supplyAsync(() -> queue.heartbeat("w1", ids))
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(views).as("both attempts are still held").hasSize(2);
            assertThat(queue.get(free.id()).leaseExpiresAt()).isEqualTo(clock.millis() + 30_000);
            assertThat(queue.get(held.id()).leaseExpiresAt()).as("skipped while locked").isEqualTo(claimedUntil);
            other.rollback();
        }
        queue.heartbeat("w1", List.of(held.id()));
        assertThat(queue.get(held.id()).leaseExpiresAt()).isEqualTo(clock.millis() + 30_000);
    }

    private long analyzeCount() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url());
             ResultSet rs = c.createStatement().executeQuery("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'jobs'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void enqueueNoops(int n) {
        List<dev.warden.job.JobSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(app.parser().parse(dev.warden.testing.TestWarden.noop()));
        }
        queue.enqueueAll(specs, "test");
    }

    /**
     * The planner's statistics of the jobs table are refreshed as a bulk load grows, at 5,000 rows
     * and then each time the rows this process enqueued have doubled, and for the columns the hot
     * plans filter on, not the wide ones.
     */
    @Test
    void aBulkLoadRefreshesTheJobsStatisticsAsItDoubles() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url())) {
            c.createStatement().execute("ALTER TABLE jobs SET (autovacuum_enabled = false)"); // only the queue's ANALYZE, then
        }
        long before = analyzeCount();
        enqueueNoops(4_999);
        assertThat(analyzeCount()).isEqualTo(before);
        enqueueNoops(1);
        assertThat(analyzeCount()).as("at 5,000 rows").isEqualTo(before + 1);
        enqueueNoops(4_999);
        assertThat(analyzeCount()).isEqualTo(before + 1);
        enqueueNoops(1);
        assertThat(analyzeCount()).as("at 10,000 rows").isEqualTo(before + 2);
        enqueueNoops(9_999);
        assertThat(analyzeCount()).as("not again before 20,000").isEqualTo(before + 2);
        List<String> analyzed = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url());
             ResultSet rs = c.createStatement().executeQuery("SELECT attname FROM pg_stats WHERE tablename = 'jobs' ORDER BY 1")) {
            while (rs.next()) {
                analyzed.add(rs.getString(1));
            }
        }
        assertThat(analyzed).contains("id", "state", "priority", "run_after", "slot").doesNotContain("spec", "labels");
        assertThat(Queue.nextStatisticsDue(0)).isEqualTo(5_000);
        assertThat(Queue.nextStatisticsDue(5_000)).isEqualTo(10_000);
        assertThat(Queue.nextStatisticsDue(1_000_000)).isEqualTo(2_000_000);
    }

    /** V11: the keys of the claim path compare byte by byte whatever the database's collation. */
    @Test
    void jobIdsStatesAndChainNamesUseTheCCollation() throws Exception {
        List<String> found = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:" + db.url());
             ResultSet rs = c.createStatement().executeQuery("SELECT table_name || '.' || column_name || ' ' || collation_name "
                     + "FROM information_schema.columns WHERE (table_name, column_name) IN "
                     + "(('jobs', 'id'), ('jobs', 'state'), ('ledger_heads', 'chain'), ('ledger_blocks', 'chain')) ORDER BY 1")) {
            while (rs.next()) {
                found.add(rs.getString(1));
            }
        }
        assertThat(found).containsExactly("jobs.id C", "jobs.state C", "ledger_blocks.chain C", "ledger_heads.chain C");
    }
}
