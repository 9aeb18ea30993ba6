package dev.warden.queue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.store.JobRow;

/** How one attempt ended, as reported by the worker that held its lease. */
public sealed interface Outcome {
    /** The claimed row (carries the fencing token). */
    JobRow job();

    long durationMs();

    /** What the attempt used ({@code wall_ms}, {@code output_bytes}, …), or null when unknown. */
    JsonNode usage();

    record Succeeded(JobRow job, JsonNode result, long durationMs, JsonNode usage) implements Outcome {}

    record Failed(JobRow job, String code, String message, boolean retryable, long durationMs, JsonNode usage) implements Outcome {}

    record Cancelled(JobRow job, String code, String message, long durationMs, JsonNode usage) implements Outcome {}

    /** Some actions wait for an operator (SPEC section 8): {@code escalated} with the partial result until decided. */
    record Escalated(JobRow job, JsonNode result, String message, long durationMs, JsonNode usage) implements Outcome {}

    /** Not run to completion because the worker is shutting down: back to the queue, attempt not counted. */
    record Released(JobRow job, long durationMs, JsonNode usage) implements Outcome {}
}
