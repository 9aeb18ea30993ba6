package dev.warden.job;

import java.util.EnumSet;
import java.util.Set;

/** Job lifecycle (SPEC section 2). {@code failed} and {@code dead} are terminal until an operator retries. */
public enum JobState {
    queued, running, succeeded, failed, escalated, cancelled, dead;

    public static final Set<JobState> TERMINAL = EnumSet.of(succeeded, failed, cancelled, dead);
    public static final Set<JobState> RETRYABLE_BY_OPERATOR = EnumSet.of(failed, dead, cancelled);

    public boolean isTerminal() {
        return TERMINAL.contains(this);
    }

    public static JobState parse(String s) {
        for (JobState st : values()) {
            if (st.name().equals(s)) {
                return st;
            }
        }
        throw dev.warden.common.WardenException.badInput("state: '" + s + "' is not one of "
                + java.util.Arrays.toString(values()));
    }
}
