package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.testing.FakeOpenAi;
import dev.warden.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Budgets, refusals and the breaker: what the router refuses before any byte goes upstream. */
class RouterBudgetTest {
    /** The reservation of one call on m-a (see RouterFaultTest). */
    static final long RESERVATION = RouterFaultTest.A_RESERVATION_NANO;

    @TempDir
    Path dir;

    static ObjectNode request() {
        return RouterFaultTest.request(false);
    }

    /** A day cap of 10.5 reservations; upstream replies without usage, so each call costs exactly one reservation. */
    private void concurrentCallsNeverOvershootTheDayCap(Optional<String> store) throws Exception {
        String cap = Usd.format(RESERVATION * 21 / 2);
        try (ModelFixture f = new ModelFixture(dir, "  budget: {usd_per_day: " + cap + "}", store)) {
            f.a.otherwise(body -> new FakeOpenAi.Reply("ok", 0, 0, false));
            int n = 50;
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger refused = new AtomicInteger();
            List<Future<Boolean>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
                for (int i = 0; i < n; i++) {
                    results.add(pool.submit(() -> {
                        go.await();
                        try {
                            f.router().complete(ModelFixture.caller(), "coder", request());
                            return true;
                        } catch (Router.CallFailed e) {
                            assertThat(e.code()).isEqualTo("budget_exceeded:usd_per_day");
                            refused.incrementAndGet();
                            return false;
                        }
                    }));
                }
                go.countDown();
                long ok = 0;
                for (Future<Boolean> r : results) {
                    ok += r.get() ? 1 : 0;
                }
                assertThat(ok).isEqualTo(10);
                assertThat(refused).hasValue(40);
            }
            long spent = f.spentToday();
            assertThat(spent).isEqualTo(10 * RESERVATION).isLessThanOrEqualTo(Usd.toNano(new java.math.BigDecimal(cap)));
            assertThat(f.b.received()).isEmpty(); // a budget refusal is not a reason to fall back
        }
    }

    @Test
    void fiftyConcurrentCallsNeverOvershootTheDayCapOnSqlite() throws Exception {
        concurrentCallsNeverOvershootTheDayCap(Optional.empty());
    }

    @Test
    void fiftyConcurrentCallsNeverOvershootTheDayCapOnPostgres() throws Exception {
        TestPostgres.Database db = new TestPostgres.Database();
        try {
            concurrentCallsNeverOvershootTheDayCap(Optional.of(db.url()));
        } finally {
            db.drop();
        }
    }

    @Test
    void perCallCapRefusesBeforeCalling() {
        try (ModelFixture f = new ModelFixture(dir, "  budget: {usd_per_call: 0.0001}", Optional.empty())) {
            Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(ModelFixture.caller(), "coder", request()));
            assertThat(e.code()).isEqualTo("budget_exceeded:usd_per_call");
            assertThat(e.getMessage()).contains("0.000203").contains("0.0001");
            assertThat(f.a.received()).isEmpty();
            assertThat(f.spentToday()).isZero();
        }
    }

    @Test
    void hostedModelWithoutAPriceIsRefused() {
        String extra = """
                  routes:
                    free: {primary: nofee}
                """;
        // a second models list cannot be appended in YAML; write a whole config instead
        try (FakeOpenAi up = new FakeOpenAi()) {
            Path key = ModelFixture.writeKey(dir.resolve("k"), "sk-test-0000000000000000");
            String yaml = """
                    models:
                      providers: [{id: h, base_url: "%s", key: "file:%s"}]
                      models: [{id: nofee, provider: h, name: n}]
                      routes: {free: {primary: nofee}}
                    """.formatted(up.baseUrl(), key);
            try (var app = dev.warden.testing.TestWarden.open(dir.resolve("d"), java.time.Clock.systemUTC(), yaml)) {
                Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                        () -> app.router().complete(ModelFixture.caller(), "free", request()));
                assertThat(e.code()).isEqualTo("no_price");
                assertThat(e.record().attempts()).extracting(Router.Attempt::outcome).containsExactly("no_price");
                assertThat(up.received()).isEmpty();
            }
        }
        assertThat(extra).isNotEmpty();
    }

    @Test
    void localModelCostsNothingButCountsTokens() {
        try (FakeOpenAi up = new FakeOpenAi()) {
            String yaml = """
                    models:
                      providers: [{id: l, base_url: "%s", local: true}]
                      models: [{id: loc, provider: l, name: qwen}]
                      routes: {general: {primary: loc}}
                    """.formatted(up.baseUrl());
            try (var app = dev.warden.testing.TestWarden.open(dir.resolve("d"), java.time.Clock.systemUTC(), yaml)) {
                Router.CallRecord r = app.router().complete(ModelFixture.caller(), "general", request()).record();
                assertThat(r.actualNano()).isZero();
                assertThat(r.inputTokens() + r.outputTokens()).isEqualTo(15);
                assertThat(up.received().get(0).headers()).doesNotContainKey("authorization");
            }
        }
    }

    @Test
    void missingKeyFailsClosed() {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            java.nio.file.Files.delete(dir.resolve("a.key"));
            Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(ModelFixture.caller(), "coder", request()));
            assertThat(e.code()).isEqualTo("missing_key");
            assertThat(f.a.received()).isEmpty();
            assertThat(f.b.received()).isEmpty();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aKeyFileLoosenedAfterStartIsNotUsedAndAKeyProvisionedLaterIsScrubbed() throws Exception {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            java.nio.file.Files.setPosixFilePermissions(dir.resolve("a.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(ModelFixture.caller(), "coder", request()));
            assertThat(e.code()).isEqualTo("missing_key");
            assertThat(f.a.received()).isEmpty();
            // a new key written (0600) after start-up is used, and scrubbed from what the upstream echoes
            String later = "sk-provisioned-later-0123456789abcdef";
            ModelFixture.writeKey(dir.resolve("a.key"), later);
            f.a.then(new FakeOpenAi.Status(500, "echo " + later));
            f.router().complete(ModelFixture.caller(), "coder", request());
            assertThat(f.a.received().get(0).headers().get("authorization")).isEqualTo("Bearer " + later);
            assertThat(f.app.store().read(tx -> tx.ledgerTail(10)).toString()).doesNotContain(later).contains("[secret]");
        }
    }

    @Test
    void aPlainAnswerIsDeliveredBeforeTheCallIsSettledAndAClientGoneIsStillCharged() {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            f.a.otherwise(body -> new FakeOpenAi.Reply("ok", 0, 0, false)); // no usage: charged the reservation
            String day = f.app.spend().today();
            long[] spentWhenDelivered = {-1};
            String[] ledgerWhenDelivered = {null};
            f.router().complete(ModelFixture.caller(), "coder", request(), raw -> {
                assertThat(new String(raw, java.nio.charset.StandardCharsets.UTF_8)).contains("ok");
                spentWhenDelivered[0] = f.app.spend().spentNano("day", day);
                ledgerWhenDelivered[0] = f.app.store().read(tx -> tx.ledgerTail(10)).toString();
            });
            assertThat(spentWhenDelivered[0]).isZero();
            assertThat(ledgerWhenDelivered[0]).doesNotContain("model.call");
            assertThat(f.app.spend().spentNano("day", day)).isEqualTo(RESERVATION);
            // the client went away while the answer was written: the upstream did the work, so it is charged and recorded
            java.io.UncheckedIOException gone = catchThrowableOfType(java.io.UncheckedIOException.class,
                    () -> f.router().complete(ModelFixture.caller(), "coder", request(), raw -> {
                        throw new java.io.IOException("broken pipe");
                    }));
            assertThat(gone).hasRootCauseMessage("broken pipe");
            assertThat(f.app.spend().spentNano("day", day)).isEqualTo(2 * RESERVATION);
            assertThat(f.app.store().read(tx -> tx.ledgerTail(10)).toString()).contains("client_disconnected");
        }
    }

    @Test
    void tokenBudgetOfAJobIsReservedAndSettled() {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            long[] used = {0};
            Router.TokenBudget budget = new Router.TokenBudget() {
                @Override
                public boolean reserve(long tokens) {
                    if (used[0] + tokens > 120) {
                        return false;
                    }
                    used[0] += tokens;
                    return true;
                }

                @Override
                public void settle(long reserved, long actual) {
                    used[0] += actual - reserved;
                }
            };
            Router.Caller caller = new Router.Caller("test", "job-x", "w", List.of(), Optional.of(budget), Optional.empty(), t -> true);
            f.router().complete(caller, "coder", request());
            assertThat(used[0]).isEqualTo(15); // 103 reserved, 15 reported
            f.router().complete(caller, "coder", request()); // 15 + 103 <= 120
            Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class, () -> f.router().complete(caller, "coder", request()));
            assertThat(e.code()).isEqualTo("budget_exceeded:tokens");
        }
    }

    @Test
    void breakerSkipsAFailingProviderThenProbesItAfterTheCooldown() {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            // the fixture's breaker opens after 100 failures; use a router with a threshold of 2
            ModelsConfig cfg = f.router().config();
            ModelsConfig tight = new ModelsConfig(cfg.providers(), cfg.models(), cfg.routes(), cfg.budget(),
                    new ModelsConfig.Breaker(2, Duration.ofSeconds(30)), cfg.timeouts());
            CircuitBreakers breakers = new CircuitBreakers(tight.breaker(), f.clock);
            Router router = new Router(tight, new UpstreamClient(tight.timeouts()), breakers, ProviderKeys.fromSystem(),
                    new Spend(f.app.store(), f.clock), f.app.ledger(), f.clock, () -> false);
            f.a.then(new FakeOpenAi.Status(503, "down"), new FakeOpenAi.Status(503, "down"));
            router.complete(ModelFixture.caller(), "coder", request());
            router.complete(ModelFixture.caller(), "coder", request());
            assertThat(breakers.view("a").state()).isEqualTo(CircuitBreakers.State.OPEN);
            Router.CallRecord skipped = router.complete(ModelFixture.caller(), "coder", request()).record();
            assertThat(skipped.attempts()).extracting(Router.Attempt::outcome).containsExactly("circuit_open", "ok");
            assertThat(f.a.received()).hasSize(2);
            f.clock.advance(Duration.ofSeconds(31));
            assertThat(breakers.view("a").state()).isEqualTo(CircuitBreakers.State.HALF_OPEN);
            // a probe whose client leaves before the outcome gives its permit back: the next call probes again
            f.a.then(new FakeOpenAi.StreamReply(List.of("x", "y"), -1, true, 10));
            router.stream(ModelFixture.caller(), "coder", RouterFaultTest.request(true), new Router.StreamSink() {
                @Override
                public void begin() throws java.io.IOException {
                    throw new java.io.IOException("client went away");
                }

                @Override
                public void data(String json) {
                }

                @Override
                public void fail(ObjectNode e) {
                }

                @Override
                public void end() {
                }
            });
            assertThat(breakers.view("a").state()).isEqualTo(CircuitBreakers.State.HALF_OPEN);
            Router.CallRecord probe = router.complete(ModelFixture.caller(), "coder", request()).record();
            assertThat(probe.attempts()).extracting(Router.Attempt::outcome).containsExactly("ok");
            assertThat(breakers.view("a").state()).isEqualTo(CircuitBreakers.State.CLOSED);
        }
    }

    @Test
    void pinnedRouteNeverLeavesItsListButAnUnpinnedOneEndsWithGeneral() {
        String extra = """
                  routes:
                    coder: {primary: m-a}
                    review: {primary: m-a, pinned: true}
                    general: {primary: m-b}
                """;
        try (FakeOpenAi a = new FakeOpenAi(); FakeOpenAi b = new FakeOpenAi()) {
            Path ka = ModelFixture.writeKey(dir.resolve("ka"), ModelFixture.KEY_A);
            String yaml = """
                    models:
                      providers: [{id: a, base_url: "%s", key: "file:%s"}, {id: b, base_url: "%s", key: "file:%s"}]
                      models:
                        - {id: m-a, provider: a, name: x, price: {input_per_1m: 1, output_per_1m: 1}}
                        - {id: m-b, provider: b, name: y, price: {input_per_1m: 1, output_per_1m: 1}}
                    %s
                    """.formatted(a.baseUrl(), ka, b.baseUrl(), ka, extra);
            try (var app = dev.warden.testing.TestWarden.open(dir.resolve("d"), java.time.Clock.systemUTC(), yaml)) {
                a.otherwise(x -> new FakeOpenAi.Status(503, "down"));
                Router.CallRecord r = app.router().complete(ModelFixture.caller(), "coder", request()).record();
                assertThat(r.model()).isEqualTo("m-b");
                Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                        () -> app.router().complete(ModelFixture.caller(), "review", request()));
                assertThat(e.record().attempts()).extracting(Router.Attempt::model).containsExactly("m-a");
                assertThat(b.received()).hasSize(1);
            }
        }
    }

    @Test
    void killSwitchAndUnknownTargetsAndForbiddenTargetsAreRefused() {
        try (ModelFixture f = new ModelFixture(dir, null, Optional.empty())) {
            Router.CallFailed unknown = catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(ModelFixture.caller(), "nope", request()));
            assertThat(unknown.code()).isEqualTo("model_not_found");
            Router.Caller limited = new Router.Caller("t", "c", "a", List.of(), Optional.empty(), Optional.empty(), "m-b"::equals);
            assertThat(catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(limited, "coder", request())).code()).isEqualTo("target_not_allowed");
            f.app.killSwitch().set(true, "test");
            assertThat(catchThrowableOfType(Router.CallFailed.class,
                    () -> f.router().complete(ModelFixture.caller(), "coder", request())).code()).isEqualTo("kill_switch");
            assertThat(f.a.received()).isEmpty();
        }
    }
}
