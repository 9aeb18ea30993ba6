package dev.warden.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.policy.Policy;
import java.util.List;

/** A kind of job: its payload schema, its checks, and the handler that runs it through a {@link JobContext}. */
public interface JobKind {
    String name();

    /** Payload schema under {@code schemas/}, e.g. {@code kinds/repo_index.schema.json}. */
    String payloadSchema();

    /** Read-only kinds default to {@code retry_on_lease_loss: true}; kinds with side effects to false. */
    boolean readOnly();

    /** Payload rules a schema cannot express; each violation names its field. Checked at enqueue. */
    default List<String> validate(JsonNode payload) {
        return List.of();
    }

    /** What the payload needs that the job's own policy does not grant; each names the field. Checked at enqueue. */
    default List<String> denials(JsonNode payload, Policy jobPolicy) {
        return List.of();
    }

    /** Runs one attempt and returns the kind's result JSON. */
    JsonNode run(JobContext ctx) throws Exception;
}
