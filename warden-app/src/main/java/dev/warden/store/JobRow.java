package dev.warden.store;

import dev.warden.job.JobState;

/**
 * A job as persisted. Times are epoch milliseconds. {@code claims} increases on every claim and
 * is never reset: it is the fencing token that lets only the current lease holder finish an attempt.
 */
public record JobRow(String id, String kind, String project, JobState state, int priority, long runAfter,
                     int attempts, int maxAttempts, long claims, boolean retryOnLeaseLoss, String idempotencyKey,
                     String slot, String spec, String labels, String result, String errorCode, String errorMessage,
                     String leaseOwner, Long leaseExpiresAt, boolean cancelRequested, long createdAt, long updatedAt,
                     Long startedAt, Long finishedAt) {

    public JobRow withState(JobState s, long now) {
        return new JobRow(id, kind, project, s, priority, runAfter, attempts, maxAttempts, claims, retryOnLeaseLoss,
                idempotencyKey, slot, spec, labels, result, errorCode, errorMessage, leaseOwner, leaseExpiresAt,
                cancelRequested, createdAt, now, startedAt, finishedAt);
    }

    /** Ends the current attempt: lease released, outcome recorded. */
    public JobRow finished(JobState s, String resultJson, String errCode, String errMessage, long now) {
        Long fin = s.isTerminal() ? Long.valueOf(now) : null;
        return new JobRow(id, kind, project, s, priority, runAfter, attempts, maxAttempts, claims, retryOnLeaseLoss,
                idempotencyKey, slot, spec, labels, resultJson, errCode, errMessage, null, null, false, createdAt,
                now, startedAt, fin);
    }

    public JobRow requeued(long newRunAfter, String errCode, String errMessage, long now) {
        return new JobRow(id, kind, project, JobState.queued, priority, newRunAfter, attempts, maxAttempts, claims,
                retryOnLeaseLoss, idempotencyKey, slot, spec, labels, null, errCode, errMessage, null, null, false,
                createdAt, now, startedAt, null);
    }

    public JobRow claimed(String owner, long leaseUntil, long now) {
        return new JobRow(id, kind, project, JobState.running, priority, runAfter, attempts + 1, maxAttempts,
                claims + 1, retryOnLeaseLoss, idempotencyKey, slot, spec, labels, null, null, null, owner,
                leaseUntil, false, createdAt, now, now, null);
    }

    public JobRow withCancelRequested(long now) {
        return new JobRow(id, kind, project, state, priority, runAfter, attempts, maxAttempts, claims,
                retryOnLeaseLoss, idempotencyKey, slot, spec, labels, result, errorCode, errorMessage, leaseOwner,
                leaseExpiresAt, true, createdAt, now, startedAt, finishedAt);
    }

    /** Operator retry: a fresh set of attempts, queued now. */
    public JobRow retried(long now) {
        return new JobRow(id, kind, project, JobState.queued, priority, now, 0, maxAttempts, claims,
                retryOnLeaseLoss, idempotencyKey, slot, spec, labels, null, null, null, null, null, false,
                createdAt, now, null, null);
    }
}
