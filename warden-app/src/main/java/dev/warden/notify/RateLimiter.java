package dev.warden.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * At most one notification per check id per window. The state is kept in a file
 * ({@code <data_dir>/notify-state.json}, under a file lock) when one is given, so that separate
 * processes on the machine — {@code warden up} and every {@code warden canary} run of a timer —
 * share it; in memory otherwise (dry runs). Suppressed notifications are counted and the count
 * travels with the next one sent.
 */
public final class RateLimiter {
    /** What to do with one notification: send it (carrying the count suppressed before it), or not before {@code nextAt}. */
    public record Decision(boolean send, int suppressedBefore, long nextAt) {}

    private record Entry(long lastSent, int suppressed) {}

    private final Optional<Path> stateFile;
    private final Duration window;
    private final Clock clock;
    private final Map<String, Entry> memory = new HashMap<>();

    public RateLimiter(Optional<Path> stateFile, Duration window, Clock clock) {
        this.stateFile = stateFile;
        this.window = window;
        this.clock = clock;
    }

    public Duration window() {
        return window;
    }

    public synchronized Decision admit(String checkId) {
        long now = clock.millis();
        if (stateFile.isEmpty()) {
            return decide(memory, checkId, now);
        }
        Path file = stateFile.get();
        Path lock = file.resolveSibling(file.getFileName() + ".lock");
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            Map<String, Entry> state = read(file);
            Decision d = decide(state, checkId, now);
            prune(state, now);
            write(file, state);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("notify rate limit state " + file + ": " + e.getMessage(), e);
        }
    }

    private Decision decide(Map<String, Entry> state, String checkId, long now) {
        Entry e = state.get(checkId);
        if (e == null || now - e.lastSent() >= window.toMillis()) {
            state.put(checkId, new Entry(now, 0));
            return new Decision(true, e == null ? 0 : e.suppressed(), now + window.toMillis());
        }
        state.put(checkId, new Entry(e.lastSent(), e.suppressed() + 1));
        return new Decision(false, e.suppressed(), e.lastSent() + window.toMillis());
    }

    /** Forgets checks quiet for a day (and longer than the window) with nothing suppressed. */
    private void prune(Map<String, Entry> state, long now) {
        long keep = Math.max(window.toMillis(), Duration.ofDays(1).toMillis());
        state.entrySet().removeIf(x -> x.getValue().suppressed() == 0 && now - x.getValue().lastSent() > keep);
    }

    private static Map<String, Entry> read(Path file) throws IOException {
        Map<String, Entry> m = new HashMap<>();
        if (!Files.exists(file)) {
            return m;
        }
        JsonNode n;
        try {
            n = Json.parse(Files.readString(file));
        } catch (RuntimeException e) {
            return m; // a damaged state file only costs one early notification per check
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("checks").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> x = it.next();
            m.put(x.getKey(), new Entry(x.getValue().path("last_sent_ms").asLong(), x.getValue().path("suppressed").asInt()));
        }
        return m;
    }

    private static void write(Path file, Map<String, Entry> state) throws IOException {
        ObjectNode n = Json.object();
        ObjectNode checks = n.putObject("checks");
        new java.util.TreeMap<>(state).forEach((k, v) -> checks.putObject(k).put("last_sent_ms", v.lastSent()).put("suppressed", v.suppressed()));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.write(n));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
