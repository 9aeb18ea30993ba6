package dev.warden.common;

import java.util.List;

/**
 * The one exception type for expected errors. Carries a stable {@link ErrorCode} and, for
 * validation failures, every violation found (never only the first).
 */
public class WardenException extends RuntimeException {
    private final ErrorCode code;
    private final List<String> violations;

    public WardenException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public WardenException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    private WardenException(ErrorCode code, String message, List<String> violations, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.violations = List.copyOf(violations);
    }

    public static WardenException badInput(String message) {
        return new WardenException(ErrorCode.BAD_INPUT, message);
    }

    /** A validation failure listing every violation; the message is the violations joined. */
    public static WardenException invalid(String what, List<String> violations) {
        String msg = what + ": " + violations.size() + " violation" + (violations.size() == 1 ? "" : "s")
                + "\n  " + String.join("\n  ", violations);
        return new WardenException(ErrorCode.BAD_INPUT, msg, violations, null);
    }

    public static WardenException denied(List<String> violations) {
        String msg = "denied by policy: " + String.join("; ", violations);
        return new WardenException(ErrorCode.POLICY_DENIED, msg, violations, null);
    }

    public static WardenException notFound(String message) {
        return new WardenException(ErrorCode.NOT_FOUND, message);
    }

    public ErrorCode code() {
        return code;
    }

    public List<String> violations() {
        return violations;
    }
}
