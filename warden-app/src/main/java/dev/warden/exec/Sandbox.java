package dev.warden.exec;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a process is isolated. {@link Bwrap}: its own namespaces (no network unless allowed, own PID
 * space so the whole tree dies together), read-only system directories, only the job's write roots
 * writable, a private {@code /tmp}, capabilities dropped, killed if Warden dies. {@link None}: runs
 * on the host, only when the operator policy says {@code isolation: none}, and every run records it.
 */
public sealed interface Sandbox {
    String name();

    /** The command line that runs {@code executable args} inside this sandbox. */
    List<String> command(Path executable, List<String> args, Path cwd, Mounts mounts, boolean network);

    /** What the process may see besides the system directories. */
    record Mounts(List<Path> readOnly, List<Path> writable) {}

    record None() implements Sandbox {
        @Override
        public String name() {
            return "none";
        }

        @Override
        public List<String> command(Path executable, List<String> args, Path cwd, Mounts mounts, boolean network) {
            List<String> cmd = new ArrayList<>();
            cmd.add(executable.toString());
            cmd.addAll(args);
            return cmd;
        }
    }

    record Bwrap(Path bwrap) implements Sandbox {
        private static final List<String> BWRAP_LOCATIONS = List.of("/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap");
        private static final List<String> ETC_FILES = List.of("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/alternatives",
                "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime", "/etc/ssl/certs", "/etc/gitconfig");

        /** bubblewrap, from the fixed system locations only (never from a PATH someone could change). */
        public static Optional<Bwrap> find() {
            for (String p : BWRAP_LOCATIONS) {
                Path path = Path.of(p);
                if (Files.isRegularFile(path) && Files.isExecutable(path)) {
                    return Optional.of(new Bwrap(path));
                }
            }
            return Optional.empty();
        }

        @Override
        public String name() {
            return "bwrap";
        }

        @Override
        public List<String> command(Path executable, List<String> args, Path cwd, Mounts mounts, boolean network) {
            List<String> c = new ArrayList<>(List.of(bwrap.toString(), "--unshare-all", "--die-with-parent",
                    "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"));
            if (network) {
                c.add("--share-net");
            }
            c.addAll(List.of("--ro-bind", "/usr", "/usr"));
            for (String top : List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32")) {
                Path host = Path.of("/", top);
                if (Files.isSymbolicLink(host)) {
                    c.addAll(List.of("--symlink", "usr/" + top, "/" + top));
                } else if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                    c.addAll(List.of("--ro-bind", host.toString(), host.toString()));
                }
            }
            for (String f : ETC_FILES) {
                c.addAll(List.of("--ro-bind-try", f, f));
            }
            c.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
            if (!executable.startsWith("/usr") && !isUnder(executable, mounts)) {
                c.addAll(List.of("--ro-bind", executable.toString(), executable.toString()));
            }
            for (Path p : mounts.readOnly()) {
                c.addAll(List.of("--ro-bind-try", p.toString(), p.toString()));
            }
            for (Path p : mounts.writable()) {
                c.addAll(List.of("--bind-try", p.toString(), p.toString()));
            }
            c.addAll(List.of("--chdir", cwd.toString(), "--", executable.toString()));
            c.addAll(args);
            return c;
        }

        private static boolean isUnder(Path p, Mounts m) {
            return m.readOnly().stream().anyMatch(p::startsWith) || m.writable().stream().anyMatch(p::startsWith);
        }
    }
}
