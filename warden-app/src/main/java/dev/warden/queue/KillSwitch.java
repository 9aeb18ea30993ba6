package dev.warden.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kill switch is on when the store flag is set or the file {@code <data_dir>/KILL_SWITCH}
 * exists (the file works with no server running). Setting it writes both and records who did it.
 */
public final class KillSwitch {
    public static final String SETTING = "kill_switch";
    public static final String FILE_NAME = "KILL_SWITCH";

    private final Store store;
    private final Ledger ledger;
    private final Path file;

    public KillSwitch(Store store, Ledger ledger, Path dataDir) {
        this.store = store;
        this.ledger = ledger;
        this.file = dataDir.resolve(FILE_NAME);
    }

    public boolean fileOn() {
        return Files.exists(file);
    }

    public boolean isOn() {
        return fileOn() || store.read(KillSwitch::flagOn);
    }

    static boolean flagOn(Tx tx) {
        return tx.setting(SETTING).map("on"::equals).orElse(false);
    }

    public void set(boolean on, String actor) {
        try {
            if (on) {
                Files.writeString(file, "kill switch set by " + actor + "\n");
            } else {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot " + (on ? "create " : "remove ") + file, e);
        }
        store.write(tx -> {
            tx.putSetting(SETTING, on ? "on" : "off");
            ObjectNode d = Json.object().put("state", on ? "on" : "off");
            ledger.append(tx, EventDraft.warn(on ? "killswitch.on" : "killswitch.off", "operator", null, actor, d));
            return null;
        });
    }

    public Path file() {
        return file;
    }
}
