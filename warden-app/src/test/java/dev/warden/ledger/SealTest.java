package dev.warden.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The canonical form and the stored form of a sealed entry, made the fast way, are exactly the slow way's. */
class SealTest {
    @Test
    void scalarsAreWrittenExactlyAsJacksonWritesThem() throws Exception {
        List<JsonNode> values = List.of(Json.NODES.textNode("a \"quoted\" \u00e9 \n line"), Json.NODES.numberNode(42),
                Json.NODES.numberNode(-7L), Json.NODES.numberNode(Long.MAX_VALUE), Json.NODES.numberNode(1.5d),
                Json.NODES.numberNode(new BigDecimal("12.3400")), Json.NODES.numberNode(new BigDecimal("1E+3")),
                Json.NODES.numberNode(new BigInteger("123456789012345678901234567890")), Json.NODES.numberNode(2.5f),
                Json.NODES.numberNode((short) 3), Json.NODES.booleanNode(true), Json.NODES.booleanNode(false),
                Json.NODES.nullNode(), Json.parse("0.1"), Json.parse("-0"), Json.parse("1e400"));
        for (JsonNode v : values) {
            assertThat(Json.canonical(v)).as("%s (%s)", v, v.getNodeType()).isEqualTo(Json.MAPPER.writeValueAsString(v));
        }
        ObjectNode o = Json.object().put("b", 1).put("a", "x");
        o.putArray("c").add(2.5).add("y").addNull();
        assertThat(Json.canonical(o)).isEqualTo("{\"a\":\"x\",\"b\":1,\"c\":[2.5,\"y\",null]}");
    }

    @Test
    void theEnvelopeWritesItsCanonicalFormDirectlyExactlyAsTheTreeWouldBe() {
        String tricky = "q\" b\\ / </script> \u00e9\u4e2d\ud83d\ude00 \n\t\r\b\f \u0001\u001f\u007f\u2028";
        // each alone too: a string with none of the characters JSON escapes is copied as it is
        for (String s : new String[] {tricky, "", null, "\u007f", "\u2028\u2029", "\u00e9\u4e2d\ud83d\ude00", "</script>", "a/b",
                "tab\there", "quote\"", "back\\slash", "\u001f", "plain-ascii_0.9:Z"}) {
            Envelope e = new Envelope(Long.MAX_VALUE, s, s, s, s, s, s, s, Json.object().put(tricky, s), s, null);
            assertThat(e.canonicalWithoutHash()).isEqualTo(Json.canonical(e.toJson(false)));
        }
        Envelope plain = new Envelope(1, "2026-11-22T10:00:00.000Z", "job.enqueued", "info", "queue", "job-1", "cli",
                "n", null, "0".repeat(64), null);
        assertThat(plain.canonicalWithoutHash()).isEqualTo(Json.canonical(plain.toJson(false)));
    }

    @Test
    void theStoredFormIsTheCanonicalFormWithTheHashInPlace() {
        ObjectNode details = Json.object().put("prev_hash", "inner").put("note", ",\"prev_hash\":\"fake\"");
        details.putObject("nested").put("prev_hash", "deeper").put("hash", "not the hash");
        for (JsonNode d : List.of(details, Json.object(), Json.object().put("zzz", 1))) {
            Envelope e = new Envelope(7, "2026-11-22T10:00:00.000Z", "job.claimed", "info", "worker", null, "w-1",
                    "node-a", d, "ab".repeat(32), null);
            String without = Json.canonical(e.toJson(false));
            assertThat(e.canonicalWithoutHash()).isEqualTo(without);
            ObjectNode with = e.toJson(false).put("hash", "cd".repeat(32));
            assertThat(Ledger.withHash(without, "cd".repeat(32))).isEqualTo(Json.canonical(with));
        }
    }

