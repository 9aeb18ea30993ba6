package dev.warden.health;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.config.WardenConfig;
import dev.warden.exec.ExecResult;
import dev.warden.exec.ProcessRunner;
import dev.warden.exec.Sandbox;
import dev.warden.ledger.Ledger;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.policy.OperatorPolicy;
import dev.warden.queue.KillSwitch;
import dev.warden.store.Store;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code warden doctor} (SPEC section 11): every check PASS, WARN or FAIL with a one-line remedy.
 * Checks are small static functions of what they look at, so each verdict is testable alone;
 * {@link #run} gathers them in a fixed order.
 */
public final class Doctor {
    public enum Level { PASS, WARN, FAIL }

    /** One check: its name, verdict, what was found, and what to do about it (empty for PASS). */
    public record Check(String name, Level level, String message, String remedy) {
        static Check pass(String name, String message) {
            return new Check(name, Level.PASS, message, "");
        }

        static Check warn(String name, String message, String remedy) {
            return new Check(name, Level.WARN, message, remedy);
        }

        static Check fail(String name, String message, String remedy) {
            return new Check(name, Level.FAIL, message, remedy);
        }
    }

    public record Report(List<Check> checks) {
        public Level overall() {
            Level w = Level.PASS;
            for (Check c : checks) {
                if (c.level().ordinal() > w.ordinal()) {
                    w = c.level();
                }
            }
            return w;
        }

        /** 0 all PASS, 10 some WARN, 20 some FAIL. */
        public int exitCode() {
            return switch (overall()) {
                case PASS -> 0;
                case WARN -> 10;
                case FAIL -> 20;
            };
        }

        public ObjectNode toJson() {
            ObjectNode n = Json.object().put("status", overall().name());
            ArrayNode arr = n.putArray("checks");
            checks.forEach(c -> arr.addObject().put("name", c.name()).put("status", c.level().name())
                    .put("message", c.message()).put("remedy", c.remedy()));
            return n;
        }
    }

    /** Disk pressure thresholds for the data directory's file system. */
    static final long FAIL_FREE_BYTES = 512L << 20;
    static final long WARN_FREE_BYTES = 2L << 30;
    static final double FAIL_FREE_FRACTION = 0.02;
    static final double WARN_FREE_FRACTION = 0.10;

    /** What the doctor looks at. {@code store} is empty when it could not be opened ({@code storeError}). */
    public record Subject(Path dataDir, Optional<Store> store, String storeError, WardenConfig config, Clock clock,
                          ProviderKeys keys, Supplier<List<ProviderProbes.Probe>> providers,
                          Supplier<Optional<Sandbox.Bwrap>> bwrap, Optional<VramGate> vram,
                          Optional<dev.warden.evidence.EvidenceFiles> objectStore) {}

    private Doctor() {}

    public static Report run(Subject s) {
        List<Check> checks = new ArrayList<>();
        checks.add(store(s.store(), s.storeError()));
        checks.add(dataDir(s.dataDir()));
        checks.add(disk(s.dataDir()));
        checks.add(consoleBind(s.config().bind(), s.config().allowNonLoopback()));
        checks.add(consoleToken(s.dataDir().resolve("console.token")));
        checks.add(keys(s.config().models(), s.keys()));
        checks.add(providers(s.providers().get()));
        checks.add(bubblewrap(s.bwrap().get(), s.config().policy().isolation()));
        s.objectStore().ifPresent(f -> checks.add(evidenceStore(f)));
        if (s.store().isPresent() && checks.get(0).level() == Level.PASS) {
            checks.add(workers(WorkerHealth.read(s.store().get(), s.clock().millis(),
                    WorkerHealth.aliveWithin(s.config().lease(), s.config().tick()))));
            checks.add(ledger(s.store().get()));
            checks.add(killSwitch(Files.exists(s.dataDir().resolve(KillSwitch.FILE_NAME))
                    || s.store().get().read(tx -> tx.setting(KillSwitch.SETTING)).map("on"::equals).orElse(false)));
        } else {
            String why = "not checked: the store is unavailable";
            checks.add(Check.fail("workers", why, "fix the store first"));
            checks.add(Check.fail("ledger", why, "fix the store first"));
            checks.add(killSwitch(Files.exists(s.dataDir().resolve(KillSwitch.FILE_NAME))));
        }
        s.vram().ifPresent(g -> {
            g.refresh();
            g.requirements().keySet().forEach(slot -> checks.add(vram(slot, g.verdict(slot).orElseThrow())));
        });
        return new Report(List.copyOf(checks));
    }

    /** An object store configured for evidence files ({@code evidence_store.s3}): reachable with its keys. */
    static Check evidenceStore(dev.warden.evidence.EvidenceFiles files) {
        try {
            files.check();
            return Check.pass("evidence", "evidence files in " + files.describe() + ", reachable");
        } catch (RuntimeException e) {
            return Check.fail("evidence", e.getMessage(),
                    "create the bucket, or fix evidence_store.s3 (endpoint, keys); up and worker refuse to start meanwhile");
        }
    }

    static Check store(Optional<Store> store, String error) {
        if (store.isEmpty()) {
            return Check.fail("store", "cannot open the store: " + error,
                    "check --store / WARDEN_STORE and that the database is running and reachable");
        }
        try {
            Map<?, Long> counts = store.get().read(dev.warden.store.Tx::countByState);
            long jobs = counts.values().stream().mapToLong(Long::longValue).sum();
            return Check.pass("store", store.get().describe() + " reachable (" + jobs + " jobs)");
        } catch (RuntimeException e) {
            return Check.fail("store", store.get().describe() + " does not answer: " + e.getMessage(),
                    "check that the database is running and reachable, and its credentials");
        }
    }

    static Check dataDir(Path dir) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException e) {
            return Check.warn("data_dir", dir + ": file system without POSIX permissions", "keep the data directory on a POSIX file system");
        } catch (IOException e) {
            return Check.fail("data_dir", dir + ": cannot read permissions: " + e.getMessage(), "check that " + dir + " exists and is yours");
        }
        String mode = PosixFilePermissions.toString(perms);
        if (perms.contains(PosixFilePermission.OTHERS_WRITE) || perms.contains(PosixFilePermission.GROUP_WRITE)) {
            return Check.fail("data_dir", dir + " is writable by " + (perms.contains(PosixFilePermission.OTHERS_WRITE) ? "others" : "its group")
                    + " (" + mode + "): the ledger and evidence could be altered", "chmod 700 " + dir);
        }
        if (!perms.equals(PosixFilePermissions.fromString("rwx------"))) {
            return Check.warn("data_dir", dir + " is " + mode + ", expected rwx------ (0700)", "chmod 700 " + dir);
        }
        return Check.pass("data_dir", dir + " is rwx------ (0700)");
    }

    static Check disk(Path dir) {
        try {
            FileStore fs = Files.getFileStore(dir);
            return disk(dir, fs.getUsableSpace(), fs.getTotalSpace());
        } catch (IOException e) {
            return Check.warn("disk", "cannot read free space of " + dir + ": " + e.getMessage(), "check the file system holding " + dir);
        }
    }

    /** FAIL under 512 MiB or 2 % free; WARN under 2 GiB or 10 % free. */
    static Check disk(Path dir, long usable, long total) {
        double fraction = total <= 0 ? 1.0 : (double) usable / total;
        String what = human(usable) + " free of " + human(total) + " (" + Math.round(fraction * 100) + "%) on the file system of " + dir;
        String remedy = "free space on that file system (old evidence/<job>/ and work/ directories, logs/) or move the data directory";
        if (usable < FAIL_FREE_BYTES || fraction < FAIL_FREE_FRACTION) {
            return Check.fail("disk", what + ": writes will start failing", remedy);
        }
        if (usable < WARN_FREE_BYTES || fraction < WARN_FREE_FRACTION) {
            return Check.warn("disk", what, remedy);
        }
        return Check.pass("disk", what);
    }

    static Check consoleBind(String bind, boolean allowNonLoopback) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(bind).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return Check.fail("console_bind", "server.bind " + bind + " does not resolve: warden up will refuse to start",
                    "set server.bind to 127.0.0.1");
        }
        if (loopback) {
            return Check.pass("console_bind", "console and API bound to " + bind + " (loopback only)");
        }
        if (!allowNonLoopback) {
            return Check.fail("console_bind", "server.bind " + bind + " is not loopback and allow_non_loopback is off: warden up will refuse to start",
                    "set server.bind to 127.0.0.1, or set server.allow_non_loopback: true deliberately");
        }
        return Check.warn("console_bind", "console and API exposed on " + bind + " (server.allow_non_loopback: true)",
                "bind to 127.0.0.1 and reach it through an SSH tunnel or a TLS reverse proxy; keep the token secret");
    }

    static Check consoleToken(Path file) {
        if (!Files.exists(file)) {
            return Check.pass("console_token", "no console token yet (warden up creates one, mode 0600)");
        }
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            if (!p.equals(PosixFilePermissions.fromString("rw-------"))) {
                return Check.fail("console_token", file + " is " + PosixFilePermissions.toString(p) + ": others may read the API token",
                        "chmod 600 " + file + " and rotate the token");
            }
            return Check.pass("console_token", file + " present, mode 0600");
        } catch (UnsupportedOperationException | IOException e) {
            return Check.warn("console_token", "cannot read the permissions of " + file + ": " + e.getMessage(), "chmod 600 " + file);
        }
    }

    /** Every provider key reference resolves; shown masked ({@code sk-…abcd}), never whole. */
    static Check keys(ModelsConfig models, ProviderKeys keys) {
        List<String> shown = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (ModelsConfig.Provider p : new java.util.TreeMap<>(models.providers()).values()) {
            if (p.key().isEmpty()) {
                shown.add(p.id() + ": no key");
                continue;
            }
            Optional<String> k = keys.resolve(p.key());
            if (k.isPresent()) {
                shown.add(p.id() + ": " + ProviderKeys.mask(k.get()));
            } else {
                missing.add(p.id() + " (" + p.key().get() + ")");
            }
        }
        if (!missing.isEmpty()) {
            return Check.fail("keys", "key missing for " + String.join(", ", missing),
                    "export the variable or create the file (chmod 600) that each key reference names");
        }
        if (shown.isEmpty()) {
            return Check.pass("keys", "no model providers configured");
        }
        return Check.pass("keys", String.join("; ", shown));
    }

    static Check providers(List<ProviderProbes.Probe> probes) {
        if (probes.isEmpty()) {
            return Check.pass("providers", "no model providers configured");
        }
        List<String> parts = new ArrayList<>();
        for (ProviderProbes.Probe p : probes) {
            parts.add(p.provider() + " " + p.status() + (p.lastErrorClass() == null ? "" : " (" + p.lastErrorClass() + ": " + p.detail() + ")"));
        }
        String msg = String.join("; ", parts);
        return switch (ProviderProbes.worst(probes)) {
            case OK -> Check.pass("providers", msg);
            case DEGRADED -> Check.warn("providers", msg, "the provider answers but is overloaded or failing (429/5xx); check its status, or wait");
            case DOWN -> Check.fail("providers", msg, "start the model server or fix base_url / the key; 'warden models doctor' shows each probe");
        };
    }

    static Check bubblewrap(Optional<Sandbox.Bwrap> bwrap, OperatorPolicy.Isolation isolation) {
        if (isolation == OperatorPolicy.Isolation.none) {
            return Check.warn("bubblewrap", "policy.isolation: none — job processes run without a sandbox (recorded on every run)",
                    "install bubblewrap and set policy.isolation: bwrap");
        }
        if (bwrap.isEmpty()) {
            return Check.fail("bubblewrap", "bubblewrap not found (/usr/bin/bwrap): jobs that run processes fail with isolation_unavailable",
                    "apt-get install bubblewrap");
        }
        Optional<String> problem = trySandbox(bwrap.get());
        if (problem.isPresent()) {
            return Check.fail("bubblewrap", bwrap.get().bwrap() + " cannot create a sandbox: " + problem.get(),
                    "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; in a container, run it with user namespaces)");
        }
        return Check.pass("bubblewrap", bwrap.get().bwrap() + " runs a sandboxed process");
    }

    /** Runs {@code /usr/bin/true} the way jobs run processes; empty when it worked. */
    static Optional<String> trySandbox(Sandbox.Bwrap bwrap) {
        Path exe = Path.of("/usr/bin/true");
        if (!Files.isExecutable(exe)) {
            return Optional.empty();
        }
        List<String> cmd = bwrap.command(exe, List.of(), Path.of("/"), new Sandbox.Mounts(List.of(), List.of()), false);
        try {
            ExecResult r = ProcessRunner.run(cmd, Path.of("/"), Map.of("PATH", "/usr/bin:/bin"), 10_000, 4096, "bwrap", exe, () -> false);
            if (r.timedOut()) {
                return Optional.of("timed out");
            }
            return r.exitCode() == 0 ? Optional.empty() : Optional.of("exit " + r.exitCode() + ": " + r.stderr().strip());
        } catch (RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }

    static Check workers(WorkerHealth w) {
        if (w.alive() == 0) {
            return Check.warn("workers", "no worker process is alive (" + w.describe() + "): queued jobs will not run",
                    "start 'warden up' (or 'warden worker'), e.g. with 'warden systemd install --user'");
        }
        if (w.deadHoldingJobs() > 0) {
            return Check.warn("workers", w.describe(), "nothing to do unless it persists: the lease reaper requeues those jobs; 'warden workers' lists them");
        }
        return Check.pass("workers", w.describe());
    }

    static Check ledger(Store store) {
        try {
            Ledger.VerifyReport r = Ledger.verify(store, Optional.empty());
            if (!r.ok()) {
                return Check.fail("ledger", "tampering or damage: " + r.firstBad().map(Object::toString).orElse("?"),
                        "stop and investigate: compare with your saved checkpoints ('warden ledger verify --checkpoint FILE') and backups");
            }
            return Check.pass("ledger", r.entries() + (r.entries() == 1 ? " entry" : " entries") + " in " + r.chains() + " chain(s) verify");
        } catch (RuntimeException e) {
            return Check.fail("ledger", "cannot verify: " + e.getMessage(), "check the store");
        }
    }

    static Check killSwitch(boolean on) {
        return on ? Check.warn("killswitch", "ON: no job is claimed", "'warden killswitch off' when the reason is resolved")
                : Check.pass("killswitch", "OFF");
    }

    static Check vram(String slot, VramGuard.Verdict v) {
        String msg = "slot " + slot + ": " + v.reason() + " — " + v.message();
        if (v.ok()) {
            return Check.pass("vram", msg);
        }
        return Check.warn("vram", msg + " (jobs in this slot wait)", switch (v.reason()) {
            case BELOW_THRESHOLD -> "free GPU memory (stop other GPU processes) or lower slots_require_vram." + slot + ".min_free_mb";
            case NVIDIA_SMI_MISSING -> "install the NVIDIA driver utilities, or set slots_require_vram." + slot + ".allow_no_nvidia_smi: true";
            default -> "run 'nvidia-smi' by hand to see why it fails";
        });
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return (bytes >> 20) + " MiB";
    }
}
