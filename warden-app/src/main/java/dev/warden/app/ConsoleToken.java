package dev.warden.app;

import dev.warden.common.Ids;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The console/API token, kept in {@code <data_dir>/console.token} with mode 0600. */
public final class ConsoleToken {
    public static final String FILE_NAME = "console.token";

    private ConsoleToken() {}

    public record Loaded(String token, boolean created) {}

    public static Loaded loadOrCreate(Path dataDir) {
        Path f = dataDir.resolve(FILE_NAME);
        if (Files.exists(f)) {
            return new Loaded(read(f), false);
        }
        String token = "wdn_" + Ids.randomToken(24);
        WardenApp.writeSecretFile(f, token + "\n");
        return new Loaded(token, true);
    }

    public record Rotated(String token, String oldFingerprint) {}

    /** Writes a new token (atomically, mode 0600); the server notices the file change. */
    public static Rotated rotate(Path dataDir) {
        Path f = dataDir.resolve(FILE_NAME);
        String old = Files.exists(f) ? fingerprint(read(f)) : "none";
        String token = "wdn_" + Ids.randomToken(24);
        WardenApp.writeSecretFile(f, token + "\n");
        return new Rotated(token, old);
    }

    static String read(Path f) {
        try {
            return Files.readString(f).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Short, non-reversible identifier of a token for audit records (never the token itself). */
    public static String fingerprint(String token) {
        return "tok-" + Ids.sha256Hex(token).substring(0, 12);
    }
}
