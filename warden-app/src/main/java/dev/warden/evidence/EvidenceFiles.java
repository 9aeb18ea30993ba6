package dev.warden.evidence;

import java.util.Map;

/**
 * Where a job's evidence files (its {@code artifacts/} and {@code content/}) are kept so that any
 * node can serve them, not only the worker that ran the job: the store itself ({@link
 * StoreEvidenceFiles}, with PostgreSQL) or an S3-compatible object store ({@link S3EvidenceFiles},
 * when {@code evidence_store.s3} is configured). The rest of a bundle ({@code events.jsonl},
 * {@code summary.md}) is rendered from the store on whichever node reads it.
 */
public interface EvidenceFiles extends AutoCloseable {
    /** Whether files are kept here at all; false for one machine's store, where the worker's disk is the only copy. */
    boolean enabled();

    /** Stores one file of a job's bundle; {@code name} is relative to the bundle ({@code artifacts/index.jsonl}). */
    void put(String jobId, String name, byte[] content);

    /** Every file stored for a job, by name relative to its bundle. */
    Map<String, byte[]> get(String jobId);

    /**
     * Fails, with the reason, when the files cannot be kept here (an object store that cannot be
     * reached with its keys); the store's own table needs no check beyond the store's.
     */
    default void check() {}

    /** Where the files are, for messages and {@code warden doctor}: no credential in it. */
    String describe();

    /** Releases what it holds (an object store's HTTP client); the store's table holds nothing. */
    @Override
    default void close() {}
}
