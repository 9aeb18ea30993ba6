package dev.warden.ledger;

import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Holds every secret value Warden has loaded (console token, provider keys, secret-looking
 * environment variables) and removes them from any text before it is written anywhere.
 * Values shorter than {@link #MIN_LENGTH} are not registered: scrubbing them would mangle
 * ordinary text, and they are too short to be credentials worth the name.
 */
public final class SecretScrubber {
    public static final int MIN_LENGTH = 8;
    public static final String MASK = "[secret]";

    private final List<String> secrets = new CopyOnWriteArrayList<>();

    public void register(String value) {
        if (value == null) {
            return;
        }
        String v = value.strip();
        if (v.length() < MIN_LENGTH || secrets.contains(v)) {
            return;
        }
        secrets.add(v);
        // as it appears inside serialized JSON (a password with a quote or a backslash), so text
        // scrubbed after serialization is masked too
        String escaped = dev.warden.common.Json.write(com.fasterxml.jackson.databind.node.TextNode.valueOf(v));
        escaped = escaped.substring(1, escaped.length() - 1);
        if (!escaped.equals(v) && !secrets.contains(escaped)) {
            secrets.add(escaped);
        }
        // longest first, so a secret that contains another is masked whole
        secrets.sort(Comparator.comparingInt(String::length).reversed());
    }

    /** Registers the values of environment variables whose names say they hold secrets. */
    public void registerSecretEnvironment(java.util.Map<String, String> env) {
        env.forEach((name, value) -> {
            if (looksSecret(name)) {
                register(value);
            }
        });
    }

    static boolean looksSecret(String name) {
        String n = name.toUpperCase(java.util.Locale.ROOT);
        return n.contains("KEY") || n.contains("TOKEN") || n.contains("SECRET") || n.contains("PASSWORD")
                || n.contains("PASSWD") || n.contains("CREDENTIAL") || n.endsWith("_PAT");
    }

    public String scrub(String text) {
        if (text == null || text.isEmpty() || secrets.isEmpty()) {
            return text;
        }
        String out = text;
        for (String s : secrets) {
            if (out.contains(s)) {
                out = out.replace(s, MASK);
            }
        }
        return out;
    }

    /** The length of the longest value held (0 when none): text that may end in part of a secret is at most one shorter. */
    public int longest() {
        int max = 0;
        for (String s : secrets) {
            max = Math.max(max, s.length());
        }
        return max;
    }

    public boolean isEmpty() {
        return secrets.isEmpty();
    }
}
