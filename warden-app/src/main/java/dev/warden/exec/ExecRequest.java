package dev.warden.exec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One process to run: an argv list (never a shell string), a working directory, extra environment
 * (checked against {@link EnvRules}), a timeout and a cap on captured output per stream.
 */
public record ExecRequest(List<String> argv, Path cwd, Map<String, String> env, Duration timeout, int maxOutputBytes) {
    public static final int DEFAULT_MAX_OUTPUT = 1024 * 1024;

    public ExecRequest {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
    }

    public static ExecRequest of(List<String> argv, Path cwd, Duration timeout) {
        return new ExecRequest(argv, cwd, Map.of(), timeout, DEFAULT_MAX_OUTPUT);
    }
}
