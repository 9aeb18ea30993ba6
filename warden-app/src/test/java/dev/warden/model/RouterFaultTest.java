package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.testing.FakeOpenAi;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fault the upstream can show, on the primary of the {@code coder} route: the exact class,
 * whether the router fell back to {@code m-b}, and what was charged (SPEC section 7).
 */
class RouterFaultTest {
    /** m-b's reply: 10 prompt + 5 completion tokens at 3 and 4 USD per 1M = 50,000 nano-USD. */
    static final long B_REPLY_NANO = 10 * 3_000 + 5 * 4_000;
    /** The reservation on m-a: "hello world!" = 12 chars = 3 tokens at 1 USD/1M, plus max_tokens 100 at 2 USD/1M. */
    static final long A_RESERVATION_NANO = 3 * 1_000 + 100 * 2_000;

    @TempDir
    Path dir;
    ModelFixture f;

    @BeforeEach
    void open() {
        f = new ModelFixture(dir, null, Optional.empty());
    }

    @AfterEach
    void close() {
        f.close();
    }

    static ObjectNode request(boolean stream) {
        ObjectNode r = Json.object().put("model", "coder").put("max_tokens", 100).put("stream", stream);
        r.putArray("messages").addObject().put("role", "user").put("content", "hello world!");
        return r;
    }

    static Stream<Arguments> transientFaults() {
        return Stream.of(
                Arguments.of("429", new FakeOpenAi.Status(429, "slow down"), "transient_quota"),
                Arguments.of("500", new FakeOpenAi.Status(500, "boom"), "transient_server"),
                Arguments.of("501", new FakeOpenAi.Status(501, "not implemented"), "transient_server"),
                Arguments.of("502", new FakeOpenAi.Status(502, "bad gateway"), "transient_server"),
                Arguments.of("503", new FakeOpenAi.Status(503, "unavailable"), "transient_server"),
                Arguments.of("504", new FakeOpenAi.Status(504, "gateway timeout"), "transient_server"),
                Arguments.of("reset before the response", new FakeOpenAi.Reset(), "transient_network"),
                Arguments.of("read timeout", new FakeOpenAi.Stall(3_000), "transient_network"));
    }

    @ParameterizedTest(name = "{0} -> {2}, falls back, charges only the fallback")
    @MethodSource("transientFaults")
    void transientFaultFallsBack(String name, FakeOpenAi.Behavior fault, String expectedClass) {
        f.a.then(fault);
        f.b.then(FakeOpenAi.reply("from b"));
        Router.Completion c = f.router().complete(ModelFixture.caller(), "coder", request(false));
        assertThat(c.response().path("choices").get(0).path("message").path("content").asText()).isEqualTo("from b");
        Router.CallRecord r = c.record();
        assertThat(r.attempts()).extracting(Router.Attempt::outcome).containsExactly(expectedClass, "ok");
        assertThat(r.fallbackUsed()).isTrue();
        assertThat(r.model()).isEqualTo("m-b");
        assertThat(r.actualNano()).isEqualTo(B_REPLY_NANO);
        assertThat(f.spentToday()).isEqualTo(B_REPLY_NANO);
        assertThat(f.b.received().get(0).body().path("model").asText()).isEqualTo("upstream-b");
    }

    @ParameterizedTest(name = "transient {0} in a stream before the first token falls back")
    @MethodSource("transientFaults")
    void transientFaultFallsBackWhenStreaming(String name, FakeOpenAi.Behavior fault, String expectedClass) throws IOException {
        f.a.then(fault);
        f.b.then(FakeOpenAi.stream("from", " b"));
        Sink sink = new Sink();
        Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", request(true), sink);
        assertThat(r.attempts()).extracting(Router.Attempt::outcome).containsExactly(expectedClass, "ok");
        assertThat(sink.text()).isEqualTo("from b");
        assertThat(sink.began).isTrue();
        assertThat(r.actualNano()).isEqualTo(10 * 3_000 + 2 * 4_000);
    }

    @Test
    void connectionRefusedIsTransientNetworkAndFallsBack(@TempDir Path other) {
        try (ModelFixture g = new ModelFixture(other, null, Optional.empty(),
                "http://127.0.0.1:" + FakeOpenAi.closedPort() + "/v1")) {
            g.b.then(FakeOpenAi.reply("from b"));
            Router.CallRecord r = g.router().complete(ModelFixture.caller(), "coder", request(false)).record();
            assertThat(r.attempts()).extracting(Router.Attempt::outcome).containsExactly("transient_network", "ok");
            assertThat(r.attempts().get(0).message()).contains("Connect");
            assertThat(g.spentToday()).isEqualTo(B_REPLY_NANO);
        }
    }

