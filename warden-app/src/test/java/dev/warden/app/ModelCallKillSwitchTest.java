package dev.warden.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.queue.KillSwitch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCallKillSwitchTest {
    @TempDir
    Path dir;

    @Test
    void fileIsSeenAtOnceStoreFlagWithinItsWindowAndSwitchingOffAtOnce() throws Exception {
        try (WardenApp app = WardenApp.open(WardenApp.Options.of(dir.resolve("data")))) {
            AtomicLong now = new AtomicLong(1_000_000_000L);
            ModelCallKillSwitch flag = new ModelCallKillSwitch(app.killSwitch(), app.store(), now::get);
            assertThat(flag.getAsBoolean()).isFalse();

            Files.writeString(app.dataDir().resolve(KillSwitch.FILE_NAME), "x"); // the file: on the next call
            assertThat(flag.getAsBoolean()).isTrue();
            Files.delete(app.dataDir().resolve(KillSwitch.FILE_NAME));
            assertThat(flag.getAsBoolean()).isFalse();

            // the store flag alone (set on another node): seen once the cached read is older than its window
            app.store().write(tx -> {
                tx.putSetting(KillSwitch.SETTING, "on");
                return null;
            });
            now.addAndGet(ModelCallKillSwitch.STORE_MILLIS * 1_000_000 - 1);
            assertThat(flag.getAsBoolean()).isFalse();
            now.addAndGet(1);
            assertThat(flag.getAsBoolean()).isTrue();

            // while on, every call reads the store again: switching off is seen at once
            app.store().write(tx -> {
                tx.putSetting(KillSwitch.SETTING, "off");
                return null;
            });
            assertThat(flag.getAsBoolean()).isFalse();

            // through the operator's path (file and flag): on and off at once
            app.killSwitch().set(true, "test");
            assertThat(flag.getAsBoolean()).isTrue();
            app.killSwitch().set(false, "test");
            assertThat(flag.getAsBoolean()).isFalse();
        }
    }
}
