package dev.warden.queue;

import dev.warden.store.JobRow;
import java.util.List;

/** What a claim found. */
public sealed interface ClaimResult {
    record Claimed(List<JobRow> jobs) implements ClaimResult {}

    record Empty() implements ClaimResult {}

    record KillSwitchOn() implements ClaimResult {}
}
