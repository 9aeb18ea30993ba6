package dev.warden.bench;

/**
 * One system in the side-by-side comparison: enqueue {@code jobs} noop jobs in batches of
 * {@code batch} (timed on its own), then start {@code threads} workers and time until the store
 * shows every job done.
 */
interface PeerScenario {
    String system();

    String version();

    /** How the system was configured beyond the shared settings, for the report. */
    String configuration(PeerTarget.Kind store);

    /**
     * Whether this system runs on that store; if not, {@link #unsupportedReason} says why (the
     * report shows it), or is null for a variant that is simply not run there (no row).
     */
    default boolean supports(PeerTarget.Kind store) {
        return true;
    }

    default String unsupportedReason(PeerTarget.Kind store) {
        return "";
    }

    PeerRun.Result run(PeerTarget target, int jobs, int batch, int threads) throws Exception;
}
