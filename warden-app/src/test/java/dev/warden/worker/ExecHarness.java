package dev.warden.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.exec.Sandbox;
import dev.warden.job.JobContext;
import dev.warden.queue.ClaimResult;
import dev.warden.store.JobRow;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real {@link GovernedJobContext} for one claimed job, for tests that exercise the governed
 * capabilities one call at a time (the escape battery).
 */
public final class ExecHarness {
    private ExecHarness() {}

    /** Enqueues {@code spec} (validated against the operator policy), claims it and returns its context. */
    public static JobContext contextFor(WardenApp app, ObjectNode spec, Optional<Sandbox> sandbox) {
        app.queue().enqueue(app.parser().parse(spec), "test");
        JobRow row = switch (app.queue().claim("harness", 1)) {
            case ClaimResult.Claimed c -> c.jobs().get(0);
            default -> throw new AssertionError("nothing claimed");
        };
        GovernedJobContext.Isolation iso = new GovernedJobContext.Isolation(sandbox,
                "isolation required by the operator policy but bubblewrap (bwrap) was not found");
        return new GovernedJobContext(row, Json.parse(row.spec()), app.store(), app.ledger(),
                app.evidence().artifacts(row.id()), app.clock(), new AtomicReference<>(), () -> Long.MAX_VALUE, iso,
                app.dataDir().resolve("work").resolve(row.id() + "-" + row.attempts()), app::router,
                app.config().policy().recordContent());
    }

    public static Path bwrapOrSkip() {
        return Sandbox.Bwrap.find().map(Sandbox.Bwrap::bwrap).orElse(null);
    }
}
