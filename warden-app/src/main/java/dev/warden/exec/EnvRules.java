package dev.warden.exec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The environment of a child process starts empty: a fixed base ({@code PATH}, {@code HOME},
 * {@code LANG}, {@code TMPDIR}; bubblewrap adds {@code PWD}) plus what the job asks for, minus anything that changes how
 * programs load or find code ({@code LD_*}, {@code PATH}, …). Warden's own environment, where
 * secrets live, is never inherited.
 */
public final class EnvRules {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final List<String> FORBIDDEN_PREFIXES = List.of("LD_", "DYLD_", "BASH_FUNC_", "GCONV_", "MALLOC_", "GIT_",
            "GLIBC_", "PERL", "PYTHON", "RUBY", "NODE_", "NPM_CONFIG_", "JAVA_", "MAVEN_", "GRADLE_", "SSH_", "SSL_",
            "CURL_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "XDG_");
    private static final List<String> FORBIDDEN = List.of("PATH", "HOME", "IFS", "ENV", "BASH_ENV", "SHELLOPTS",
            "PS4", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PERL5LIB", "PERL5OPT", "RUBYOPT", "RUBYLIB",
            "NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
            "GIT_EXEC_PATH", "GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_SSH", "GIT_SSH_COMMAND", "TMPDIR", "LOCPATH",
            "NLSPATH", "HOSTALIASES", "RESOLV_HOST_CONF");

    private EnvRules() {}

    /** The reason {@code name} may not be set by a job, if any. */
    public static Optional<String> refusal(String name) {
        if (!NAME.matcher(name).matches()) {
            return Optional.of("env: '" + name + "' is not a valid variable name");
        }
        String upper = name.toUpperCase(Locale.ROOT);
        for (String p : FORBIDDEN_PREFIXES) {
            if (upper.startsWith(p)) {
                return Optional.of("env: " + name + " may not be set (variables starting with " + p
                        + " change how programs load code)");
            }
        }
        if (FORBIDDEN.contains(upper)) {
            return Optional.of("env: " + name + " may not be set (it changes which code runs or where it is found)");
        }
        return Optional.empty();
    }

    /** The complete environment for a child: the fixed base plus the job's (already checked) variables. */
    public static Map<String, String> childEnvironment(Map<String, String> requested, String home) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", String.join(":", ArgvRules.SEARCH_PATH));
        env.put("HOME", home);
        env.put("LANG", "C.UTF-8");
        env.put("TMPDIR", "/tmp");
        env.putAll(requested);
        return env;
    }
}
