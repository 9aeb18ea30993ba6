package dev.warden.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import org.junit.jupiter.api.Test;

class RedactorTest {
    SecretScrubber secrets = new SecretScrubber();
    Redactor redactor = new Redactor(secrets);

    @Test
    void contentKeysAreReplacedByADigestAtAnyDepthAndAnyCase() {
        JsonNode in = Json.parse("""
                {"a":{"b":[{"Prompt":"tell me"},{"x":{"MESSAGES":[{"role":"user"}]}}]},
                 "text":"hello","Body":"b","document_body":"d","content":"c","raw_content":"rc","RAW":"r",
                 "keep":"visible"}
                """);
        JsonNode out = redactor.redact(in);
        assertThat(out.at("/a/b/0/Prompt/redacted").asBoolean()).isTrue();
        assertThat(out.at("/a/b/0/Prompt/sha256").asText()).isEqualTo(Ids.sha256Hex("tell me"));
        assertThat(out.at("/a/b/0/Prompt/bytes").asInt()).isEqualTo(7);
        assertThat(out.at("/a/b/1/x/MESSAGES/redacted").asBoolean()).isTrue();
        for (String k : new String[] {"text", "Body", "document_body", "content", "raw_content", "RAW"}) {
            assertThat(out.path(k).path("redacted").asBoolean()).as(k).isTrue();
        }
        assertThat(out.path("keep").asText()).isEqualTo("visible");
        assertThat(Json.write(out)).doesNotContain("tell me", "hello", "\"user\"");
        assertThat(in.path("text").asText()).as("input untouched").isEqualTo("hello");
    }

    @Test
    void secretValuesAreScrubbedFromEveryStringAndKey() {
        secrets.register("sk-planted-0123456789abcdef");
        secrets.register("short");
        JsonNode out = redactor.redact(Json.parse("""
                {"msg":"key=sk-planted-0123456789abcdef;","list":["xx sk-planted-0123456789abcdef"],
                 "sk-planted-0123456789abcdef":1, "other":"short stays"}
                """));
        String s = Json.write(out);
        assertThat(s).doesNotContain("sk-planted-0123456789abcdef");
        assertThat(s).contains("key=[secret];", "short stays");
    }

    @Test
    void aSecretWithQuotesOrBackslashesIsScrubbedFromSerializedJsonToo() {
        String password = "pa\"ss\\word-123456";
        secrets.register(password);
        String serialized = Json.write(Json.object().put("dsn", "postgres://u:" + password + "@db/x"));
        assertThat(serialized).doesNotContain(password); // escaped in JSON
        assertThat(secrets.scrub(serialized)).contains("[secret]").doesNotContain("ss\\\\word");
        assertThat(secrets.scrub("raw " + password)).isEqualTo("raw [secret]");
    }

    @Test
    void secretLookingEnvironmentVariablesAreRegistered() {
        secrets.registerSecretEnvironment(java.util.Map.of("OPENAI_API_KEY", "sk-env-secret-value-1", "HOME", "/root-home-dir"));
        assertThat(secrets.scrub("a sk-env-secret-value-1 b /root-home-dir")).isEqualTo("a [secret] b /root-home-dir");
    }
}
