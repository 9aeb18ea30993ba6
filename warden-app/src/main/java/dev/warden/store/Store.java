package dev.warden.store;

/**
 * Persistence for jobs, the ledger and settings. Every method of {@link Tx} runs inside one
 * transaction opened by {@link #write} or {@link #read}, so a state change and its ledger entries
 * commit together or not at all. Implementations: SQLite (embedded default), PostgreSQL.
 */
public interface Store extends AutoCloseable {

    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws Exception;
    }

    /** Runs {@code work} in one write transaction; rolls back if it throws. */
    <T> T write(Work<T> work);

    /** Runs {@code work} in a read-only transaction (a consistent snapshot). */
    <T> T read(Work<T> work);

    /**
     * Refreshes the planner's statistics of the jobs table after many rows arrived, where the
     * engine plans by them (PostgreSQL: without them the claim query scans and sorts every queued
     * row instead of reading the claim index). A no-op elsewhere.
     */
    default void refreshJobStatistics() {
    }

    /**
     * Whether several nodes share this store, so evidence that lives on one node's disk (the
     * artifacts) must also be kept in the store for the others to serve.
     */
    default boolean shared() {
        return false;
    }

    /** Human-readable location, without credentials. */
    String describe();

    @Override
    void close();
}
