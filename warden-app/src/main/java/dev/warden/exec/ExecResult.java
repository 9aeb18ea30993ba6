package dev.warden.exec;

/**
 * How a process ended. Output is capped per stream; {@code stdoutBytes}/{@code stderrBytes}
 * count everything the process wrote, {@code truncated} says whether the captured text is partial.
 */
public record ExecResult(int exitCode, long durationMs, String stdout, String stderr, long stdoutBytes, long stderrBytes,
                         boolean truncated, boolean timedOut, String isolation, String executable) {}
