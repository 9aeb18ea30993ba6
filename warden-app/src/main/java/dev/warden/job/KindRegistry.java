package dev.warden.job;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The registered job kinds, by name. */
public final class KindRegistry {
    private final Map<String, JobKind> kinds = new LinkedHashMap<>();

    public KindRegistry register(JobKind kind) {
        if (kinds.putIfAbsent(kind.name(), kind) != null) {
            throw new IllegalArgumentException("kind registered twice: " + kind.name());
        }
        return this;
    }

    public Optional<JobKind> find(String name) {
        return Optional.ofNullable(kinds.get(name));
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(kinds.keySet());
    }
}
