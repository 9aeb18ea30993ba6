package dev.warden.health;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.job.JobState;
import dev.warden.ledger.Checkpoint;
import dev.warden.ledger.Envelope;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.queue.KillSwitch;
import dev.warden.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code warden canary} (SPEC section 11): one line
 * {@code CANARY status=<OK|DEGRADED|FAIL> store=… workers=… models=… ledger=… killswitch=<ON|OFF> ts=…}.
 *
 * <p>Components, and what each contributes to the status:
 * <ul>
 * <li>{@code store}: {@code ok} when a read transaction answers; {@code fail} otherwise (FAIL).</li>
 * <li>{@code workers}: {@code ok} when at least one registered worker process has a heartbeat within
 *   the alive window and no dead one still holds running jobs; {@code stuck} when a dead worker holds
 *   running jobs (DEGRADED: they wait for the lease reaper); {@code none} when no worker is alive
 *   (FAIL: nothing would run); {@code unknown} without a store.</li>
 * <li>{@code models}: {@code none} when no provider is configured; {@code ok} when every provider's
 *   probe is OK; {@code degraded} when some probe is DEGRADED or DOWN but not all are DOWN (DEGRADED);
 *   {@code down} when every provider is DOWN (FAIL).</li>
 * <li>{@code ledger}: {@code ok} when every chain verifies, also against the canary's own checkpoint
 *   ({@code <data_dir>/canary-checkpoint.json}, rewritten after each clean run, so truncation between
 *   two runs is caught); {@code bad} otherwise (FAIL); {@code unknown} without a store.</li>
 * <li>{@code killswitch}: {@code ON} makes the status at least DEGRADED (nothing is claimed).</li>
 * </ul>
 */
public final class Canary {
    public static final String LOG_FILE = "canary.log";
    public static final String CHECKPOINT_FILE = "canary-checkpoint.json";
    public static final String EVENT = "canary.run";

    public enum Status {
        OK(0), DEGRADED(10), FAIL(20);

        private final int exitCode;