    @ParameterizedTest(name = "HTTP {0} is non_transient: no fallback, nothing charged")
    @org.junit.jupiter.params.provider.ValueSource(ints = {400, 401, 403, 404, 422})
    void nonTransientStatusFailsAtOnce(int status) {
        f.a.then(new FakeOpenAi.Status(status, "no"));
        Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                () -> f.router().complete(ModelFixture.caller(), "coder", request(false)));
        assertThat(e.code()).isEqualTo("upstream_non_transient");
        assertThat(e.record().attempts()).extracting(Router.Attempt::outcome).containsExactly("non_transient");
        assertThat(e.record().fallbackUsed()).isFalse();
        assertThat(f.b.received()).isEmpty();
        assertThat(f.spentToday()).isZero();
        assertThat(e.httpStatus()).isEqualTo(status == 400 ? 400 : 502);
    }

    @Test
    void malformedJsonIsNonTransientAndChargedTheWholeReservation() {
        f.a.then(new FakeOpenAi.Malformed());
        Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                () -> f.router().complete(ModelFixture.caller(), "coder", request(false)));
        assertThat(e.record().attempts()).extracting(Router.Attempt::outcome).containsExactly("non_transient");
        assertThat(f.b.received()).isEmpty();
        // the upstream answered 200, so it did the work: without usage, the reservation is charged
        assertThat(f.spentToday()).isEqualTo(A_RESERVATION_NANO);
    }

    @Test
    void responseWithoutUsageIsChargedTheWholeReservation() {
        f.a.then(new FakeOpenAi.Reply("no usage here", 0, 0, false));
        Router.CallRecord r = f.router().complete(ModelFixture.caller(), "coder", request(false)).record();
        assertThat(r.usageReported()).isFalse();
        assertThat(r.actualNano()).isEqualTo(A_RESERVATION_NANO);
        assertThat(f.spentToday()).isEqualTo(A_RESERVATION_NANO);
    }

    @Test
    void streamWithoutUsageIsChargedTheWholeReservation() {
        f.a.then(new FakeOpenAi.StreamReply(List.of("a", "b", "c"), -1, false, 0));
        Sink sink = new Sink();
        Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", request(true), sink);
        assertThat(r.attempts()).as("attempts").hasSize(1);
        assertThat(sink.text()).isEqualTo("abc");
        assertThat(r.usageReported()).isFalse();
        assertThat(f.spentToday()).isEqualTo(A_RESERVATION_NANO);
    }

    @Test
    void streamUsageIsChargedAtThePriceAndNotForwardedUnlessAskedFor() {
        f.a.then(FakeOpenAi.stream("x", "y"));
        Sink sink = new Sink();
        Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", request(true), sink);
        assertThat(r.usageReported()).isTrue();
        assertThat(f.spentToday()).isEqualTo(10 * 1_000 + 2 * 2_000);
        assertThat(sink.data).noneMatch(d -> d.contains("\"usage\""));
        // the upstream was asked for usage and for at most the reserved output tokens
        assertThat(f.a.received().get(0).body().path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(f.a.received().get(0).body().path("max_tokens").asInt()).isEqualTo(100);
    }

    @Test
    void severalCompletionsPerCallAreRefusedAndOnlyTheReservedOutputCapGoesUpstream() {
        Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                () -> f.router().complete(ModelFixture.caller(), "coder", request(false).put("n", 5)));
        assertThat(e.code()).isEqualTo("invalid_request");
        assertThat(e.getMessage()).startsWith("n: only 1");
        assertThat(f.a.received()).isEmpty();
        f.router().complete(ModelFixture.caller(), "coder", request(false).put("max_completion_tokens", 50).put("max_tokens", 1_000_000));
        JsonNode sent = f.a.received().get(0).body();
        assertThat(sent.path("max_completion_tokens").asInt()).isEqualTo(50);
        assertThat(sent.has("max_tokens")).isFalse();
    }

    @Test
    void sequentialCallsReuseOneUpstreamConnection() {
        for (int i = 0; i < 3; i++) {
            f.router().stream(ModelFixture.caller(), "coder", request(true), new Sink());
            f.router().complete(ModelFixture.caller(), "coder", request(false));
        }
        assertThat(f.a.received()).hasSize(6);
        assertThat(f.a.connections()).isEqualTo(1);
    }

    @Test
    void resetMidStreamAfterTheFirstTokenDoesNotFallBackAndEndsWithTheErrorRecorded() {
        f.a.then(new FakeOpenAi.StreamReply(List.of("one", "two", "three"), 2, true, 10));
        Sink sink = new Sink();
        Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", request(true), sink);
        assertThat(sink.text()).isEqualTo("onetwo");
        assertThat(sink.error).isNotNull();
        assertThat(sink.error.path("error").path("code").asText()).isEqualTo("upstream_transient_network");
        assertThat(r.attempts()).extracting(Router.Attempt::outcome).containsExactly("transient_network");
        assertThat(r.outcome()).isEqualTo("failed_after_output:transient_network");
        assertThat(f.b.received()).isEmpty();
        assertThat(f.spentToday()).isEqualTo(A_RESERVATION_NANO);
    }

    @Test
    void resetMidStreamBeforeTheFirstTokenFallsBack() {
        f.a.then(new FakeOpenAi.StreamReply(List.of("one", "two"), 0, true, 10));
        f.b.then(FakeOpenAi.stream("b"));
        Sink sink = new Sink();
        Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", request(true), sink);
        assertThat(r.attempts()).extracting(Router.Attempt::outcome).containsExactly("transient_network", "ok");
        assertThat(sink.text()).isEqualTo("b");
        // the role-only chunk a sent before the reset never reached the client
        assertThat(sink.data).allMatch(d -> d.contains("upstream-b"));
        // a had answered 200 and may bill what it did: without usage, its reservation is charged, plus b's usage
        assertThat(f.spentToday()).isEqualTo(A_RESERVATION_NANO + 10 * 3_000 + 1 * 4_000);
    }

    @Test
    void allCandidatesFailingFailsClosedWithEveryAttemptRecorded() {
        f.a.then(new FakeOpenAi.Status(503, "down"));
        f.b.then(new FakeOpenAi.Status(429, "quota"));
        Router.CallFailed e = catchThrowableOfType(Router.CallFailed.class,
                () -> f.router().complete(ModelFixture.caller(), "coder", request(false)));
        assertThat(e.code()).isEqualTo("all_candidates_failed");
        assertThat(e.httpStatus()).isEqualTo(429);
        assertThat(e.record().attempts()).extracting(Router.Attempt::outcome).containsExactly("transient_server", "transient_quota");
        assertThat(f.spentToday()).isZero();
        String ledger = f.app.store().read(tx -> tx.ledgerTail(5)).toString();
        assertThat(ledger).contains("model.call").contains("all_candidates_failed").contains("transient_quota");
    }

    @Test
    void keysAreSentToTheirProviderOnlyAndNeverWrittenAnywhere() {
        f.a.then(new FakeOpenAi.Status(500, "echo " + ModelFixture.KEY_A));
        f.b.then(FakeOpenAi.reply("ok " + ModelFixture.KEY_B));
        f.router().complete(ModelFixture.caller(), "coder", request(false));
        assertThat(f.a.received().get(0).headers().get("authorization")).isEqualTo("Bearer " + ModelFixture.KEY_A);
        assertThat(f.b.received().get(0).headers().get("authorization")).isEqualTo("Bearer " + ModelFixture.KEY_B);
        String ledger = f.app.store().read(tx -> tx.ledgerTail(100)).toString();
        assertThat(ledger).doesNotContain(ModelFixture.KEY_A).doesNotContain(ModelFixture.KEY_B).contains("[secret]");
    }

    /** Collects what a streamed call sends to its client. */
    static class Sink implements Router.StreamSink {
        boolean began;
        boolean ended;
        final List<String> data = new ArrayList<>();
        com.fasterxml.jackson.databind.JsonNode error;

        @Override
        public void begin() {
            assertThat(began).isFalse();
            began = true;
        }

        @Override
        public void data(String json) {
            assertThat(began).isTrue();
            data.add(json);
        }

        @Override
        public void fail(ObjectNode e) {
            error = e;
        }

        @Override
        public void end() {
            ended = true;
        }

        String text() {
            StringBuilder b = new StringBuilder();
            for (String d : data) {
                Json.parse(d).path("choices").forEach(c -> b.append(c.path("delta").path("content").asText("")));
            }
            return b.toString();
        }
    }
}
