package dev.warden.web.security;

import dev.warden.app.ConsoleToken;
import dev.warden.common.Ids;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is calling: the console token (header {@code X-Warden-Token}) or a session made by a token
 * login (an HttpOnly, SameSite=Strict cookie). The token is re-read when its file changes
 * ({@code warden token rotate}); a new token ends every session made with the old one.
 */
public final class Sessions {
    public static final String COOKIE = "warden_session";
    static final long IDLE_MILLIS = 12 * 3600_000L;

    /** An authenticated caller; {@code csrf} is null for header-token calls (no ambient credential to forge). */
    public record Principal(String actor, String csrf, boolean viaCookie) {}

    private record Session(String csrf, String tokenFingerprint, long createdAt, long lastSeen) {}

    private final Path tokenFile;
    private final Clock clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private volatile String token;
    private volatile long tokenMtime;

    public Sessions(String token, Path tokenFile, Clock clock) {
        this.token = token;
        this.tokenFile = tokenFile;
        this.clock = clock;
        this.tokenMtime = mtime();
    }

    private long mtime() {
        try {
            return tokenFile != null && Files.exists(tokenFile) ? Files.getLastModifiedTime(tokenFile).toMillis() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The current token, re-read if its file changed since the last look. */
    private String currentToken() {
        long m = mtime();
        if (m != tokenMtime && tokenFile != null) {
            try {
                String t = Files.readString(tokenFile).strip();
                if (!t.isEmpty()) {
                    token = t;
                    sessions.clear();
                }
            } catch (IOException ignored) {
                // keep the token in memory: a missing file must not lock the operator out
            }
            tokenMtime = m;
        }
        return token;
    }

    /** The token's audit fingerprint (what every action is recorded under). */
    public String fingerprint() {
        return ConsoleToken.fingerprint(currentToken());
    }

    public boolean tokenMatches(String presented) {
        return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
                currentToken().getBytes(StandardCharsets.UTF_8));
    }

    /** A header-token caller, or empty. */
    public Optional<Principal> byHeader(String presented) {
        return tokenMatches(presented) ? Optional.of(new Principal("api:" + fingerprint(), null, false)) : Optional.empty();
    }

    /** Starts a session for a correct token; returns its id (the cookie value). */
    public Optional<String> login(String presented) {
        if (!tokenMatches(presented)) {
            return Optional.empty();
        }
        if (sessions.size() > 1000) {
            long now = clock.millis();
            sessions.entrySet().removeIf(e -> now - e.getValue().lastSeen() > IDLE_MILLIS);
        }
        String id = Ids.randomToken(32);
        long now = clock.millis();
        sessions.put(id, new Session(Ids.randomToken(24), fingerprint(), now, now));
        return Optional.of(id);
    }

    /** The session's caller, or empty (unknown, idle too long, or made with a rotated token). */
    public Optional<Principal> byCookie(String id) {
        if (id == null) {
            return Optional.empty();
        }
        String fp = fingerprint(); // may clear sessions after a rotation
        Session s = sessions.get(id);
        long now = clock.millis();
        if (s == null || !s.tokenFingerprint().equals(fp) || now - s.lastSeen() > IDLE_MILLIS) {
            if (s != null) {
                sessions.remove(id);
            }
            return Optional.empty();
        }
        if (now - s.lastSeen() > 60_000) {
            sessions.put(id, new Session(s.csrf(), s.tokenFingerprint(), s.createdAt(), now));
        }
        return Optional.of(new Principal("console:" + fp, s.csrf(), true));
    }

    public void logout(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }
}
