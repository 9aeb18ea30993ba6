package dev.warden.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.policy.Budgets;
import dev.warden.policy.Policy;
import java.time.Instant;
import java.util.Map;

/** A validated job spec (SPEC section 2). {@code json} is the normalized spec as stored. */
public record JobSpec(String kind, String project, ObjectNode payload, Policy policy, Budgets budgets, int priority,
                      Instant runAfter, int maxAttempts, boolean retryOnLeaseLoss, String idempotencyKey,
                      Map<String, String> labels, ObjectNode json) {
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final String DEFAULT_PROJECT = "default";
}
