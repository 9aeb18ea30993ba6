package dev.warden.exec;

import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks an argv before anything runs: the executable must be a plain program name or path (no
 * whitespace, no shell metacharacters), resolves to an absolute real path through a fixed search
 * path (never the job's own PATH or working directory), and must be allowed by {@code exec.allow},
 * including the rule's argument patterns when it has them.
 */
public final class ArgvRules {
    /** The only search path used to resolve bare program names. */
    public static final List<String> SEARCH_PATH = List.of("/usr/local/bin", "/usr/bin", "/bin");
    private static final Pattern SHELLISH = Pattern.compile("[\\s;|&$><`(){}\\[\\]*?~!#'\"\\\\]");

    private ArgvRules() {}

    /** The resolved, allowed executable; or the reason it is refused. */
    public sealed interface Verdict {
        record Allowed(Path executable) implements Verdict {}

        record Refused(String rule, String reason) implements Verdict {}
    }

    public static Verdict check(List<String> argv, Path cwd, Policy policy) {
        if (argv.isEmpty()) {
            return new Verdict.Refused("argv", "argv is empty");
        }
        String exe = argv.get(0);
        if (exe.isEmpty()) {
            return new Verdict.Refused("argv", "argv[0] is empty");
        }
        if (SHELLISH.matcher(exe).find()) {
            return new Verdict.Refused("argv", "argv[0] '" + exe + "' looks like a shell command line; "
                    + "pass the program and each argument as separate argv elements (no shell is used)");
        }
        for (int i = 0; i < argv.size(); i++) {
            if (argv.get(i).indexOf('\0') >= 0) {
                return new Verdict.Refused("argv", "argv[" + i + "] contains a NUL byte");
            }
        }
        Optional<Path> resolved = resolve(exe, cwd);
        if (resolved.isEmpty()) {
            return new Verdict.Refused("exec.allow", "executable '" + exe + "' not found"
                    + (exe.contains("/") ? "" : " on " + String.join(":", SEARCH_PATH)));
        }
        Path real = resolved.get();
        List<Policy.ExecRule> matching = new ArrayList<>();
        for (Policy.ExecRule r : policy.exec()) {
            if (PathRules.resolve(r.path()).equals(real)) {
                matching.add(r);
            }
        }
        if (matching.isEmpty()) {
            return new Verdict.Refused("exec.allow", "executable " + real
                    + (real.toString().equals(exe) ? "" : " (from '" + exe + "')") + " is not in exec.allow");
        }
        List<String> args = argv.subList(1, argv.size());
        for (Policy.ExecRule r : matching) {
            if (argsMatch(r.args(), args)) {
                return new Verdict.Allowed(real);
            }
        }
        return new Verdict.Refused("exec.allow", "arguments " + args + " do not match the argument patterns allowed for " + real);
    }

    /** No patterns: any arguments. Patterns: every argument must fully match one of them. */
    static boolean argsMatch(List<String> patterns, List<String> args) {
        if (patterns == null) {
            return true;
        }
        for (String a : args) {
            boolean ok = false;
            for (String p : patterns) {
                try {
                    if (Pattern.compile(p).matcher(a).matches()) {
                        ok = true;
                        break;
                    }
                } catch (PatternSyntaxException e) {
                    return false;
                }
            }
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Resolves a program name or path to its real absolute path; empty if not an executable file. */
    static Optional<Path> resolve(String exe, Path cwd) {
        List<Path> candidates = new ArrayList<>();
        if (exe.contains("/")) {
            Path p = Path.of(exe);
            candidates.add(p.isAbsolute() ? p : cwd.resolve(p));
        } else {
            SEARCH_PATH.forEach(d -> candidates.add(Path.of(d, exe)));
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c) && Files.isExecutable(c)) {
                return Optional.of(PathRules.resolve(c));
            }
        }
        return Optional.empty();
    }
}
