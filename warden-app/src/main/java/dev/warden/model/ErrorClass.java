package dev.warden.model;

/**
 * Why an upstream attempt failed, classified exactly as SPEC section 7 says. Only the three
 * transient classes may fall back to the next candidate; everything else fails the call at once.
 */
public enum ErrorClass {
    /** HTTP 429. */
    TRANSIENT_QUOTA("transient_quota", true),
    /** HTTP 500-504. */
    TRANSIENT_SERVER("transient_server", true),
    /** Connect failure, timeout, or the connection lost before a complete response. */
    TRANSIENT_NETWORK("transient_network", true),
    /** Anything else: other statuses, malformed responses. */
    NON_TRANSIENT("non_transient", false),
    /** The provider's key reference resolves to nothing. */
    MISSING_KEY("missing_key", false),
    /** A hosted model with no price: refused, since its cost could not be bounded. */
    NO_PRICE("no_price", false),
    /** Skipped: the provider's circuit breaker is open. Not a call; the next candidate is tried. */
    CIRCUIT_OPEN("circuit_open", true);

    private final String wire;
    private final boolean fallsBack;

    ErrorClass(String wire, boolean fallsBack) {
        this.wire = wire;
        this.fallsBack = fallsBack;
    }

    public String wire() {
        return wire;
    }

    /** Whether the router may try the next candidate after this class. */
    public boolean fallsBack() {
        return fallsBack;
    }

    /** Counts toward opening the provider's circuit breaker. */
    public boolean transientFailure() {
        return this == TRANSIENT_QUOTA || this == TRANSIENT_SERVER || this == TRANSIENT_NETWORK;
    }

    public static ErrorClass ofStatus(int status) {
        if (status == 429) {
            return TRANSIENT_QUOTA;
        }
        if (status >= 500 && status <= 504) {
            return TRANSIENT_SERVER;
        }
        return NON_TRANSIENT;
    }

}