        Status(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /** One run's result. {@code problems} explains every component that is not ok, one line each. */
    public record Report(Status status, String store, String workers, String models, String ledger, boolean killSwitch,
                         Instant ts, List<String> problems, ObjectNode details) {
        public String line() {
            return "CANARY status=" + status + " store=" + store + " workers=" + workers + " models=" + models
                    + " ledger=" + ledger + " killswitch=" + (killSwitch ? "ON" : "OFF") + " ts=" + Envelope.formatTs(ts);
        }

        /** The components that make the status FAIL, in line order (e.g. {@code store}, {@code ledger}). */
        public List<String> failing() {
            List<String> f = new ArrayList<>();
            if (store.equals("fail")) {
                f.add("store");
            }
            if (workers.equals("none")) {
                f.add("workers");
            }
            if (models.equals("down")) {
                f.add("models");
            }
            if (ledger.equals("bad")) {
                f.add("ledger");
            }
            return f;
        }

        public ObjectNode toJson() {
            ObjectNode n = Json.object().put("status", status.name()).put("store", store).put("workers", workers)
                    .put("models", models).put("ledger", ledger).put("killswitch", killSwitch ? "ON" : "OFF")
                    .put("ts", Envelope.formatTs(ts));
            ArrayNode p = n.putArray("problems");
            problems.forEach(p::add);
            n.set("details", details);
            return n;
        }
    }

    private final Path dataDir;
    private final Clock clock;
    private final Duration aliveWithin;
    private final Supplier<List<ProviderProbes.Probe>> providers;

    /**
     * @param aliveWithin how recent a worker heartbeat must be ({@link WorkerHealth#aliveWithin})
     * @param providers   the provider probes (empty list: no provider configured)
     */
    public Canary(Path dataDir, Clock clock, Duration aliveWithin, Supplier<List<ProviderProbes.Probe>> providers) {
        this.dataDir = dataDir;
        this.clock = clock;
        this.aliveWithin = aliveWithin;
        this.providers = providers;
    }

    /** Runs every check. {@code store} is empty when it could not even be opened ({@code storeError} says why). */
    public Report check(Optional<Store> store, String storeError) {
        Instant ts = clock.instant();
        List<String> problems = new ArrayList<>();
        ObjectNode details = Json.object();
        Status status = Status.OK;

        String storeValue = "ok";
        Map<JobState, Long> queue = Map.of();
        if (store.isPresent()) {
            try {
                queue = store.get().read(dev.warden.store.Tx::countByState);
            } catch (RuntimeException e) {
                storeValue = "fail";
                problems.add("store: " + e.getMessage());
            }
        } else {
            storeValue = "fail";
            problems.add("store: " + storeError);
        }
        boolean storeOk = storeValue.equals("ok");
        ObjectNode q = details.putObject("queue");
        queue.forEach((s, c) -> q.put(s.name(), c));
        if (!storeOk) {
            status = Status.FAIL;
        }

        String workersValue = "unknown";
        if (storeOk) {
            try {
                WorkerHealth w = WorkerHealth.read(store.get(), clock.millis(), aliveWithin);
                details.putObject("workers").put("alive", w.alive()).put("dead", w.dead()).put("stopped", w.stopped())
                        .put("jobs_on_dead", w.jobsOnDead());
                if (w.alive() == 0) {
                    workersValue = "none";
                    status = Status.FAIL;
                    problems.add("workers: no worker process is alive (" + w.describe() + "); start 'warden up' or 'warden worker'");
                } else if (w.deadHoldingJobs() > 0) {
                    workersValue = "stuck";
                    status = worse(status, Status.DEGRADED);
                    problems.add("workers: " + w.describe() + "; the reaper requeues their jobs when the leases expire");
                } else {
                    workersValue = "ok";
                }
            } catch (RuntimeException e) {
                problems.add("workers: cannot read the registry: " + e.getMessage());
                status = Status.FAIL;
                workersValue = "unknown";
            }
        }

        String modelsValue;
        List<ProviderProbes.Probe> probes = providers.get();
        ArrayNode pd = details.putArray("providers");
        probes.forEach(p -> pd.addObject().put("provider", p.provider()).put("status", p.status().name())
                .put("last_error_class", p.lastErrorClass()).put("latency_ms", p.latencyMs()));
        if (probes.isEmpty()) {
            modelsValue = "none";
        } else if (probes.stream().allMatch(p -> p.status() == ProviderProbes.State.OK)) {
            modelsValue = "ok";
        } else if (probes.stream().allMatch(p -> p.status() == ProviderProbes.State.DOWN)) {
            modelsValue = "down";
            status = Status.FAIL;
        } else {
            modelsValue = "degraded";
            status = worse(status, Status.DEGRADED);
        }
        for (ProviderProbes.Probe p : probes) {
            if (p.status() != ProviderProbes.State.OK) {
                problems.add("models: provider " + p.provider() + " " + p.status() + " (" + p.lastErrorClass() + ") " + p.detail());
            }
        }

        String ledgerValue = "unknown";
        if (storeOk) {
            ledgerValue = verifyLedger(store.get(), problems, details);
            if (!ledgerValue.equals("ok")) {
                status = Status.FAIL;
            }
        }

        boolean kill = Files.exists(dataDir.resolve(KillSwitch.FILE_NAME));
        if (!kill && storeOk) {
            try {
                kill = store.get().read(tx -> tx.setting(KillSwitch.SETTING)).map("on"::equals).orElse(false);
            } catch (RuntimeException e) {
                problems.add("killswitch: cannot read the flag: " + e.getMessage());
            }
        }
        if (kill) {
            status = worse(status, Status.DEGRADED);
            problems.add("killswitch: ON (no job is claimed); 'warden killswitch off' resumes");
        }
        return new Report(status, storeValue, workersValue, modelsValue, ledgerValue, kill, ts, List.copyOf(problems), details);
    }

    private String verifyLedger(Store store, List<String> problems, ObjectNode details) {
        Path cpFile = dataDir.resolve(CHECKPOINT_FILE);
        Optional<Checkpoint> cp = Optional.empty();
        try {
            if (Files.exists(cpFile)) {
                cp = Optional.of(Checkpoint.fromJson(Json.parse(Files.readString(cpFile))));
            }
        } catch (IOException | RuntimeException e) {
            problems.add("ledger: cannot read " + cpFile + " (" + e.getMessage() + "); remove it to start a new baseline");
            return "bad";
        }
        try {
            Ledger.VerifyReport r = Ledger.verify(store, cp);
            details.putObject("ledger").put("entries", r.entries()).put("chains", r.chains())
                    .put("checkpoint", cp.isPresent());
            if (!r.ok()) {
                problems.add("ledger: " + r.firstBad().map(Object::toString).orElse("verification failed"));
                return "bad";
            }
            try {
                writeAtomically(cpFile, Json.pretty(Ledger.checkpoint(store, clock).toJson()) + "\n");
            } catch (UncheckedIOException e) {
                problems.add("ledger: verified, but " + e.getMessage() + " (" + e.getCause().getMessage() + ")");
            }
            return "ok";
        } catch (RuntimeException e) {
            problems.add("ledger: cannot verify: " + e.getMessage());
            return "bad";
        }
    }

    /** Appends the line to {@code <data_dir>/canary.log}. */
    public void appendLog(Report r) {
        try {
            Files.writeString(dataDir.resolve(LOG_FILE), r.line() + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + dataDir.resolve(LOG_FILE), e);
        }
    }

    /** The {@code canary.run} envelope: info when OK, warn when DEGRADED, error when FAIL. */
    public static EventDraft event(Report r, String actor) {
        ObjectNode d = r.toJson();
        d.remove("ts");
        return switch (r.status()) {
            case OK -> EventDraft.info(EVENT, "health", null, actor, d);
            case DEGRADED -> EventDraft.warn(EVENT, "health", null, actor, d);
            case FAIL -> EventDraft.error(EVENT, "health", null, actor, d);
        };
    }

    /** Records the envelope in the ledger; false when the store cannot take it (the caller logs it instead). */
    public static boolean record(Store store, Ledger ledger, Report r, String actor) {
        try {
            ledger.record(store, event(r, actor));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * When the store cannot take the envelope, it is written (redacted, without seq or hashes, as
     * log lines are) to {@code <data_dir>/logs/warden.log}, so the run is still on record.
     */
    public static void appendUnrecorded(Path dataDir, Report r, dev.warden.ledger.Redactor redactor, String actor) {
        EventDraft e = event(r, actor);
        ObjectNode n = Json.object().put("schema", Envelope.SCHEMA).put("ts", Envelope.formatTs(r.ts())).put("event", e.event())
                .put("severity", e.severity().name()).put("component", e.component()).putNull("corr_id").put("actor", actor);
        n.set("details", e.details());
        n.put("recorded_in_ledger", false);
        try {
            Path logs = dataDir.resolve("logs");
            Files.createDirectories(logs);
            Files.writeString(logs.resolve("warden.log"), Json.write(redactor.redact(n)) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException ex) {
            // the line on stdout and in canary.log remains; nothing else can be done without a store or a disk
        }
    }

    private static Status worse(Status a, Status b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    private static void writeAtomically(Path file, String text) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
