package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import dev.warden.testing.FakeOpenAi;
import java.nio.file.Files;
import dev.warden.testing.CliRun;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden models status|doctor} and {@code warden gateway token …}, in process. */
class ModelsCliTest {
    static final String KEY = "sk-doctor-planted-abcdefgh12345678";

    @TempDir
    Path dir;

    CliRun warden(String... args) {
        return CliRun.in(dir.resolve("data"), args);
    }

    private void config(String okUrl, String degradedUrl, String downUrl) throws Exception {
        Path key = dir.resolve("k.key");
        Files.deleteIfExists(key);
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, KEY);
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/warden.yaml"), """
                models:
                  providers:
                    - {id: good, base_url: "%s", key: "file:%s"}
                    - {id: busy, base_url: "%s", key: "file:%s"}
                    - {id: gone, base_url: "%s", key: "file:%s"}
                    - {id: nokey, base_url: "%s", key: "env:WARDEN_TEST_UNSET_VARIABLE_XYZ"}
                  models:
                    - {id: m, provider: good, name: m, price: {input_per_1m: 1, output_per_1m: 1}}
                  routes: {coder: {primary: m}}
                """.formatted(okUrl, key, degradedUrl, key, downUrl, key, okUrl));
    }

    @Test
    void doctorProbesEveryProviderAndExitsWithTheWorstState() throws Exception {
        try (FakeOpenAi good = new FakeOpenAi(); FakeOpenAi busy = new FakeOpenAi().modelsStatus(503)) {
            config(good.baseUrl(), busy.baseUrl(), "http://127.0.0.1:" + FakeOpenAi.closedPort() + "/v1");
            CliRun r = warden("models", "doctor", "--json");
            assertThat(r.code()).isEqualTo(20);
            var byId = new java.util.HashMap<String, com.fasterxml.jackson.databind.JsonNode>();
            Json.parse(r.out()).forEach(n -> byId.put(n.path("provider").asText(), n));
            assertThat(byId.get("good").path("status").asText()).isEqualTo("OK");
            assertThat(byId.get("busy").path("status").asText()).isEqualTo("DEGRADED");
            assertThat(byId.get("busy").path("last_error_class").asText()).isEqualTo("transient_server");
            assertThat(byId.get("gone").path("status").asText()).isEqualTo("DOWN");
            assertThat(byId.get("gone").path("last_error_class").asText()).isEqualTo("transient_network");
            assertThat(byId.get("nokey").path("status").asText()).isEqualTo("DOWN");
            assertThat(byId.get("nokey").path("last_error_class").asText()).isEqualTo("missing_key");
            assertThat(good.received().get(0).headers().get("authorization")).isEqualTo("Bearer " + KEY);

            config(good.baseUrl(), busy.baseUrl(), good.baseUrl());
            Files.writeString(dir.resolve("data/warden.yaml"), Files.readString(dir.resolve("data/warden.yaml"))
                    .replace("    - {id: nokey, base_url: \"" + good.baseUrl() + "\", key: \"env:WARDEN_TEST_UNSET_VARIABLE_XYZ\"}\n", ""));
            assertThat(warden("models", "doctor").code()).isEqualTo(10);

            CliRun status = warden("models", "status");
            assertThat(status.code()).isZero();
            assertThat(status.out()).contains("sk-…5678").contains("route coder").contains("spend today").doesNotContain(KEY);
            assertThat(r.out() + r.err()).doesNotContain(KEY);
        }
    }

    @Test
    void gatewayTokensBadInputAndLifecycle() throws Exception {
        config("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1");
        CliRun bad = warden("gateway", "token", "create", "a b", "--budget-usd-per-day", "1", "--routes", "coder");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("NAME: 'a b' must be");
        assertThat(warden("gateway", "token", "create", "x", "--budget-usd-per-day", "lots", "--routes", "coder").err())
                .contains("--budget-usd-per-day: 'lots' is not a number");
        assertThat(warden("gateway", "token", "create", "x", "--budget-usd-per-day", "-1", "--routes", "coder").err())
                .contains("--budget-usd-per-day: must be 0 or more");
        CliRun unknownRoute = warden("gateway", "token", "create", "x", "--budget-usd-per-day", "1", "--routes", "coder,ghost");
        assertThat(unknownRoute.code()).isEqualTo(2);
        assertThat(unknownRoute.err()).contains("--routes: 'ghost' is neither a configured route nor a model id");
        assertThat(warden("gateway", "token", "create", "x", "--budget-usd-per-day", "1").code()).isEqualTo(2);

        CliRun created = warden("gateway", "token", "create", "agent", "--budget-usd-per-day", "2.5", "--routes", "coder");
        assertThat(created.code()).isZero();
        String token = created.out().strip();
        assertThat(token).startsWith("wgw_").hasSizeGreaterThan(40);
        assertThat(warden("gateway", "token", "create", "agent", "--budget-usd-per-day", "1", "--routes", "coder").err())
                .contains("already exists");
        CliRun list = warden("gateway", "token", "list", "--json");
        assertThat(list.out()).contains("\"agent\"").contains("\"2.5\"").contains("active").doesNotContain(token);
        assertThat(warden("gateway", "token", "revoke", "agent").code()).isZero();
        assertThat(warden("gateway", "token", "revoke", "agent").code()).isEqualTo(3);
        assertThat(warden("gateway", "token", "list").out()).contains("revoked");
        assertThat(warden("ledger", "tail", "-n", "10").out()).contains("gateway.token.created").contains("gateway.token.revoked")
                .doesNotContain(token);
    }
}
