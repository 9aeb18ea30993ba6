package dev.warden.app;

import dev.warden.common.Ids;
import dev.warden.common.WardenException;
import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.job.JobSpecParser;
import dev.warden.job.KindRegistry;
import dev.warden.kinds.DocCompactorKind;
import dev.warden.kinds.NoopKind;
import dev.warden.kinds.RepoIndexKind;
import dev.warden.kinds.TestRunnerKind;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.queue.Backoff;
import dev.warden.queue.KillSwitch;
import dev.warden.queue.Queue;
import dev.warden.queue.QueueSettings;
import dev.warden.store.Store;
import dev.warden.store.sqlite.SqliteStore;
import dev.warden.worker.Evidence;
import dev.warden.worker.WorkerPool;
import dev.warden.worker.WorkerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The composition root: reads the config, opens the store, and builds the ledger, queue, kinds
 * and evidence with plain constructors. CLI commands and the server get everything from here.
 */
public final class WardenApp implements AutoCloseable {
    public record Options(Path dataDir, Optional<String> storeUrl, Optional<Path> configFile, Clock clock) {
        public static Options of(Path dataDir) {
            return new Options(dataDir, Optional.empty(), Optional.empty(), Clock.systemUTC());
        }
    }

    /** Where bubblewrap is looked for; tests replace it to prove that a missing bwrap fails closed. */
    private java.util.function.Supplier<Optional<dev.warden.exec.Sandbox.Bwrap>> bwrap = dev.warden.exec.Sandbox.Bwrap::find;

    public void locateBwrapWith(java.util.function.Supplier<Optional<dev.warden.exec.Sandbox.Bwrap>> finder) {
        this.bwrap = finder;
    }

    private final Path dataDir;
    private final WardenConfig config;
    private final Clock clock;
    private final SecretScrubber secrets = new SecretScrubber();
    private final Redactor redactor = new Redactor(secrets);
    private final Store store;
    private final Ledger ledger;
    private final KillSwitch killSwitch;
    private final Queue queue;
    private final KindRegistry kinds;
    private final JobSpecParser parser;
    private final dev.warden.config.ProjectRegistry projects;
    private final Evidence evidence;
    private final dev.warden.schedule.Schedules schedules;
    private final dev.warden.agent.Approvals approvals;
    private final String nodeId;

