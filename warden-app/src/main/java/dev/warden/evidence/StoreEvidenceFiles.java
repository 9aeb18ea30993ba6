package dev.warden.evidence;

import dev.warden.store.Store;
import java.util.Map;

/** Evidence files in the store's {@code evidence_files} table: shared when the store is (PostgreSQL). */
public final class StoreEvidenceFiles implements EvidenceFiles {
    private final Store store;
    private final java.time.Clock clock;

    public StoreEvidenceFiles(Store store, java.time.Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public boolean enabled() {
        return store.shared();
    }

    @Override
    public void put(String jobId, String name, byte[] content) {
        store.write(tx -> {
            tx.putEvidenceFile(jobId, name, content, clock.millis());
            return null;
        });
    }

    @Override
    public Map<String, byte[]> get(String jobId) {
        return store.read(tx -> tx.evidenceFiles(jobId));
    }

    @Override
    public String describe() {
        return store.shared() ? "the store (evidence_files)" : "this node's disk only (a SQLite store is not shared)";
    }
}
