package dev.warden.web.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.ledger.SecretScrubber;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamScrubberTest {
    static final String SECRET = "sk-test-split-0123456789abcdef";

    static StreamScrubber scrubber() {
        SecretScrubber s = new SecretScrubber();
        s.register(SECRET);
        return new StreamScrubber(s);
    }

    static String content(int index, String text, String finish) {
        return "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":" + index
                + ",\"delta\":{\"content\":" + Json.write(Json.NODES.textNode(text)) + "},\"finish_reason\":"
                + (finish == null ? "null" : "\"" + finish + "\"") + "}]}";
    }

    /** Runs events through a scrubber the way the gateway does: each event, then the flush at the end. */
    static List<String> run(StreamScrubber s, List<String> events) {
        List<String> out = new ArrayList<>();
        for (String e : events) {
            out.add(s.next(e));
        }
        String rest = s.flush();
        if (rest != null) {
            out.add(rest);
        }
        return out;
    }

    static String text(List<String> events, String field) {
        StringBuilder b = new StringBuilder();
        for (String e : events) {
            for (JsonNode c : Json.parse(e).path("choices")) {
                b.append(c.path("delta").path(field).asText(""));
            }
        }
        return b.toString();
    }

    @Test
    void theLongestSecretIsReadFromTheScrubber() {
        SecretScrubber s = new SecretScrubber();
        assertThat(s.longest()).isZero();
        s.register(SECRET);
        assertThat(s.longest()).isEqualTo(SECRET.length());
    }

    @Test
    void aSecretSplitAtEveryPossiblePointIsMasked() {
        String full = "before " + SECRET + " after";
        for (int a = 1; a < full.length() - 1; a++) {
            for (int b = a + 1; b < full.length(); b += 3) {
                List<String> out = run(scrubber(), List.of(content(0, full.substring(0, a), null),
                        content(0, full.substring(a, b), null), content(0, full.substring(b), null), content(0, "", "stop")));
                assertThat(String.join("\n", out)).as(a + "/" + b).doesNotContain("0123456789").doesNotContain("sk-test-split");
                assertThat(text(out, "content")).as(a + "/" + b).isEqualTo("before [secret] after");
            }
        }
    }

    @Test
    void heldTextGoesOutWithTheFinishChunkOrBeforeTheEnd() {
        List<String> finished = run(scrubber(), List.of(content(0, "short answer", null), content(0, "", "stop")));
        assertThat(Json.parse(finished.get(0)).path("choices").get(0).path("delta").path("content").asText()).isEmpty();
        assertThat(Json.parse(finished.get(1)).path("choices").get(0).path("delta").path("content").asText()).isEqualTo("short answer");
        assertThat(finished).hasSize(2);
        // no finish_reason (a stream that ended or failed): one more event carries the rest, same id and model
        List<String> cut = run(scrubber(), List.of(content(0, "partial " + SECRET.substring(0, 10), null)));
        assertThat(cut).hasSize(2);
        assertThat(Json.parse(cut.get(1)).path("id").asText()).isEqualTo("c1");
        assertThat(text(cut, "content")).isEqualTo("partial " + SECRET.substring(0, 10));
    }

    @Test
    void toolCallArgumentsAndSeveralChoicesAreScrubbedApart() {
        String args1 = "{\"key\":\"" + SECRET.substring(0, 12);
        String args2 = SECRET.substring(12) + "\"}";
        String tool1 = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":"
                + Json.write(Json.NODES.textNode(args1)) + "}}]},\"finish_reason\":null}]}";
        String tool2 = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                + Json.write(Json.NODES.textNode(args2)) + "}}]},\"finish_reason\":null}]}";
        List<String> out = run(scrubber(), List.of(tool1, content(1, "other " + SECRET.substring(0, 5), null), tool2,
                content(1, SECRET.substring(5) + " choice", null), "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}"));
        String all = String.join("\n", out);
        assertThat(all).doesNotContain("0123456789");
        assertThat(text(out, "content")).isEqualTo("other [secret] choice");
        StringBuilder args = new StringBuilder();
        for (String e : out) {
            for (JsonNode c : Json.parse(e).path("choices")) {
                for (JsonNode tc : c.path("delta").path("tool_calls")) {
                    args.append(tc.path("function").path("arguments").asText(""));
                }
            }
        }
        assertThat(args.toString()).isEqualTo("{\"key\":\"[secret]\"}");
    }

    @Test
    void withoutSecretsEventsPassUnchanged() {
        SecretScrubber none = new SecretScrubber();
        StreamScrubber s = new StreamScrubber(none);
        String e = content(0, "hello", null);
        assertThat(s.next(e)).isSameAs(e);
        assertThat(s.flush()).isNull();
    }
}
