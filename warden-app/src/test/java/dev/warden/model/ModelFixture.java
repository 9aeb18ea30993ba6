package dev.warden.model;

import dev.warden.app.WardenApp;
import dev.warden.testing.FakeOpenAi;
import dev.warden.testing.MutableClock;
import dev.warden.testing.TestWarden;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

/**
 * Two fake upstreams ({@code a}, {@code b}) behind a Warden with a {@code coder} route (primary
 * {@code m-a} on a, fallback {@code m-b} on b), key files, prices and short timeouts.
 */
final class ModelFixture implements AutoCloseable {
    static final String KEY_A = "sk-planted-key-aaaa-0123456789abcdef";
    static final String KEY_B = "sk-planted-key-bbbb-fedcba9876543210";

    final FakeOpenAi a = new FakeOpenAi();
    final FakeOpenAi b = new FakeOpenAi();
    final MutableClock clock = MutableClock.at("2026-11-22T10:00:00Z");
    final WardenApp app;

    ModelFixture(Path dir, String extraModelsYaml, Optional<String> storeUrl) {
        this(dir, extraModelsYaml, storeUrl, null);
    }

    ModelFixture(Path dir, String extraModelsYaml, Optional<String> storeUrl, String providerABaseUrl) {
        Path keyA = writeKey(dir.resolve("a.key"), KEY_A);
        Path keyB = writeKey(dir.resolve("b.key"), KEY_B);
        String yaml = """
                models:
                  providers:
                    - {id: a, base_url: "%s", key: "file:%s"}
                    - {id: b, base_url: "%s", key: "file:%s"}
                  models:
                    - {id: m-a, provider: a, name: upstream-a, price: {input_per_1m: 1.0, output_per_1m: 2.0}, context_window: 8000}
                    - {id: m-b, provider: b, name: upstream-b, price: {input_per_1m: 3.0, output_per_1m: 4.0}, context_window: 8000}
                  routes:
                    coder: {primary: m-a, fallbacks: [m-b]}
                  timeouts: {connect_ms: 1000, read_ms: 400}
                  breaker: {failures: 100, cooldown_s: 30}
                %s
                """.formatted(providerABaseUrl != null ? providerABaseUrl : a.baseUrl(), keyA, b.baseUrl(), keyB,
                extraModelsYaml == null ? "" : extraModelsYaml);
        app = TestWarden.open(dir.resolve("data"), clock, storeUrl, yaml);
    }

    static Path writeKey(Path file, String key) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, key + "\n");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Router router() {
        return app.router();
    }

    static Router.Caller caller() {
        return new Router.Caller("test", "corr-test", "tester", List.of(), Optional.empty(), Optional.empty(), t -> true);
    }

    /** Nano-dollars spent today across all calls. */
    long spentToday() {
        Spend s = new Spend(app.store(), clock);
        return s.spentNano("day", s.today());
    }

    @Override
    public void close() {
        app.close();
        a.close();
        b.close();
    }
}
