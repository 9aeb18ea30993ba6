package dev.warden.job;

/**
 * How an attempt ended other than with a result. {@code code} is the stable error code shown in
 * the job's {@code error}; {@code retryable} decides between a retry and a terminal {@code failed}.
 */
public class JobFailure extends RuntimeException {
    private final String code;
    private final boolean retryable;

    public JobFailure(String code, String message, boolean retryable) {
        super(message);
        this.code = code;
        this.retryable = retryable;
    }

    public static JobFailure denied(String message) {
        return new JobFailure("policy_denied", message, false);
    }

    public static JobFailure budgetExceeded(String which, String message) {
        return new JobFailure("budget_exceeded:" + which, message, false);
    }

    public static JobFailure transientError(String message) {
        return new JobFailure("transient", message, true);
    }

    public static JobFailure permanent(String code, String message) {
        return new JobFailure(code, message, false);
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The job was cancelled (operator, kill switch) or lost its lease: stop now, record nothing as a result. */
    public static final class Stop extends JobFailure {
        public Stop(String code, String message) {
            super(code, message, false);
        }
    }

    /**
     * The attempt ends waiting for an operator: some of its actions were escalated to the approvals
     * queue. The job becomes {@code escalated} with {@code result} (what was planned and done so far)
     * and resumes once every request is decided or expired.
     */
    public static final class Escalated extends JobFailure {
        private final transient com.fasterxml.jackson.databind.JsonNode result;

        public Escalated(String message, com.fasterxml.jackson.databind.JsonNode result) {
            super("escalated", message, false);
            this.result = result;
        }

        public com.fasterxml.jackson.databind.JsonNode result() {
            return result;
        }
    }
}
