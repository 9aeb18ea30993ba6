package dev.warden.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.queue.ClaimResult;
import dev.warden.queue.Outcome;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scheduler semantics on every store ({@link SqliteScheduleTest}, {@link PostgresScheduleTest}). */
abstract class ScheduleContract {
    static final String EVERY_10_S = "*/10 * * * * *";

    @TempDir
    Path dir;

    MutableClock clock = MutableClock.at("2026-11-22T01:00:01Z");
    WardenApp app;
    Schedules schedules;

    abstract Optional<String> storeUrl();

    void release() {}

    @BeforeEach
    void open() {
        app = TestWarden.open(dir, clock, storeUrl(), null);
        schedules = app.schedules();
    }

    @AfterEach
    void close() {
        if (app == null) {
            return;
        }
        assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        app.close();
        release();
    }

    private List<JobRow> jobs() {
        return app.queue().list(new Tx.JobFilter(null, null, 1000, 0));
    }

    private String ledger() {
        StringBuilder b = new StringBuilder();
        app.store().read(tx -> tx.ledgerTail(10_000)).forEach(r -> b.append(r.entry()).append('\n'));
        return b.toString();
    }

    private void add(String name, boolean allowOverlap, String catchUp) {
        schedules.add(name, EVERY_10_S, TestWarden.noop(), allowOverlap, catchUp, "test");
    }

    private void finishAll() {
        while (app.queue().claim("w", 100) instanceof ClaimResult.Claimed c) {
            c.jobs().forEach(j -> app.queue().complete(List.of(new Outcome.Succeeded(j, dev.warden.common.Json.object(), 1, null))));
        }
    }

    @Test
    void aNewScheduleIsDisabledAndDoesNotFire() {
        add("nightly", false, "one");
        clock.advance(Duration.ofMinutes(5));
        assertThat(schedules.tick("t")).isEmpty();
        assertThat(schedules.list()).singleElement().satisfies(s -> assertThat(s.enabled()).isFalse());
    }

    @Test
    void firesOnceAtEachCronTime() {
        add("tick", false, "one");
        schedules.setEnabled("tick", true, "test");
        assertThat(schedules.tick("t")).as("not due yet").isEmpty();
        clock.advance(Duration.ofSeconds(9));
        List<String> fired = schedules.tick("t");
        assertThat(fired).hasSize(1);
        assertThat(schedules.tick("t")).as("the same fire never enqueues twice").isEmpty();
        JobRow job = app.queue().get(fired.get(0));
        assertThat(job.idempotencyKey()).isEqualTo("schedule:tick:2026-11-22T01:00:10.000Z");
        assertThat(job.labels()).contains("\"schedule\":\"tick\"");
        finishAll();
        clock.advance(Duration.ofSeconds(10));
        assertThat(schedules.tick("t")).hasSize(1);
        assertThat(ledger()).contains("schedule.added", "schedule.enabled", "schedule.fired");
    }

    @Test
    void aFireWhileThePreviousRunIsActiveIsSkippedAndRecorded() {
        add("slow", false, "one");
        schedules.setEnabled("slow", true, "test");
        clock.advance(Duration.ofSeconds(9));
        assertThat(schedules.tick("t")).hasSize(1);
        clock.advance(Duration.ofSeconds(10));
        assertThat(schedules.tick("t")).as("previous run still queued").isEmpty();
        assertThat(ledger()).contains("schedule.skipped", "is still active");
        finishAll();
        clock.advance(Duration.ofSeconds(10));
        assertThat(schedules.tick("t")).hasSize(1);
    }

    @Test
    void overlapCanBeAllowed() {
        add("fast", true, "one");
        schedules.setEnabled("fast", true, "test");
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(10));
            assertThat(schedules.tick("t")).hasSize(1);
        }
        assertThat(jobs()).hasSize(3);
    }

    @Test
    void afterDowntimeOneCatchUpFireByDefault() {
        add("catch", true, "one");
        schedules.setEnabled("catch", true, "test");
        clock.advance(Duration.ofMinutes(10));
        assertThat(schedules.tick("t")).hasSize(1);
        assertThat(schedules.tick("t")).isEmpty();
        assertThat(schedules.list().get(0).nextFireAt()).isGreaterThan(clock.millis());
        assertThat(ledger()).contains("\"caught_up\":true");
    }

    @Test
    void catchUpNoneSkipsWhatWasMissed() {
        add("strict", true, "none");
        schedules.setEnabled("strict", true, "test");
        clock.advance(Duration.ofMinutes(10));
        assertThat(schedules.tick("t")).isEmpty();
        assertThat(ledger()).contains("schedule.missed");
        clock.advance(Duration.ofSeconds(10));
        assertThat(schedules.tick("t")).hasSize(1);
    }

    @Test
    void twoNodesTickingTogetherEnqueueEachFireExactlyOnce() throws Exception {
        add("shared", true, "one");
        schedules.setEnabled("shared", true, "test");
        try (WardenApp other = TestWarden.open(dir, clock, storeUrl(), null)) {
            Set<String> fired = ConcurrentHashMap.newKeySet();
            for (int fire = 0; fire < 5; fire++) {
                clock.advance(Duration.ofSeconds(10));
                List<Thread> nodes = new ArrayList<>();
                for (Schedules s : List.of(schedules, other.schedules(), schedules, other.schedules())) {
                    nodes.add(Thread.ofPlatform().start(() -> fired.addAll(s.tick("node"))));
                }
                for (Thread t : nodes) {
                    t.join();
                }
            }
            assertThat(fired).hasSize(5);
            Set<String> keys = new HashSet<>();
            jobs().forEach(j -> assertThat(keys.add(j.idempotencyKey())).isTrue());
            assertThat(jobs()).hasSize(5).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.queued));
        }
    }

    @Test
    void badInputIsNamed() {
        assertThatThrownBy(() -> schedules.add("x", "61 * * * *", TestWarden.noop(), false, "one", "t"))
                .isInstanceOf(WardenException.class).hasMessageContaining("--cron: '61 * * * *' is not a cron expression");
        ObjectNode keyed = TestWarden.noop().put("idempotency_key", "k");
        assertThatThrownBy(() -> schedules.add("x", EVERY_10_S, keyed, false, "one", "t"))
                .hasMessageContaining("idempotency_key: a scheduled spec may not set one");
        assertThatThrownBy(() -> schedules.add("bad name", EVERY_10_S, TestWarden.noop(), false, "one", "t"))
                .hasMessageContaining("NAME: 'bad name'");
        assertThatThrownBy(() -> schedules.setEnabled("nope", true, "t")).isInstanceOfSatisfying(WardenException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        add("dup", false, "one");
        assertThatThrownBy(() -> add("dup", false, "one")).hasMessageContaining("exists");
        schedules.remove("dup", "t");
        assertThat(schedules.list()).isEmpty();
    }
}