    /** A random tree of every node kind, with content keys in any case, secrets in names and values, and awkward text. */
    private static JsonNode randomTree(java.util.Random r, int depth, String[] texts) {
        int kind = depth >= 4 ? 2 + r.nextInt(10) : r.nextInt(12);
        return switch (kind) {
            case 0, 1 -> {
                ObjectNode o = Json.object();
                String[] names = {"prompt", "Body", "CONTENT", "raw", "text", "note", "id", "a", "b", "z",
                        "key-sk-planted-secret-1", "sk-planted-secret-1", "", "\u00e9", "messages", "nested"};
                for (int i = r.nextInt(6); i > 0; i--) {
                    o.set(names[r.nextInt(names.length)] + (r.nextInt(4) == 0 ? "" + r.nextInt(3) : ""), randomTree(r, depth + 1, texts));
                }
                yield o;
            }
            case 2 -> {
                com.fasterxml.jackson.databind.node.ArrayNode a = Json.NODES.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) {
                    a.add(randomTree(r, depth + 1, texts));
                }
                yield a;
            }
            case 3, 4 -> Json.NODES.textNode(texts[r.nextInt(texts.length)]);
            case 5 -> Json.NODES.numberNode(r.nextInt());
            case 6 -> Json.NODES.numberNode(r.nextLong());
            case 7 -> Json.NODES.numberNode(r.nextDouble() * 1e6);
            case 8 -> Json.NODES.numberNode(new BigDecimal(BigInteger.valueOf(r.nextLong()), r.nextInt(20) - 10));
            case 9 -> Json.NODES.numberNode(new BigInteger(100, r));
            case 10 -> Json.NODES.booleanNode(r.nextBoolean());
            default -> r.nextBoolean() ? Json.NODES.nullNode() : Json.NODES.numberNode((short) r.nextInt(1000));
        };
    }

    private static final String[] TEXTS = {"", "plain", "sk-planted-secret-1", "with sk-planted-secret-1 inside",
            "pass\"word-with-quote", "q\" b\\ / </script> \u00e9\u4e2d\ud83d\ude00 \n\t\r\b\f \u0001\u001f\u007f\u2028",
            "pass\\\"word-with-quote", "tab\there"};

    @Test
    void theCanonicalFormIsJacksonsWithItsMembersSorted() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper sorted = Json.MAPPER.copy()
                .configure(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.WRITE_PROPERTIES_SORTED, true);
        java.util.Random r = new java.util.Random(20261123);
        for (int i = 0; i < 3000; i++) {
            JsonNode tree = randomTree(r, 0, TEXTS);
            assertThat(Json.canonical(tree)).as("tree %d", i).isEqualTo(sorted.writeValueAsString(tree));
        }
        assertThat(Json.canonical(Json.object())).isEqualTo("{}");
        assertThat(Json.canonical(Json.NODES.arrayNode())).isEqualTo("[]");
    }

    @Test
    void sealingRedactsInOnePassExactlyAsTheRedactedCopyIsWritten() {
        SecretScrubber secrets = new SecretScrubber();
        secrets.register("sk-planted-secret-1");
        secrets.register("pass\"word-with-quote");
        Redactor redactor = new Redactor(secrets);
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 3000; i++) {
            JsonNode tree = randomTree(r, 0, TEXTS);
            String copy = tree.toString();
            assertThat(redactor.redactedCanonical(tree)).as("tree %d: %s", i, copy).isEqualTo(Json.canonical(redactor.redact(tree)));
            assertThat(tree.toString()).as("the input is not modified").isEqualTo(copy);
        }
        // an object too large for the small objects' sort, with names that scrub to the same one among them
        ObjectNode large = Json.object();
        for (int i = 0; i < 500; i++) {
            large.put((i % 7 == 0 ? "sk-planted-secret-1" : "k") + (i * 7919 % 500), i);
            large.put("[secret]" + (i * 31 % 500), "v" + i);
        }
        assertThat(large.size()).isGreaterThan(16);
        assertThat(redactor.redactedCanonical(large)).isEqualTo(Json.canonical(redactor.redact(large)));
        // two names that scrub to the same one: the later member stands, as in the copy
        ObjectNode clash = Json.object().put("x-sk-planted-secret-1", "first").put("x-[secret]", "second");
        clash.put("a", 1);
        assertThat(redactor.redactedCanonical(clash)).isEqualTo(Json.canonical(redactor.redact(clash)))
                .isEqualTo("{\"a\":1,\"x-[secret]\":\"second\"}");
        ObjectNode clashReversed = Json.object().put("x-[secret]", "first").put("x-sk-planted-secret-1", "second");
        assertThat(redactor.redactedCanonical(clashReversed)).isEqualTo(Json.canonical(redactor.redact(clashReversed)))
                .isEqualTo("{\"x-[secret]\":\"second\"}");
    }
}
