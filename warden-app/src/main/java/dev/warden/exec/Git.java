package dev.warden.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Warden's own git operations on a job's behalf (pinning a commit, copying a repository into the
 * job's work directory, reading a repository's state), run through the job's sandbox with a
 * clean environment and with repository-controlled code paths (hooks, fsmonitor) switched off.
 */
public final class Git {
    public static final Path GIT = Path.of("/usr/bin/git");
    private static final Pattern REV = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]{0,199}");
    private static final List<String> SAFE = List.of("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
            "-c", "protocol.file.allow=always", "-c", "safe.directory=*");

    private final Sandbox sandbox;
    private final Sandbox.Mounts mounts;
    private final Path home;

    public Git(Sandbox sandbox, Sandbox.Mounts mounts, Path home) {
        this.sandbox = sandbox;
        this.mounts = mounts;
        this.home = home;
    }

    /** Why {@code rev} is not an acceptable revision, if it is not. */
    public static String checkRevision(String rev) {
        return REV.matcher(rev).matches() ? null
                : "commit: '" + rev + "' is not a revision (letters, digits and _ . / ~ ^ @ { } -, not starting with -)";
    }

    public String resolveCommit(Path repo, String rev) {
        ExecResult r = run(repo, "rev-parse", "--verify", "--quiet", rev + "^{commit}");
        if (r.exitCode() != 0) {
            throw new GitException("commit '" + rev + "' not found in " + repo);
        }
        return r.stdout().strip();
    }

    /** Clones {@code repo} into {@code dest} (which must not exist) and checks out {@code sha}, detached. */
    public void copyAt(Path repo, String sha, Path dest) {
        ExecResult c = run(dest.getParent(), "clone", "--quiet", "--no-hardlinks", "--no-checkout", repo.toString(), dest.toString());
        if (c.exitCode() != 0) {
            throw new GitException("could not copy " + repo + ": " + c.stderr().strip());
        }
        ExecResult co = run(dest, "checkout", "--quiet", "--detach", sha);
        if (co.exitCode() != 0) {
            throw new GitException("could not check out " + sha + ": " + co.stderr().strip());
        }
    }

    /** HEAD and the porcelain status lines of {@code repo}. */
    public List<String> state(Path repo) {
        List<String> out = new ArrayList<>();
        ExecResult head = run(repo, "rev-parse", "--verify", "--quiet", "HEAD");
        out.add("HEAD " + head.stdout().strip());
        ExecResult st = run(repo, "status", "--porcelain=v1", "--untracked-files=all", "--ignored=no");
        if (st.exitCode() != 0) {
            throw new GitException("could not read the state of " + repo + ": " + st.stderr().strip());
        }
        st.stdout().lines().filter(l -> !l.isBlank()).forEach(out::add);
        return out;
    }

    public static boolean isRepository(Path dir) {
        return Files.isDirectory(dir.resolve(".git")) || Files.isRegularFile(dir.resolve("HEAD"));
    }

    private ExecResult run(Path cwd, String... args) {
        List<String> a = new ArrayList<>(SAFE);
        a.addAll(List.of(args));
        List<String> command = sandbox.command(GIT, a, cwd, mounts, false);
        Map<String, String> env = EnvRules.childEnvironment(Map.of("GIT_CONFIG_NOSYSTEM", "1", "GIT_TERMINAL_PROMPT", "0"),
                home.toString());
        return ProcessRunner.run(command, cwd, env, 120_000, 1024 * 1024, sandbox.name(), GIT, () -> false);
    }

    public static final class GitException extends RuntimeException {
        GitException(String message) {
            super(message);
        }
    }
}
