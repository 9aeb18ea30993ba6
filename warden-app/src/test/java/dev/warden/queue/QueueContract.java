package dev.warden.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queue semantics, written once and run against every store ({@link SqliteQueueTest},
 * {@link PostgresQueueTest}).
 */
abstract class QueueContract {
    @TempDir
    Path dir;

    /** The store URL for this run; empty for the embedded SQLite store. */
    abstract Optional<String> storeUrl();

    /** Runs after the app is closed: a store may drop what it made for the test. */
    void release() {}

    MutableClock clock = MutableClock.at("2026-11-22T01:00:00Z");
    WardenApp app;
    Queue queue;

    @BeforeEach
    void open() {
        app = TestWarden.open(dir, clock, storeUrl(), """
                slots: {gpu: 1}
                worker: {lease_s: 30}
                queue: {backoff_base_ms: 1000, backoff_max_ms: 60000}
                """);
        queue = app.queue();
    }

    @AfterEach
    void close() {
        if (app == null) {
            return; // the store was not available (test aborted)
        }
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).as("ledger verifies after every test").isTrue();
        app.close();
        release();
    }

    JobRow enqueue(ObjectNode spec) {
        return queue.enqueue(app.parser().parse(spec), "test").job();
    }

    List<JobRow> claim(String owner, int n) {
        return switch (queue.claim(owner, n)) {
            case ClaimResult.Claimed c -> c.jobs();
            case ClaimResult.Empty e -> List.of();
            case ClaimResult.KillSwitchOn k -> throw new AssertionError("kill switch unexpectedly on");
        };
    }

    private JobRow succeed(JobRow claimed) {
        return queue.complete(List.of(new Outcome.Succeeded(claimed, Json.object().put("ok", true), 5, null))).get(0).orElseThrow();
    }

    /** A second app on this test's store (same node, so the same ledger chain), configured without slots. */
    private WardenApp openWithoutSlots(Path where) {
        return TestWarden.open(where, clock, storeUrl(), "worker: {lease_s: 30}\n");
    }

    @Test
    void withoutSlotsTheClaimIsOneStepInClaimOrderAndHonoursTheKillSwitch() throws Exception {
        try (WardenApp plain = openWithoutSlots(storeUrl().isPresent() ? dir.resolve("plain") : dir)) {
            Queue q = plain.queue();
            JobRow low = q.enqueue(plain.parser().parse(TestWarden.noop().put("priority", -1)), "test").job();
            JobRow first = q.enqueue(plain.parser().parse(TestWarden.noop()), "test").job();
            clock.advance(Duration.ofMillis(1));
            JobRow second = q.enqueue(plain.parser().parse(TestWarden.noop()), "test").job();
            JobRow high = q.enqueue(plain.parser().parse(TestWarden.noop().put("priority", 5)), "test").job();
            List<JobRow> got = ((ClaimResult.Claimed) q.claim("w1", 2)).jobs();
            assertThat(got).extracting(JobRow::id).containsExactly(high.id(), first.id());
            long now = clock.millis();
            assertThat(got).allSatisfy(r -> {
                assertThat(r.state()).isEqualTo(JobState.running);
                assertThat(r.attempts()).isEqualTo(1);
                assertThat(r.claims()).isEqualTo(1);
                assertThat(r.leaseOwner()).isEqualTo("w1");
                assertThat(r.leaseExpiresAt()).isEqualTo(now + 30_000);
                assertThat(r.startedAt()).isEqualTo(now);
                assertThat(r.finishedAt()).isNull();
                assertThat(q.get(r.id())).isEqualTo(r);
            });
            // completions as one batch, each fenced by its own claim count
            List<Optional<JobRow>> done = q.complete(got.stream()
                    .map(r -> (Outcome) new Outcome.Succeeded(r, Json.object(), 1, null)).toList());
            assertThat(done).allSatisfy(r -> assertThat(r.orElseThrow().state()).isEqualTo(JobState.succeeded));
            assertThat(q.complete(List.of(new Outcome.Succeeded(got.get(0), Json.object(), 1, null))).get(0))
                    .as("a second outcome for a finished attempt is fenced out").isEmpty();
            assertThat(((ClaimResult.Claimed) q.claim("w1", 5)).jobs()).extracting(JobRow::id).containsExactly(second.id(), low.id());
            assertThat(q.claim("w1", 5)).isInstanceOf(ClaimResult.Empty.class);

            JobRow more = q.enqueue(plain.parser().parse(TestWarden.noop()), "test").job();
            // the stored flag alone (no KILL_SWITCH file): read by the claim statement itself
            plain.store().write(tx -> {
                tx.putSetting(KillSwitch.SETTING, "on");
                return null;
            });
            assertThat(q.claim("w1", 5)).isInstanceOf(ClaimResult.KillSwitchOn.class);
            assertThat(q.get(more.id()).state()).isEqualTo(JobState.queued);
            plain.killSwitch().set(false, "test");
            assertThat(Ledger.verify(plain.store(), Optional.empty()).ok()).isTrue();
        }
    }

    @Test
    void withoutSlotsConcurrentClaimersNeverShareAJob() throws Exception {
        try (WardenApp plain = openWithoutSlots(storeUrl().isPresent() ? dir.resolve("plain") : dir)) {
            List<dev.warden.job.JobSpec> specs = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                specs.add(plain.parser().parse(TestWarden.noop()));
            }
            plain.queue().enqueueAll(specs, "test");
            Set<String> seen = ConcurrentHashMap.newKeySet();
            AtomicInteger dup = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                String owner = "w" + t;
                threads.add(Thread.ofPlatform().start(() -> {
                    while (plain.queue().claim(owner, 3) instanceof ClaimResult.Claimed c) {
                        c.jobs().forEach(j -> {
                            if (!seen.add(j.id())) {
                                dup.incrementAndGet();
                            }
                        });
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(dup.get()).isZero();
            assertThat(seen).hasSize(60);
        }
    }

    @Test
    void twoProcessesOfOneNodeKeepOneUnbrokenChain() {
        Path where = storeUrl().isPresent() ? dir.resolve("plain") : dir;
        try (WardenApp a = openWithoutSlots(where); WardenApp b = openWithoutSlots(storeUrl().isPresent() ? dir.resolve("plain2") : dir)) {
            assertThat(a.ledger().chain()).isEqualTo(b.ledger().chain());
            for (int i = 0; i < 5; i++) {
                a.queue().enqueue(a.parser().parse(TestWarden.noop()), "a");
                b.queue().enqueue(b.parser().parse(TestWarden.noop()), "b");
                b.queue().enqueue(b.parser().parse(TestWarden.noop()), "b");
            }
            // a transaction that appended and then rolled back leaves a's guess of the head wrong
            assertThatThrownBy(() -> a.store().write(tx -> {
                a.ledger().append(tx, dev.warden.ledger.EventDraft.info("test.rolled_back", "test", null, "a", Json.object()));
                throw new IllegalStateException("roll back");
            })).hasMessageContaining("roll back");
            a.queue().enqueue(a.parser().parse(TestWarden.noop()), "a");
            b.queue().enqueue(b.parser().parse(TestWarden.noop()), "b");
            Ledger.VerifyReport v = Ledger.verify(a.store(), Optional.empty());
            assertThat(v.ok()).as(String.valueOf(v.firstBad())).isTrue();
            assertThat(a.store().read(tx -> tx.ledgerTail(10_000)).stream().map(r -> r.event()))
                    .doesNotContain("test.rolled_back");
        }
    }

    @Test
    void claimsHighestPriorityFirstThenOldest() {
        JobRow low = enqueue(TestWarden.noop().put("priority", -1));
        JobRow first = enqueue(TestWarden.noop());
        clock.advance(Duration.ofMillis(1));
        JobRow second = enqueue(TestWarden.noop());
        JobRow high = enqueue(TestWarden.noop().put("priority", 10));

        List<JobRow> got = claim("w1", 10);

        assertThat(got).extracting(JobRow::id).containsExactly(high.id(), first.id(), second.id(), low.id());
        assertThat(got).allSatisfy(r -> {
            assertThat(r.state()).isEqualTo(JobState.running);
            assertThat(r.attempts()).isEqualTo(1);
            assertThat(r.leaseOwner()).isEqualTo("w1");
            assertThat(r.leaseExpiresAt()).isEqualTo(clock.millis() + 30_000);
        });
    }

    @Test
    void listingsAreNewestFirstWithOrWithoutAStateFilter() {
        JobRow a = enqueue(TestWarden.noop());
        clock.advance(Duration.ofMillis(3));
        JobRow b = enqueue(TestWarden.noop());
        clock.advance(Duration.ofSeconds(2));
        JobRow c = enqueue(TestWarden.noop());
        clock.advance(Duration.ofMinutes(1));
        JobRow d = enqueue(TestWarden.noop());
        // the id's ULID carries the enqueue time (the listings' order)
        assertThat(List.of(a, b, c, d)).allSatisfy(r -> assertThat(r.id().substring(0, 14))
                .isEqualTo(dev.warden.common.Ids.newJobId(r.createdAt()).substring(0, 14)));
        List<JobRow> running = claim("w1", 10);
        assertThat(running).hasSize(4);
        queue.complete(List.of(new Outcome.Succeeded(running.stream().filter(r -> r.id().equals(b.id())).findFirst().orElseThrow(),
                Json.object(), 1, null)));

        assertThat(queue.list(dev.warden.store.Tx.JobFilter.all(10))).extracting(JobRow::id)
                .containsExactly(d.id(), c.id(), b.id(), a.id());
        assertThat(queue.list(new dev.warden.store.Tx.JobFilter(JobState.running, null, 10, 0))).extracting(JobRow::id)
                .containsExactly(d.id(), c.id(), a.id());
        assertThat(queue.list(new dev.warden.store.Tx.JobFilter(JobState.running, null, 2, 1))).extracting(JobRow::id)
                .containsExactly(c.id(), a.id());
    }

    /** Every state's listing (each served by its own index or the primary key, V12) and the counts by state. */
    @Test
    void eachStateListsItsJobsNewestFirstAndIsCounted() {
        List<JobRow> jobs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            jobs.add(enqueue(TestWarden.noop().put("max_attempts", 1)));
            clock.advance(Duration.ofMillis(2));
        }
        List<JobRow> claimed = claim("w1", 7); // the oldest seven; two stay queued
        java.util.function.IntFunction<JobRow> c = i -> claimed.stream().filter(r -> r.id().equals(jobs.get(i).id())).findFirst().orElseThrow();
        queue.complete(List.of(
                new Outcome.Succeeded(c.apply(0), Json.object(), 1, null),
                new Outcome.Succeeded(c.apply(3), Json.object(), 1, null),
                new Outcome.Failed(c.apply(1), "denied", "no", false, 1, null),
                new Outcome.Failed(c.apply(4), "denied", "no", false, 1, null),
                new Outcome.Failed(c.apply(2), "transient", "boom", true, 1, null), // no attempts left: dead
                new Outcome.Cancelled(c.apply(5), "cancelled", "by operator", 1, null)));
        Map<JobState, List<JobRow>> expected = Map.of(
                JobState.succeeded, List.of(jobs.get(3), jobs.get(0)),
                JobState.failed, List.of(jobs.get(4), jobs.get(1)),
                JobState.dead, List.of(jobs.get(2)),
                JobState.cancelled, List.of(jobs.get(5)),
                JobState.running, List.of(jobs.get(6)),
                JobState.queued, List.of(jobs.get(8), jobs.get(7)),
                JobState.escalated, List.of());
        expected.forEach((state, rows) -> assertThat(queue.list(new dev.warden.store.Tx.JobFilter(state, null, 10, 0)))
                .as("listing of %s", state).extracting(JobRow::id).containsExactlyElementsOf(rows.stream().map(JobRow::id).toList()));
        Map<JobState, Long> counts = new java.util.EnumMap<>(JobState.class);
        expected.forEach((state, rows) -> {
            if (!rows.isEmpty()) {
                counts.put(state, (long) rows.size());
            }
        });
        assertThat(queue.countByState()).isEqualTo(counts);
    }

    @Test
    void jobIsNotClaimedBeforeRunAfter() {
        enqueue(TestWarden.noop().put("run_after", "2026-11-22T01:05:00Z"));
        assertThat(claim("w1", 5)).isEmpty();
        clock.advance(Duration.ofMinutes(5));
        assertThat(claim("w1", 5)).hasSize(1);
    }

    @Test
    void idempotencyKeyReturnsTheFirstJob() {
        Queue.Enqueued a = queue.enqueue(app.parser().parse(TestWarden.noop().put("idempotency_key", "k1")), "t");
        Queue.Enqueued b = queue.enqueue(app.parser().parse(TestWarden.noop().put("idempotency_key", "k1").put("priority", 5)), "t");
        assertThat(a.created()).isTrue();
        assertThat(b.created()).isFalse();
        assertThat(b.job().id()).isEqualTo(a.job().id());
        assertThat(queue.list(dev.warden.store.Tx.JobFilter.all(10))).hasSize(1);
    }

    @Test
    void aRepeatedIdempotencyKeyWithinOneBatchEnqueuesOnce() {
        List<Queue.Enqueued> r = queue.enqueueAll(List.of(
                app.parser().parse(TestWarden.noop().put("idempotency_key", "same")),
                app.parser().parse(TestWarden.noop()),
                app.parser().parse(TestWarden.noop().put("idempotency_key", "same").put("priority", 9))), "t");
        assertThat(r).extracting(Queue.Enqueued::created).containsExactly(true, true, false);
        assertThat(r.get(2).job().id()).isEqualTo(r.get(0).job().id());
        assertThat(queue.list(dev.warden.store.Tx.JobFilter.all(10))).hasSize(2);
        assertThat(app.store().read(tx -> tx.ledgerTail(10)).stream().filter(e -> e.event().equals("job.enqueued")).count()).isEqualTo(2);
    }

    @Test
    void retryableFailureBacksOffExponentiallyThenGoesDead() {
        JobRow job = enqueue(TestWarden.noop().put("max_attempts", 3));
        long[] delays = new long[2];
        for (int attempt = 1; attempt <= 3; attempt++) {
            JobRow c = claim("w1", 1).get(0);
            assertThat(c.attempts()).isEqualTo(attempt);
            JobRow after = queue.complete(List.of(new Outcome.Failed(c, "transient", "boom", true, 1, null))).get(0).orElseThrow();
            if (attempt < 3) {
                assertThat(after.state()).isEqualTo(JobState.queued);
                long delay = after.runAfter() - clock.millis();
                delays[attempt - 1] = delay;
                long cap = 1000L << (attempt - 1);
                assertThat(delay).as("attempt %d delay within equal-jitter bounds", attempt).isBetween(cap / 2, cap);
                assertThat(claim("w1", 1)).as("not claimable during backoff").isEmpty();
                clock.advance(Duration.ofMillis(delay));
            } else {
                assertThat(after.state()).isEqualTo(JobState.dead);
                assertThat(after.errorCode()).isEqualTo("transient");
            }
        }
        assertThat(queue.get(job.id()).state()).isEqualTo(JobState.dead);
    }

    @Test
    void nonRetryableFailureIsTerminal() {
        enqueue(TestWarden.noop());
        JobRow c = claim("w1", 1).get(0);
        JobRow after = queue.complete(List.of(new Outcome.Failed(c, "policy_denied", "no", false, 1, null))).get(0).orElseThrow();
        assertThat(after.state()).isEqualTo(JobState.failed);
        assertThat(after.finishedAt()).isEqualTo(clock.millis());
        assertThat(claim("w1", 1)).isEmpty();
    }

    @Test
    void expiredLeaseIsRecoveredOnceAndCountsTheAttempt() {
        JobRow job = enqueue(TestWarden.noop().put("retry_on_lease_loss", true));
        claim("dead-worker", 1);
        clock.advance(Duration.ofSeconds(29));
        assertThat(queue.reapExpiredLeases("reaper")).as("lease still valid").isZero();
        clock.advance(Duration.ofSeconds(2));
        assertThat(queue.reapExpiredLeases("reaper")).isEqualTo(1);
        assertThat(queue.reapExpiredLeases("reaper")).as("recovered once only").isZero();
        JobRow r = queue.get(job.id());
        assertThat(r.state()).isEqualTo(JobState.queued);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.errorCode()).isEqualTo("lease_lost");
        clock.advance(Duration.ofMinutes(1));
        assertThat(claim("w2", 1)).singleElement().satisfies(c -> assertThat(c.attempts()).isEqualTo(2));
    }

    @Test
    void expiredLeaseWithoutRetryIsLeftFailedForAHuman() {
        JobRow job = enqueue(TestWarden.noop().put("retry_on_lease_loss", false));
        claim("dead-worker", 1);
        clock.advance(Duration.ofSeconds(31));
        queue.reapExpiredLeases("reaper");
        JobRow r = queue.get(job.id());
        assertThat(r.state()).isEqualTo(JobState.failed);
        assertThat(r.errorCode()).isEqualTo("lease_lost");
    }

    @Test
    void outcomesRecordedTogetherAreEachWrittenAsTheirOwnAndALostAttemptIsFencedOut() {
        List<JobRow> jobs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            jobs.add(enqueue(TestWarden.noop().put("max_attempts", 3)));
        }
        List<JobRow> c = claim("w1", 5);
        assertThat(c).extracting(JobRow::id).containsExactlyInAnyOrderElementsOf(jobs.stream().map(JobRow::id).toList());
        // the last job's first attempt is lost to a second one, so an outcome for the first must not land
        queue.complete(List.of(new Outcome.Failed(c.get(4), "transient", "boom", true, 1, null)));
        clock.advance(Duration.ofSeconds(2));
        JobRow again = claim("w2", 1).get(0);
        assertThat(again.claims()).isEqualTo(2);
        clock.advance(Duration.ofMillis(7));

        List<Optional<JobRow>> written = queue.complete(List.of(
                new Outcome.Succeeded(c.get(0), Json.object().put("answer", 42), 3, null),
                new Outcome.Failed(c.get(1), "transient", "try again", true, 4, null),
                new Outcome.Failed(c.get(2), "policy_denied", "no", false, 5, null),
                new Outcome.Cancelled(c.get(3), "cancelled", "stopped", 6, null),
                new Outcome.Succeeded(c.get(4), Json.object(), 7, null)));

        assertThat(written.get(4)).as("the lost attempt is fenced out").isEmpty();
        assertThat(queue.get(again.id())).as("and the attempt that won it is untouched").isEqualTo(again);
        for (int i = 0; i < 4; i++) {
            JobRow row = written.get(i).orElseThrow();
            assertThat(queue.get(row.id())).as("outcome %d is stored exactly as returned", i).isEqualTo(row);
            assertThat(row.updatedAt()).isEqualTo(clock.millis());
        }
        assertThat(written.get(0).get().state()).isEqualTo(JobState.succeeded);
        assertThat(Json.parse(written.get(0).get().result()).get("answer").asInt()).isEqualTo(42);
        assertThat(written.get(1).get().state()).isEqualTo(JobState.queued);
        assertThat(written.get(1).get().runAfter()).isGreaterThan(clock.millis());
        assertThat(written.get(1).get().errorMessage()).isEqualTo("try again");
        assertThat(written.get(2).get().state()).isEqualTo(JobState.failed);
        assertThat(written.get(2).get().errorCode()).isEqualTo("policy_denied");
        assertThat(written.get(3).get().state()).isEqualTo(JobState.cancelled);
        assertThat(succeed(again).attempts()).isEqualTo(2);

        // the same attempt twice in one call: the first outcome lands, the second finds it no longer running
        enqueue(TestWarden.noop());
        JobRow once = claim("w1", 1).get(0);
        List<Optional<JobRow>> twice = queue.complete(List.of(
                new Outcome.Succeeded(once, Json.object(), 1, null),
                new Outcome.Failed(once, "late", "too late", false, 1, null)));
        assertThat(twice.get(0)).hasValueSatisfying(r -> assertThat(r.state()).isEqualTo(JobState.succeeded));
        assertThat(twice.get(1)).isEmpty();
        assertThat(queue.get(once.id()).state()).isEqualTo(JobState.succeeded);
    }

    /** A worker's turn without slots: its outcomes and its claim in one call (one statement on PostgreSQL). */
    @Test
    void aTurnRecordsItsOutcomesAndClaimsButNotAJobItsOwnOutcomeRequeued() {
        try (WardenApp plain = openWithoutSlots(dir.resolve("plain"))) {
            Queue q = plain.queue();
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                ids.add(q.enqueue(plain.parser().parse(TestWarden.noop()), "test").job().id());
            }
            List<JobRow> first = ((ClaimResult.Claimed) q.claim("w1", 2)).jobs();
            JobRow released = first.get(0);
            JobRow done = q.complete(List.of(new Outcome.Succeeded(first.get(1), Json.object(), 1, null))).get(0).orElseThrow();

            Queue.Turn turn = q.completeAndClaim(List.of(
                    new Outcome.Released(released, 1, null),
                    new Outcome.Succeeded(first.get(1), Json.object(), 1, null)), "w1", 10);

            assertThat(turn.completed().get(0)).hasValueSatisfying(r -> {
                assertThat(r.state()).isEqualTo(JobState.queued);
                assertThat(r.attempts()).as("a released attempt is not counted").isZero();
                assertThat(q.get(r.id())).isEqualTo(r);
            });
            assertThat(turn.completed().get(1)).as("already succeeded: fenced out").isEmpty();
            assertThat(q.get(done.id())).isEqualTo(done);
            List<JobRow> claimed = ((ClaimResult.Claimed) turn.claimed()).jobs();
            Set<String> others = new HashSet<>(ids);
            others.removeAll(Set.of(released.id(), done.id()));
            assertThat(claimed).extracting(JobRow::id).as("the other two, not the one this turn released")
                    .containsExactlyInAnyOrderElementsOf(others);
            assertThat(claimed).allSatisfy(r -> {
                assertThat(r.state()).isEqualTo(JobState.running);
                assertThat(q.get(r.id())).isEqualTo(r);
            });
            assertThat(((ClaimResult.Claimed) q.claim("w1", 10)).jobs()).singleElement()
                    .satisfies(r -> assertThat(r.id()).isEqualTo(released.id()));
            assertThat(q.claim("w1", 10)).isInstanceOf(ClaimResult.Empty.class);
        }
    }

    @Test
    void staleWorkerCannotFinishAnAttemptItLost() {
        enqueue(TestWarden.noop());
        JobRow mine = claim("slow", 1).get(0);
        clock.advance(Duration.ofSeconds(31));
        queue.reapExpiredLeases("reaper");
        clock.advance(Duration.ofMinutes(1));
        JobRow theirs = claim("fast", 1).get(0);

        assertThat(queue.complete(List.of(new Outcome.Succeeded(mine, Json.object(), 1, null))).get(0))
                .as("fenced out: the claim token changed").isEmpty();
        assertThat(succeed(theirs).state()).isEqualTo(JobState.succeeded);
    }

    @Test
    void heartbeatKeepsTheLeaseAliveAndReportsCancellation() {
        JobRow job = enqueue(TestWarden.noop());
        claim("w1", 1);
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(20));
            assertThat(queue.heartbeat("w1", List.of(job.id()))).singleElement()
                    .satisfies(v -> assertThat(v.cancelRequested()).isFalse());
            assertThat(queue.reapExpiredLeases("reaper")).isZero();
        }
        queue.cancel(job.id(), "operator");
        assertThat(queue.heartbeat("w1", List.of(job.id()))).singleElement()
                .satisfies(v -> assertThat(v.cancelRequested()).isTrue());
    }

    @Test
    void anAttemptTheWorkerGaveUpOnIsNotKeptAliveByItsHeartbeats() {
        JobRow kept = enqueue(TestWarden.noop());
        JobRow abandoned = enqueue(TestWarden.noop());
        assertThat(claim("w1", 2)).hasSize(2);
        for (int i = 0; i < 2; i++) {
            clock.advance(Duration.ofSeconds(20));
            assertThat(queue.heartbeat("w1", List.of(kept.id()))).hasSize(2);
        }
        assertThat(queue.reapExpiredLeases("reaper")).isEqualTo(1);
        assertThat(queue.get(abandoned.id()).state()).isEqualTo(JobState.queued);
        assertThat(queue.get(kept.id()).state()).isEqualTo(JobState.running);
    }

    @Test
    void slotCapacityHoldsAtClaimTime() {
        for (int i = 0; i < 3; i++) {
            ObjectNode s = TestWarden.noop();
            ((ObjectNode) s.get("budgets")).put("slot", "gpu");
            enqueue(s);
        }
        JobRow free = enqueue(TestWarden.noop());
        List<JobRow> first = claim("w1", 10);
        assertThat(first).hasSize(2).extracting(JobRow::slot).containsExactlyInAnyOrder("gpu", null);
        assertThat(first).extracting(JobRow::id).contains(free.id());
        assertThat(claim("w2", 10)).as("gpu slot full").isEmpty();
        succeed(first.stream().filter(r -> "gpu".equals(r.slot())).findFirst().orElseThrow());
        assertThat(claim("w2", 10)).hasSize(1);
    }

    @Test
    void gatedSlotIsLeftOutOfTheClaimWhileItsGateIsClosed() {
        ObjectNode s = TestWarden.noop();
        ((ObjectNode) s.get("budgets")).put("slot", "gpu");
        JobRow gpu = enqueue(s);
        JobRow free = enqueue(TestWarden.noop());
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean(true);
        queue.gateSlots(slot -> closed.get() && slot.equals("gpu")
                ? Optional.of(new SlotGate.Closed("BELOW_THRESHOLD", "max free VRAM 1024 MiB on 1 GPU(s) < 4000 MiB"))
                : Optional.empty());
        assertThat(claim("w1", 10)).extracting(JobRow::id).containsExactly(free.id());
        assertThat(claim("w1", 10)).as("still closed").isEmpty();
        clock.advance(Duration.ofMinutes(5));
        assertThat(claim("w1", 10)).isEmpty();
        List<dev.warden.store.Tx.LedgerRow> gated = app.store().read(tx -> tx.ledgerTail(100)).stream()
                .filter(r -> r.event().equals("slot.gated")).toList();
        assertThat(gated).as("one entry per 10 minutes while closed").hasSize(1);
        assertThat(Json.parse(gated.get(0).entry()).path("details").path("reason").asText()).isEqualTo("BELOW_THRESHOLD");
        clock.advance(Duration.ofMinutes(6));
        assertThat(claim("w1", 10)).isEmpty();
        assertThat(app.store().read(tx -> tx.ledgerTail(100)).stream().filter(r -> r.event().equals("slot.gated"))).hasSize(2);
        closed.set(false);
        assertThat(claim("w1", 10)).extracting(JobRow::id).containsExactly(gpu.id());
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
    }

    @Test
    void unconfiguredSlotIsDeniedAtEnqueue() {
        ObjectNode s = TestWarden.noop();
        ((ObjectNode) s.get("budgets")).put("slot", "tpu");
        assertThatThrownBy(() -> enqueue(s)).isInstanceOf(WardenException.class)
                .satisfies(e -> assertThat(((WardenException) e).code()).isEqualTo(ErrorCode.POLICY_DENIED))
                .hasMessageContaining("budgets.slot: slot 'tpu' has no capacity");
    }

    @Test
    void killSwitchFlagAndFileEachStopClaims() throws Exception {
        enqueue(TestWarden.noop());
        app.killSwitch().set(true, "operator");
        assertThat(queue.claim("w1", 1)).isInstanceOf(ClaimResult.KillSwitchOn.class);
        app.killSwitch().set(false, "operator");
        Files.writeString(dir.resolve("KILL_SWITCH"), "");
        assertThat(queue.claim("w1", 1)).isInstanceOf(ClaimResult.KillSwitchOn.class);
        assertThat(app.killSwitch().isOn()).isTrue();
        Files.delete(dir.resolve("KILL_SWITCH"));
        assertThat(queue.claim("w1", 1)).isInstanceOf(ClaimResult.Claimed.class);
    }

    @Test
    void cancelAndOperatorRetry() {
        JobRow queued = enqueue(TestWarden.noop());
        assertThat(queue.cancel(queued.id(), "op").state()).isEqualTo(JobState.cancelled);
        assertThatThrownBy(() -> queue.cancel(queued.id(), "op")).hasMessageContaining("already cancelled");
        JobRow again = queue.retry(queued.id(), "op");
        assertThat(again.state()).isEqualTo(JobState.queued);
        assertThat(again.attempts()).isZero();
        JobRow running = claim("w1", 1).get(0);
        assertThatThrownBy(() -> queue.retry(running.id(), "op")).hasMessageContaining("only failed, dead or cancelled");
        assertThat(queue.cancel(running.id(), "op").cancelRequested()).isTrue();
        assertThatThrownBy(() -> queue.cancel("job-nope", "op")).isInstanceOf(WardenException.class)
                .satisfies(e -> assertThat(((WardenException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void concurrentClaimersOnSeparateConnectionsNeverShareAJob() throws Exception {
        List<dev.warden.job.JobSpec> specs = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            specs.add(app.parser().parse(TestWarden.noop()));
        }
        queue.enqueueAll(specs, "test");
        // a second app on the same SQLite file: its own connections, its own process-level write lock
        try (WardenApp other = TestWarden.open(dir, clock, storeUrl(), null)) {
            Set<String> seen = ConcurrentHashMap.newKeySet();
            AtomicInteger dupes = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Queue q = t % 2 == 0 ? queue : other.queue();
                String owner = "w" + t;
                threads.add(Thread.ofPlatform().start(() -> {
                    while (true) {
                        List<JobRow> got = q.claim(owner, 7) instanceof ClaimResult.Claimed c ? c.jobs() : List.of();
                        if (got.isEmpty()) {
                            return;
                        }
                        got.forEach(r -> {
                            if (!seen.add(r.id())) {
                                dupes.incrementAndGet();
                            }
                        });
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(dupes.get()).isZero();
            assertThat(seen).hasSize(400);
            assertThat(new HashSet<>(queue.list(new dev.warden.store.Tx.JobFilter(JobState.running, null, 1000, 0))))
                    .hasSize(400);
        }
    }
}
