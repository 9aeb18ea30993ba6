package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.common.WardenException;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsConfigTest {
    @TempDir
    Path dir;

    @Test
    void everyViolationIsListedAndStartIsRefused() throws Exception {
        Path key = dir.resolve("open.key");
        Files.writeString(key, "sk-world-readable-0000000000");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        String yaml = """
                models:
                  providers:
                    - {id: loc, base_url: "http://10.1.2.3:8000/v1", local: true}
                    - {id: h, base_url: "https://llm.example/v1", key: "file:%s"}
                    - {id: h, base_url: "https://other.example/v1"}
                    - {id: bad, base_url: "ftp://x", colour: blue}
                  models:
                    - {id: m1, provider: nobody, name: x}
                  routes:
                    coder: {primary: ghost, fallbacks: [m1, phantom]}
                  budget: {usd_per_day: -1}
                """.formatted(key);
        Files.writeString(dir.resolve("warden.yaml"), yaml);
        WardenException e = catchThrowableOfType(WardenException.class, () -> TestWarden.open(dir, Clock.systemUTC(), null));
        // schema violations first (unknown key, bad URL scheme, negative cap) — all at once
        assertThat(e.getMessage()).contains("colour").contains("base_url").contains("usd_per_day");
        // once the schema passes, the semantic checks are listed together too
        yaml = yaml.replace(", colour: blue", "").replace("ftp://x", "http://127.0.0.1:1/v1").replace("usd_per_day: -1", "usd_per_day: 1");
        Files.writeString(dir.resolve("warden.yaml"), yaml);
        e = catchThrowableOfType(WardenException.class, () -> TestWarden.open(dir, Clock.systemUTC(), null));
        assertThat(e.getMessage())
                .contains("models.providers[0].base_url: provider 'loc' is local: true, so its host must be a loopback address")
                .contains("models.providers[1].key: key file " + key + " must not be readable or writable by group or others")
                .contains("models.providers[2].id: 'h' is used by another provider")
                .contains("models.models[0].provider: 'nobody' is not a configured provider")
                .contains("models.routes.coder.primary: 'ghost' is not a configured model")
                .contains("models.routes.coder.fallbacks[1]: 'phantom' is not a configured model");
        assertThat(e.getMessage()).doesNotContain("sk-world-readable");
    }

    @Test
    void masksKeys() {
        assertThat(ProviderKeys.mask("sk-proj-abcdefghijklmnop1234")).isEqualTo("sk-…1234");
        assertThat(ProviderKeys.mask("abcdefghijklmnopqrstu9876")).isEqualTo("ab…9876");
        assertThat(ProviderKeys.mask("short-key-123")).isEqualTo("****");
        assertThat(ProviderKeys.mask(null)).isEqualTo("(none)");
    }

    @Test
    void classifiesExactly() {
        assertThat(ErrorClass.ofStatus(429)).isEqualTo(ErrorClass.TRANSIENT_QUOTA);
        for (int s = 500; s <= 504; s++) {
            assertThat(ErrorClass.ofStatus(s)).isEqualTo(ErrorClass.TRANSIENT_SERVER);
        }
        for (int s : new int[] {400, 401, 403, 404, 409, 413, 422, 499, 505, 507, 301}) {
            assertThat(ErrorClass.ofStatus(s)).as("status %d", s).isEqualTo(ErrorClass.NON_TRANSIENT);
        }
    }

    @Test
    void pricesAreExactInNanoDollars() {
        assertThat(Usd.cost(1_000_000, new java.math.BigDecimal("0.15"))).isEqualTo(150_000_000L);
        assertThat(Usd.cost(1, new java.math.BigDecimal("0.0375"))).isEqualTo(38L); // rounded up
        assertThat(Usd.format(203_000)).isEqualTo("0.000203");
    }
}
