package dev.warden.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Path containment after resolving {@code ..} and symlinks: a path is inside a root only if its
 * real location is. For a path that does not exist yet, the deepest existing ancestor is resolved
 * and the rest appended, so a dangling symlink cannot smuggle a write outside the root.
 */
public final class PathRules {
    private PathRules() {}

    public static Path resolve(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        Path rest = null;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            Path name = existing.getFileName();
            rest = rest == null ? name : name.resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            Path real = existing.toRealPath();
            return rest == null ? real : real.resolve(rest).normalize();
        } catch (IOException e) {
            // a broken symlink or unreadable parent: keep the lexical form, which is then checked as such
            return abs;
        }
    }

    public static Path resolve(String p) {
        return resolve(Path.of(p));
    }

    public static boolean isInside(Path candidate, Path root) {
        return resolve(candidate).startsWith(resolve(root));
    }

    public static boolean isInsideAny(Path candidate, List<String> roots) {
        Path c = resolve(candidate);
        for (String r : roots) {
            if (c.startsWith(resolve(r))) {
                return true;
            }
        }
        return false;
    }
}
