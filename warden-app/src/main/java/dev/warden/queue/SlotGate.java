package dev.warden.queue;

import java.util.Optional;

/**
 * A condition a slot must meet at claim time besides its capacity (the VRAM guard for {@code gpu}).
 * Consulted inside the claim transaction, so it must answer at once from what it already knows.
 */
public interface SlotGate {
    SlotGate OPEN = slot -> Optional.empty();

    /** Empty when {@code slot} may be claimed now; otherwise why not (recorded in the ledger). */
    Optional<Closed> closed(String slot);

    /** Why a slot is closed: a stable reason code and a message for the ledger. */
    record Closed(String reason, String message) {}
}
