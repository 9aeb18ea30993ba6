package dev.warden.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Warden's own git operations on a job's behalf (pinning a commit, copying a repository into the
 * job's work directory), run through the job's sandbox with a clean environment, no global or
 * system configuration, and hooks and fsmonitor switched off. The source repository is only read
 * by {@code rev-parse} and {@code clone} (which run no filters); its state is read by Warden
 * itself, not by git.
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

    public static boolean isRepository(Path dir) {
        return Files.isDirectory(dir.resolve(".git")) || Files.isRegularFile(dir.resolve("HEAD"));
    }

    private ExecResult run(Path cwd, String... args) {
        List<String> a = new ArrayList<>(SAFE);
        a.addAll(List.of(args));
        List<String> command = sandbox.command(GIT, a, cwd, mounts, false);
        Map<String, String> env = EnvRules.childEnvironment(Map.of("GIT_CONFIG_NOSYSTEM", "1", "GIT_CONFIG_GLOBAL", "/dev/null",
                "GIT_TERMINAL_PROMPT", "0"), home.toString());
        return ProcessRunner.run(command, cwd, env, 120_000, 1024 * 1024, sandbox.name(), GIT, () -> false);
    }

    public static final class GitException extends RuntimeException {
        GitException(String message) {
            super(message);
        }
    }
}
