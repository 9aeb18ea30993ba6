package dev.warden.common;

/** Stable error codes; each maps to one documented CLI exit code (README "Exit codes"). */
public enum ErrorCode {
    FAILURE(1),
    BAD_INPUT(2),
    NOT_FOUND(3),
    POLICY_DENIED(4),
    KILL_SWITCH_ON(5),
    TIMEOUT(124),
    INTERNAL(1);

    private final int exitCode;

    ErrorCode(int exitCode) {
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    /** The lower-case code used in API error bodies, e.g. {@code bad_input}. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
