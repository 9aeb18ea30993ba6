package dev.warden.store;

import java.util.List;
import java.util.Optional;

/** Agent plans and the approvals queue, inside one store transaction ({@link Tx#approvals()}). */
public interface ApprovalsTx {
    /** The saved plan of a job (canonical JSON), if its brain has planned already. */
    Optional<String> plan(String jobId);

    void putPlan(String jobId, String planJson, long now);

    /** Inserts a pending request; returns false (changing nothing) when the job already has one for {@code actionKey}. */
    boolean insert(ApprovalRow row);

    Optional<ApprovalRow> find(String id);

    Optional<ApprovalRow> find(String jobId, String actionKey);

    List<ApprovalRow> forJob(String jobId);

    /** Requests in {@code state} (null: all), pending ones oldest first, others newest decided first. */
    List<ApprovalRow> list(String state, int limit);

    long countPending(String jobId);

    /** Pending requests of every job. */
    long countPending();

    /**
     * Moves a pending, unexpired request to {@code state}; returns false when it is no longer
     * pending or has expired (somebody else decided, or time ran out).
     */
    boolean decide(String id, String state, String actor, String note, long now);

    /** Pending requests whose expiry is at or before {@code now}. */
    List<ApprovalRow> expiredPending(long now, int limit);

    /** Marks a pending request {@code expired} (or {@code withdrawn}); false if it was not pending. */
    boolean close(String id, String state, long now);

    record ApprovalRow(String id, String jobId, String actionKey, String action, String reasons, String summary,
                       String state, long requestedAt, long expiresAt, Long decidedAt, String decidedBy, String note) {}
}
