package dev.warden.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Resolves a provider's key reference ({@code env:NAME} or {@code file:PATH}) to the key. The key
 * itself is only ever held in memory, sent in the {@code Authorization} header, and registered
 * with the secret scrubber; what is shown is {@link #mask}.
 */
public final class ProviderKeys {
    private final Function<String, String> env;
    private final java.util.function.Consumer<String> onResolved;

    public ProviderKeys(Function<String, String> env) {
        this(env, k -> { });
    }

    /** {@code onResolved} sees every key resolved (the app registers it with the secret scrubber). */
    public ProviderKeys(Function<String, String> env, java.util.function.Consumer<String> onResolved) {
        this.env = env;
        this.onResolved = onResolved;
    }

    public static ProviderKeys fromSystem() {
        return fromSystem(k -> { });
    }

    public static ProviderKeys fromSystem(java.util.function.Consumer<String> onResolved) {
        Map<String, String> e = System.getenv();
        return new ProviderKeys(e::get, onResolved);
    }

    /** The key, or empty when the reference is absent, the variable unset, or the file unreadable, empty or open to group/others. */
    public Optional<String> resolve(Optional<String> ref) {
        if (ref.isEmpty()) {
            return Optional.empty();
        }
        String r = ref.get();
        String value = null;
        if (r.startsWith("env:")) {
            value = env.apply(r.substring(4));
        } else if (r.startsWith("file:")) {
            Path file = Path.of(r.substring(5));
            // checked at every read, not only at start-up: a key file provisioned (or loosened) later
            // that group or others can read is not used (fail closed: the provider has no key)
            if (ModelsConfig.keyFileProblem(file).isEmpty()) {
                try {
                    value = Files.readString(file);
                } catch (IOException e) {
                    value = null;
                }
            }
        }
        Optional<String> key = Optional.ofNullable(value).map(String::strip).filter(v -> !v.isEmpty());
        key.ifPresent(onResolved);
        return key;
    }

    /**
     * A masked fingerprint: the first two characters of the key's prefix up to its first dash and
     * the last four ({@code sk-…abcd}); keys shorter than 16 characters are masked entirely.
     */
    public static String mask(String key) {
        if (key == null || key.isEmpty()) {
            return "(none)";
        }
        if (key.length() < 16) {
            return "****";
        }
        int dash = key.indexOf('-');
        String prefix = dash > 0 && dash <= 4 ? key.substring(0, dash + 1) : key.substring(0, 2);
        return prefix + "…" + key.substring(key.length() - 4);
    }
}