    private WardenApp(Options o) {
        this.dataDir = o.dataDir().toAbsolutePath().normalize();
        this.clock = o.clock();
        ensureDataDir(dataDir);
        Path cwd = Path.of("").toAbsolutePath();
        this.config = ConfigLoader.load(o.configFile(), dataDir, List.of(dataDir.toString(), cwd.toString()));
        loadSecrets(secrets, config, dataDir, o.storeUrl());
        this.store = openStore(o.storeUrl(), dataDir);
        try {
            this.nodeId = config.nodeId().orElseGet(WardenApp::hostName);
            this.ledger = new Ledger(clock, redactor, nodeId);
            this.killSwitch = new KillSwitch(store, ledger, dataDir);
            QueueSettings qs = new QueueSettings(config.lease(),
                    new Backoff(config.backoffBase(), config.backoffMax(), RandomGenerator.getDefault()), config.slots());
            this.queue = new Queue(store, ledger, clock, killSwitch, qs);
            this.kinds = new KindRegistry().register(new RepoIndexKind()).register(new TestRunnerKind())
                    .register(new DocCompactorKind()).register(new NoopKind())
                    .register(new dev.warden.kinds.TriageKind());
            this.projects = dev.warden.config.ProjectRegistry.load(dataDir);
            this.parser = new JobSpecParser(kinds, config.policy(), config.slots().keySet(), projects::refusal);
            this.evidence = new Evidence(dataDir, store, config.evidenceS3()
                    .<dev.warden.evidence.EvidenceFiles>map(s3 -> new dev.warden.evidence.S3EvidenceFiles(s3,
                            dev.warden.model.ProviderKeys.fromSystem(secrets::register)::resolve))
                    .orElseGet(() -> new dev.warden.evidence.StoreEvidenceFiles(store, clock)), redactor);
            this.schedules = new dev.warden.schedule.Schedules(store, ledger, queue, parser, clock);
            this.approvals = new dev.warden.agent.Approvals(store, ledger, clock);
            if (!config.slotsRequireVram().isEmpty()) {
                queue.gateSlots(slot -> vramGate().closed(slot));
            }
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public static WardenApp open(Options o) {
        return new WardenApp(o);
    }

    /**
     * Registers every secret this process must never show: secret-named environment variables,
     * {@code secrets.env} / {@code secrets.files}, provider keys, webhook URLs, the store password
     * and the console token. Public so that a command can scrub its output when the store cannot
     * be opened (the canary).
     */
    public static void loadSecrets(SecretScrubber secrets, WardenConfig config, Path dataDir, Optional<String> storeUrl) {
        secrets.registerSecretEnvironment(System.getenv());
        for (String name : config.secretEnv()) {
            secrets.register(System.getenv(name));
        }
        dev.warden.model.ProviderKeys keys = dev.warden.model.ProviderKeys.fromSystem();
        for (dev.warden.model.ModelsConfig.Provider p : config.models().providers().values()) {
            keys.resolve(p.key()).ifPresent(secrets::register);
        }
        config.evidenceS3().ifPresent(s3 -> keys.resolve(Optional.of(s3.secretAccessKeyRef())).ifPresent(secrets::register));
        for (String f : config.secretFiles()) {
            try {
                secrets.register(Files.readString(Path.of(f)).strip());
            } catch (IOException e) {
                throw WardenException.badInput("secrets.files: cannot read " + f + ": " + e.getMessage());
            }
        }
        Path token = dataDir.resolve(ConsoleToken.FILE_NAME);
        if (Files.exists(token)) {
            secrets.register(ConsoleToken.read(token));
        }
        // a webhook URL is often its own credential (Slack, Teams); only its origin is ever shown
        for (dev.warden.notify.NotifyConfig.Webhook w : dev.warden.notify.NotifyConfig.from(config.raw().path("notify")).webhooks()) {
            secrets.register(w.url().getRawPath() + (w.url().getRawQuery() == null ? "" : "?" + w.url().getRawQuery()));
        }
        storeUrl.filter(u -> u.contains("postgres")).map(dev.warden.store.postgres.PostgresStore::passwordIn)
                .ifPresent(secrets::register);
    }

    static void ensureDataDir(Path dir) {
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir);
                try {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                } catch (UnsupportedOperationException ignored) {
                    // non-POSIX file system
                }
            } else if (!Files.isDirectory(dir)) {
                throw WardenException.badInput("--data-dir: " + dir + " exists and is not a directory");
            }
        } catch (IOException e) {
            throw WardenException.badInput("--data-dir: cannot create " + dir + ": " + e.getMessage());
        }
    }

    static Store openStore(Optional<String> url, Path dataDir) {
        String u = url.filter(s -> !s.isBlank()).orElse(null);
        if (u == null) {
            return new SqliteStore(dataDir.resolve("warden.db"));
        }
        if (u.startsWith("jdbc:sqlite:")) {
            return new SqliteStore(Path.of(u.substring("jdbc:sqlite:".length())));
        }
        if (u.startsWith("sqlite:")) {
            return new SqliteStore(Path.of(u.substring("sqlite:".length())));
        }
        if (u.startsWith("postgresql://") || u.startsWith("postgres://") || u.startsWith("jdbc:postgresql:")) {
            return new dev.warden.store.postgres.PostgresStore(u, 8);
        }
        throw WardenException.badInput("--store: '" + u.replaceAll("//[^@/]*@", "//***@")
                + "' is not a store URL (expected sqlite:PATH or postgresql://HOST:PORT/DB)");
    }

    /** The host name, read without a DNS lookup (which can stall start-up on a badly configured resolver). */
    private static String hostName() {
        String h = null;
        try {
            Path kernel = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(kernel)) {
                h = Files.readString(kernel).strip();
            }
            if (h == null || h.isEmpty()) {
                h = InetAddress.getLocalHost().getHostName();
            }
        } catch (IOException e) {
            h = "node";
        }
        return h.isEmpty() ? "node" : h.replaceAll("[^A-Za-z0-9_.-]", "-");
    }

    /** A unique lease owner for a worker pool in this process. */
    public String newWorkerId() {
        return nodeId + ":" + ProcessHandle.current().pid() + ":" + Ids.randomToken(2);
    }

    /** Where nvidia-smi is looked for ({@code PATH}); tests put a fake one in its place. */
    private java.util.function.Supplier<dev.warden.health.VramGuard> vramGuard = dev.warden.health.VramGuard::fromSystemPath;
    private dev.warden.health.VramGate vramGate;

    public synchronized void useVramGuard(java.util.function.Supplier<dev.warden.health.VramGuard> guard) {
        this.vramGuard = guard;
    }

    /** The claim-time VRAM gate for {@code slots_require_vram} (built on first use; sampling starts with a worker pool). */
    public synchronized dev.warden.health.VramGate vramGate() {
        if (vramGate == null) {
            java.util.Map<String, dev.warden.health.VramGate.Requirement> req = new java.util.LinkedHashMap<>();
            config.slotsRequireVram().forEach((slot, r) -> req.put(slot,
                    new dev.warden.health.VramGate.Requirement(r.minFreeMb(), r.allowNoNvidiaSmi())));
            vramGate = new dev.warden.health.VramGate(vramGuard.get(), req, clock);
        }
        return vramGate;
    }

    public WorkerPool newWorkerPool(int concurrency) {
        if (!config.slotsRequireVram().isEmpty()) {
            vramGate().start();
        }
        WorkerSettings ws = new WorkerSettings(concurrency, config.claimBatch(),
                config.pollInterval(), config.tick(), java.time.Duration.ofSeconds(2),
                config.lease().dividedBy(2));
        return new WorkerPool(queue, kinds, evidence, ws, newWorkerId(), config.policy(), config.slots().keySet(), bwrap.get(),
                dataDir.resolve("work"), this::router);
    }

    public Path dataDir() {
        return dataDir;
    }

    public WardenConfig config() {
        return config;
    }

    public Clock clock() {
        return clock;
    }

    public SecretScrubber secrets() {
        return secrets;
    }

    public Redactor redactor() {
        return redactor;
    }

    public Store store() {
        return store;
    }

    public Ledger ledger() {
        return ledger;
    }

    public KillSwitch killSwitch() {
        return killSwitch;
    }

    public Queue queue() {
        return queue;
    }

    public KindRegistry kinds() {
        return kinds;
    }

    public dev.warden.config.ProjectRegistry projects() {
        return projects;
    }

    public JobSpecParser parser() {
        return parser;
    }

    /**
     * Fails (with the reason) when the configured object store for evidence cannot be used: a
     * process that runs jobs checks it before claiming any, so evidence is never left on one disk.
     */
    public void checkEvidenceStore() {
        evidence.shared().check();
    }

    public Evidence evidence() {
        return evidence;
    }

    private dev.warden.model.Router router;

    /** The model router (built on first use: most commands never call a model). */
    public synchronized dev.warden.model.Router router() {
        if (router == null) {
            dev.warden.model.ModelsConfig m = config.models();
            router = new dev.warden.model.Router(m, new dev.warden.model.UpstreamClient(m.timeouts()),
                    new dev.warden.model.CircuitBreakers(m.breaker(), clock), dev.warden.model.ProviderKeys.fromSystem(secrets::register),
                    spend(), ledger, clock, new ModelCallKillSwitch(killSwitch, store, System::nanoTime));
        }
        return router;
    }

    private dev.warden.model.GatewayTokens gatewayTokens;

    public synchronized dev.warden.model.GatewayTokens gatewayTokens() {
        if (gatewayTokens == null) {
            gatewayTokens = new dev.warden.model.GatewayTokens(store, ledger, clock);
        }
        return gatewayTokens;
    }

    /** Model spend in the store (shared by every node). */
    public dev.warden.model.Spend spend() {
        return new dev.warden.model.Spend(store, clock);
    }

    public dev.warden.agent.Approvals approvals() {
        return approvals;
    }

    public dev.warden.schedule.Schedules schedules() {
        return schedules;
    }

    /** Starts this node's scheduler (ticks every second; safe with any number of nodes). */
    public dev.warden.schedule.ScheduleRunner startScheduler(Runnable onFire) {
        return new dev.warden.schedule.ScheduleRunner(schedules, "scheduler:" + nodeId, java.time.Duration.ofSeconds(1), onFire);
    }

    public String nodeId() {
        return nodeId;
    }

    // ------------------------------------------------------------------ health and notifications

    private dev.warden.ledger.LedgerFollower ledgerFollower;
    private dev.warden.notify.Notifier notifier;

    /** Follows the ledger of every node (built on first use; started by whoever needs it: notifications, metrics). */
    public synchronized dev.warden.ledger.LedgerFollower ledgerFollower() {
        if (ledgerFollower == null) {
            ledgerFollower = new dev.warden.ledger.LedgerFollower(store, java.time.Duration.ofSeconds(1));
        }
        return ledgerFollower;
    }

    public dev.warden.notify.NotifyConfig notifyConfig() {
        return dev.warden.notify.NotifyConfig.from(config.raw().path("notify"));
    }

    /** How long a worker's last heartbeat may be ago for it to count as alive. */
    public java.time.Duration workerAliveWithin() {
        return dev.warden.health.WorkerHealth.aliveWithin(config.lease(), config.tick());
    }

    /**
     * A notifier for the configured webhooks. {@code dryRunOut} non-null prints payloads there
     * instead of posting (and keeps the rate limit in memory); otherwise the rate limit state is
     * shared with every process on this data directory ({@code notify-state.json}).
     */
    public dev.warden.notify.Notifier newNotifier(java.io.PrintWriter dryRunOut) {
        dev.warden.notify.NotifyConfig nc = notifyConfig();
        Optional<Path> state = dryRunOut == null ? Optional.of(dataDir.resolve("notify-state.json")) : Optional.empty();
        return new dev.warden.notify.Notifier(nc, new dev.warden.notify.RateLimiter(state, nc.rateLimit(), clock),
                new dev.warden.notify.WebhookTransport.Http(), redactor, Optional.of(store), ledger, nodeId, dryRunOut);
    }

    /**
     * Starts sending notifications for what the ledger records (job failures, budget exhaustion,
     * escalations), when webhooks are configured; {@code notify.dry_run} prints them to {@code out}.
     */
    public synchronized Optional<dev.warden.notify.Notifier> startNotifications(java.io.PrintWriter out) {
        if (notifier == null && !notifyConfig().isEmpty()) {
            notifier = newNotifier(notifyConfig().dryRun() ? out : null);
            ledgerFollower().subscribe(new dev.warden.notify.LedgerNotifications(store, notifier));
            ledgerFollower().start();
        }
        return Optional.ofNullable(notifier);
    }

    private WalCheckpointer walCheckpointer;
    private LedgerIndexer ledgerIndexer;

    /**
     * For the long-running processes ({@code warden up}, {@code warden worker}), the store's upkeep
     * off the request and worker paths: on SQLite, checkpoints the WAL from a background thread so
     * commits do not (see {@link WalCheckpointer}); on PostgreSQL, indexes the ledger by corr_id
     * behind the appends (see {@link LedgerIndexer}).
     */
    public synchronized void startStoreMaintenance() {
        if (walCheckpointer == null && store instanceof dev.warden.store.sqlite.SqliteStore s) {
            walCheckpointer = new WalCheckpointer(s);
        }
        if (ledgerIndexer == null && store instanceof dev.warden.store.postgres.PostgresStore) {
            ledgerIndexer = new LedgerIndexer(store);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            evidence.shared().close();
            if (walCheckpointer != null) {
                walCheckpointer.close();
            }
            if (ledgerIndexer != null) {
                ledgerIndexer.close();
            }
            if (router != null) {
                router.close();
            }
            if (vramGate != null) {
                vramGate.close();
            }
            if (ledgerFollower != null) {
                ledgerFollower.close();
            }
            if (notifier != null) {
                notifier.close();
            }
        }
        store.close();
    }

    static void writeSecretFile(Path file, String content) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, content);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
