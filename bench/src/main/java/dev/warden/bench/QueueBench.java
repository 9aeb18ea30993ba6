package dev.warden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Warden benchmark harness (plain main program, no timed assertions). Measures, on the embedded
 * SQLite store with the ledger on:
 * <ol>
 *   <li>queue throughput and enqueue-to-start latency, in process (drain and steady scenarios);</li>
 *   <li>start-up of {@code ./warden up} until {@code GET /healthz} answers 200;</li>
 *   <li>peak RSS of {@code warden up} idle and during a burst of jobs posted over HTTP;</li>
 *   <li>CLI wall time of {@code ./warden jobs list} and {@code ./warden ledger verify}.</li>
 * </ol>
 * and, with {@code --only peers} (not in the default set: it needs a PostgreSQL server and takes
 * about 10 minutes), Warden side by side with db-scheduler, JobRunr and a raw JDBC floor on
 * PostgreSQL and SQLite ({@link PeerBench}).
 * Prints a markdown report and, with {@code --out FILE}, writes it there. See docs/benchmarks.md.
 *
 * <pre>
 * options (defaults in brackets):
 *   --out FILE            also write the markdown report to FILE
 *   --root DIR            project root holding the ./warden launcher [auto: . or ..]
 *   --only LIST           comma list of: queue,startup,memory,cli,exec,peers [queue,startup,memory,cli,exec]
 *   --exec-runs N         runs per exec layer [500]
 *   --jobs N              jobs per drain scenario [20000]
 *   --batch N             specs per enqueueAll call [500]
 *   --concurrency LIST    worker concurrency levels [8,16]
 *   --rate LIST           steady producer rates, jobs/s [500,2000]
 *   --seconds N           steady producer duration [5]
 *   --startup-runs N      start-ups per variant [5]
 *   --cli-runs N          runs per CLI command [10]
 *   --burst N             jobs posted in the memory burst [5000]
 *   --idle-seconds N      idle time before the idle RSS reading [5]
 *   --peer-jobs N         jobs per side-by-side drain (section peers) [50000]
 *   --peer-warmup N       unreported warm-up jobs per system and store before it [40000]: enough for
 *                         the JIT to compile the hot paths of every system (Warden's dispatcher runs a
 *                         turn per ~64 jobs, so its per-turn code reaches C2 only after tens of thousands)
 *   --peer-threads N      worker threads of every system in the side-by-side [8]
 *   --peer-stores LIST    postgresql,sqlite [both]
 *   --peer-systems LIST   floor,floor-ledger,warden,db-scheduler,jobrunr,jobrunr-pool1 (floor-ledger:
 *                         the floor plus a minimal hash-chained ledger; jobrunr-pool1: JobRunr on
 *                         SQLite with a pool of one connection, an extra row) [all]
 *   --peer-timeout S      a drain still running after S seconds is stopped and reported as
 *                         unfinished, with the rate it reached [180]
 *   --peer-rounds N       measured drains per system and store, interleaved; the report shows each
 *                         system's median round and lists every round [3]
 *   --pg URL              PostgreSQL server for section peers, Warden's URL form; each run creates and
 *                         drops a database there [$WARDEN_BENCH_PG_URL, $WARDEN_TEST_PG_URL, or
 *                         postgresql://127.0.0.1:5432/postgres?user=warden&amp;password=warden]
 *   --tmp DIR             where temporary data directories go [java.io.tmpdir]
 *   --keep                keep the temporary data directories
 * </pre>
 */
public final class QueueBench {
    private QueueBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = parseArgs(args);
        Path root = root(o.get("root"));
        Set<String> only = new LinkedHashSet<>(Arrays.asList(o.getOrDefault("only", "queue,startup,memory,cli,exec").split(",")));
        int jobs = intOpt(o, "jobs", 20_000);
        int batch = intOpt(o, "batch", 500);
        List<Integer> levels = Arrays.stream(o.getOrDefault("concurrency", "8,16").split(",")).map(Integer::parseInt).toList();
        List<Integer> rates = Arrays.stream(o.getOrDefault("rate", "500,2000").split(",")).map(Integer::parseInt).toList();
        int seconds = intOpt(o, "seconds", 5);
        int startupRuns = intOpt(o, "startup-runs", 5);
        int cliRuns = intOpt(o, "cli-runs", 10);
        int burst = intOpt(o, "burst", 5000);
        int idleSeconds = intOpt(o, "idle-seconds", 5);
        boolean keep = o.containsKey("keep");
        Path tmpBase = Path.of(o.getOrDefault("tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(tmpBase);
        Path tmp = Files.createTempDirectory(tmpBase, "warden-bench-");

        long started = System.nanoTime();
        Report rep = new Report();
        rep.line("## Warden benchmark results").line("")
                .line("Run at " + Instant.now().toString().substring(0, 19) + "Z on `" + MachineInfo.hostSummary()
                        + "`; temporary data under `" + tmp + "`.");
        MachineInfo.describe(rep, tmp);

        ProcessScenarios proc = new ProcessScenarios(root, tmp);
        Path cliDataDir = null;
        FileTime jarAtStart = null;
        try {
            if (only.contains("startup") || only.contains("memory") || only.contains("cli")) {
                launcherWarmUp(rep, proc);
                jarAtStart = mtime(proc.jar());
            }
            if (only.contains("queue") || only.contains("drain") || only.contains("steady")) {
                boolean all = only.contains("queue");
                queue(rep, new QueueScenarios(tmp, keep), jobs, batch, levels, rates, seconds,
                        all || only.contains("drain"), all || only.contains("steady"));
            }
            if (only.contains("startup")) {
                startup(rep, proc, startupRuns);
            }
            if (only.contains("memory") || only.contains("cli")) {
                cliDataDir = tmp.resolve("memory-burst");
                memory(rep, proc, cliDataDir, Duration.ofSeconds(idleSeconds), only.contains("memory") ? burst : 1000);
            }
            if (only.contains("cli")) {
                cli(rep, proc, cliDataDir, cliRuns);
            }
            if (only.contains("exec")) {
                ExecScenarios.run(rep, tmp, intOpt(o, "exec-runs", 500));
            }
            if (only.contains("peers")) {
                PeerBench.run(rep, tmp, new PeerBench.Options(intOpt(o, "peer-jobs", 50_000),
                        intOpt(o, "peer-warmup", 40_000), batch, intOpt(o, "peer-threads", 8),
                        o.getOrDefault("pg", PeerBench.defaultPgUrl()),
                        Arrays.stream(o.getOrDefault("peer-stores", "postgresql,sqlite").split(","))
                                .map(s -> PeerTarget.Kind.valueOf(s.strip().toUpperCase(Locale.ROOT))).toList(),
                        Arrays.stream(o.getOrDefault("peer-systems", "floor,floor-ledger,warden,db-scheduler,jobrunr,jobrunr-pool1").split(","))
                                .map(String::strip).toList(), intOpt(o, "peer-timeout", 180), intOpt(o, "peer-rounds", 3)));
            }
        } finally {
            if (!keep) {
                Files2.deleteTree(tmp);
            }
        }
        if (jarAtStart != null && !jarAtStart.equals(mtime(proc.jar()))) {
            rep.note("**The jar was rebuilt while the benchmark ran** (modified " + jarAtStart + ", now "
                    + mtime(proc.jar()) + "): launcher runs after that include a different build; run again.");
        }
        rep.note("Whole benchmark took " + Stats.secs(Stats.elapsedMs(started)) + ".");

        String md = rep.markdown();
        System.out.println(md);
        if (o.containsKey("out")) {
            Path out = Path.of(o.get("out")).toAbsolutePath();
            Files.createDirectories(out.getParent());
            Files.writeString(out, md);
            System.err.println("bench: report written to " + out);
        }
    }

    // ------------------------------------------------------------------ sections

    private static void launcherWarmUp(Report rep, ProcessScenarios proc) throws Exception {
        progress("launcher warm-up");
        // the first launch may build the jar (when sources are newer) and create the CDS archive: not measured
        proc.time(List.of(proc.launcher().toString(), "--version"), 1, Map.of());
        rep.heading("Launcher and class-data sharing");
        String log = proc.capture(List.of(proc.launcher().toString(), "--version"),
                Map.of("WARDEN_JAVA_OPTS", "-Xlog:cds+dynamic=info"));
        boolean unusable = log.contains("Unable to use shared archive") || log.contains("failed to load");
        FileTime jar = mtime(proc.jar());
        FileTime jsa = mtime(proc.appCdsArchive());
        rep.table("item", "value")
                .row("jar", "`" + proc.jar() + "` (" + (jar == null ? "missing" : "modified " + jar) + ")")
                .row("AppCDS archive", "`" + proc.appCdsArchive() + "` (" + (jsa == null ? "missing" : "modified " + jsa) + ")")
                .row("archive usable by this jar", unusable ? "**no** (JVM reports the top archive failed to load)" : "yes")
                .row("JAVA_HOME seen by the launcher", String.valueOf(System.getenv("JAVA_HOME")));
    }

    private static void queue(Report rep, QueueScenarios qs, int jobs, int batch, List<Integer> levels,
                              List<Integer> rates, int seconds, boolean doDrain, boolean doSteady) throws Exception {
        CpuMonitor cpu = CpuMonitor.start();
        progress("queue: JIT warm-up (2,000 jobs, not reported)");
        qs.drain(2000, batch, levels.get(0));

        List<QueueScenarios.DrainResult> drains = new ArrayList<>();
        for (int c : doDrain ? levels : List.<Integer>of()) {
            progress("queue: drain " + jobs + " jobs, concurrency " + c);
            drains.add(qs.drain(jobs, batch, c));
        }
        List<QueueScenarios.SteadyResult> steadies = new ArrayList<>();
        for (int rate : doSteady ? rates : List.<Integer>of()) {
            for (int c : levels) {
                progress("queue: steady " + rate + " jobs/s for " + seconds + " s, concurrency " + c);
                steadies.add(qs.steady(rate, Duration.ofSeconds(seconds), c));
            }
        }

        rep.heading("1. Queue throughput (in process, SQLite, ledger on)");
        if (!drains.isEmpty()) {
            drainTable(rep, drains, batch);
        }
        if (!steadies.isEmpty()) {
            steadyTable(rep, steadies, seconds);
        }
        rep.note(cpu.summary());
    }

    private static void drainTable(Report rep, List<QueueScenarios.DrainResult> drains, int batch) {
        rep.line("Enqueue: `queue().enqueueAll()` in batches of " + batch + " (one transaction per batch, "
                + "ledger entries in the same transaction). Drain: `newWorkerPool(c).start()` until "
                + "`countByState()` shows all succeeded (claim, run, complete with group commit); evidence bundles are written "
                + "off that path and are flushed by `pool.shutdown()` (second time column).");
        rep.table("scenario", "jobs", "parse+validate", "enqueue (store+ledger)", "drain (claim→run→complete)",
                "+ evidence flushed", "enqueue→start p50", "p99", "max", "run p50", "lease lost (attempts>1)", "ledger entries (per job)",
                "ledger verify");
        for (QueueScenarios.DrainResult d : drains) {
            rep.row("drain, concurrency " + d.concurrency(), Stats.num(d.jobs()),
                    Stats.rate(d.jobs() / (d.parseMs() / 1000)),
                    Stats.rate(d.jobs() / (d.enqueueMs() / 1000)) + " (" + Stats.secs(d.enqueueMs()) + ")",
                    "**" + Stats.rate(d.jobs() / (d.drainMs() / 1000)) + "** (" + Stats.secs(d.drainMs()) + ")",
                    Stats.secs(d.flushedMs()), d.latency().p50() + " ms", d.latency().p99() + " ms", d.latency().max() + " ms",
                    d.latency().runP50() + " ms", retriedCell(d.latency()), ledgerCell(d.ledger(), d.jobs()),
                    verifyCell(d.ledger()));
        }
        rep.line("");
    }

    private static void steadyTable(Report rep, List<QueueScenarios.SteadyResult> steadies, int seconds) {
        rep.line("Steady: the pool runs while a producer enqueues at a fixed rate (one `enqueueAll` of rate/100 jobs "
                + "every 10 ms) for " + seconds + " s and wakes the pool after each enqueue, as `POST /api/jobs` does in "
                + "`warden up`. Latency is only meaningful while the rate stays below the drain throughput above; "
                + "beyond it the backlog grows and latency is queueing again.");
        rep.table("scenario", "jobs", "producer rate achieved", "backlog cleared after producer stopped",
                "enqueue→start p50", "p99", "max", "run p50", "run p99", "lease lost (attempts>1)",
                "ledger entries (per job)", "ledger verify");
        for (QueueScenarios.SteadyResult s : steadies) {
            rep.row("steady " + Stats.rate(s.targetRate()) + ", concurrency " + s.concurrency(), Stats.num(s.jobs()),
                    Stats.rate(s.achievedRate()), Stats.ms(s.tailMs()),
                    "**" + s.latency().p50() + " ms**", "**" + s.latency().p99() + " ms**", s.latency().max() + " ms",
                    s.latency().runP50() + " ms", s.latency().runP99() + " ms", retriedCell(s.latency()),
                    ledgerCell(s.ledger(), s.jobs()), verifyCell(s.ledger()));
        }
    }

    private static void milestoneTable(Report rep, List<ProcessScenarios.Milestone> ms) {
        rep.table("phase begins", "JVM uptime", "since previous");
        double prev = 0;
        for (ProcessScenarios.Milestone m : ms) {
            rep.row(m.what(), Stats.ms(m.atMs()), "+" + Stats.ms(m.atMs() - prev));
            prev = m.atMs();
        }
    }

    private static String retriedCell(QueueScenarios.Latency l) {
        return l.retried() == 0 ? "0" : "**" + l.retried() + "**";
    }

    private static String ledgerCell(QueueScenarios.LedgerCheck l, int jobs) {
        return Stats.num(l.entries()) + String.format(Locale.ROOT, " (%.2f)", (double) l.entries() / jobs);
    }

    private static String verifyCell(QueueScenarios.LedgerCheck l) {
        return (l.ok() ? "OK" : "**BAD**: " + l.problem()) + " in " + Stats.ms(l.verifyMs());
    }

    private static void startup(Report rep, ProcessScenarios proc, int runs) throws Exception {
        CpuMonitor cpu = CpuMonitor.start();
        List<String> launcher = List.of(proc.launcher().toString());
        List<String> freshCds = proc.upWithFreshCds();
        Path restartDir = Files.createTempDirectory(proc.tmpRoot(), "restart-");
        List<ProcessScenarios.StartupRun> first = new ArrayList<>();
        List<ProcessScenarios.StartupRun> again = new ArrayList<>();
        List<ProcessScenarios.StartupRun> diag = new ArrayList<>();
        // variants interleaved round by round, so a disturbance hits all of them alike
        for (int i = 0; i < runs; i++) {
            progress("start-up: round " + (i + 1) + " of " + runs);
            Path dir = Files.createTempDirectory(proc.tmpRoot(), "first-start-");
            first.add(proc.startupOnce(launcher, dir));
            Files2.deleteTree(dir);
            again.add(proc.startupOnce(launcher, restartDir));
            dir = Files.createTempDirectory(proc.tmpRoot(), "first-start-cds-");
            diag.add(proc.startupOnce(freshCds, dir));
            Files2.deleteTree(dir);
        }
        Files2.deleteTree(restartDir);
        List<ProcessScenarios.Milestone> phases = proc.milestones(freshCds, List.of(), true, 3);
        rep.heading("2. Start-up: `./warden --data-dir DIR up --port 0` until `GET /healthz` is 200");
        rep.table("variant", "runs", "console line printed (median)", "**healthy (median)**", "min", "max",
                "stop after SIGTERM (median)", "goal ≤ 2 s");
        startupRow(rep, "first start (new data dir: store, token, sample job)", first);
        startupRow(rep, "restart (existing data dir)", again);
        startupRow(rep, "diag: first start, `java` + launcher `up` flags + **fresh AppCDS** (frozen jar copy)", diag);
        rep.line("");
        rep.line("Where the time goes (diag first start with `-Xlog:class+load`, median of 3: JVM uptime when a marker "
                + "class was first loaded, i.e. when that phase began; the class-load log itself adds a little):");
        milestoneTable(rep, phases);
        rep.note(cpu.summary());
    }

    private static void startupRow(Report rep, String name, List<ProcessScenarios.StartupRun> runs) {
        List<Double> healthy = runs.stream().map(ProcessScenarios.StartupRun::healthyMs).toList();
        double med = Stats.median(healthy);
        rep.row(name, String.valueOf(runs.size()),
                Stats.ms(Stats.median(runs.stream().map(ProcessScenarios.StartupRun::portMs).toList())),
                "**" + Stats.ms(med) + "**", Stats.ms(Stats.min(healthy)), Stats.ms(Stats.max(healthy)),
                Stats.ms(Stats.median(runs.stream().map(ProcessScenarios.StartupRun::stopMs).toList())),
                med <= 2000 ? "met" : "**not met**");
    }

    private static void memory(Report rep, ProcessScenarios proc, Path dir, Duration idle, int burst) throws Exception {
        CpuMonitor cpu = CpuMonitor.start();
        progress("memory: warden up, idle " + idle.toSeconds() + " s, then a burst of " + burst + " jobs over HTTP");
        Files.createDirectories(dir);
        ProcessScenarios.Memory m = proc.memory(dir, idle, burst, 8);
        rep.heading("3. Memory of `warden up` (from /proc/PID/status of the java process)");
        rep.table("moment", "VmRSS", "VmHWM (peak so far)", "goal");
        rep.row("idle, " + idle.toSeconds() + " s after healthy", "**" + Stats.mib(m.idleRssKib()) + "**",
                Stats.mib(m.idleHwmKib()), "idle ≤ 200 MiB: " + (m.idleRssKib() <= 200 * 1024 ? "met" : "**not met**"));
        rep.row("during a burst of " + Stats.num(m.jobs()) + " noop jobs (max of 50 ms samples)",
                "**" + Stats.mib(m.burstPeakRssKib()) + "**", Stats.mib(m.burstHwmKib()), "-");
        rep.row("right after the burst finished", Stats.mib(m.afterRssKib()), Stats.mib(m.burstHwmKib()), "-");
        rep.line("");
        rep.line("Burst: " + Stats.num(m.jobs()) + " × `POST /api/jobs` from 8 concurrent HTTP/1.1 clients took "
                + Stats.secs(m.postMs()) + " (" + Stats.rate(m.jobs() / (m.postMs() / 1000)) + "); all finished after "
                + Stats.secs(m.burstMs()) + " (" + Stats.rate(m.jobs() / (m.burstMs() / 1000))
                + " end to end) with the default " + m.workers() + " workers. Process checked: `/proc/PID/comm` = `"
                + m.pidCheck() + "`.");
        rep.note(cpu.summary());
    }

    private static void cli(Report rep, ProcessScenarios proc, Path dir, int runs) throws Exception {
        CpuMonitor cpu = CpuMonitor.start();
        String w = proc.launcher().toString();
        String dd = dir.toString();
        Map<String, String> env = Map.of();
        Map<String, String> noJavaHome = new HashMap<>();
        noJavaHome.put("JAVA_HOME", null);
        noJavaHome.put("PATH", "/usr/bin:/bin");   // whatever java the system has there; the launcher probes for a JDK >= 21

        // diagnostics: what dominates? the same JVM flags as the launcher, on a frozen copy of the jar
        Path jarCopy = proc.frozenJar();
        String java = ProcessScenarios.javaBin();
        List<String> base = new ArrayList<>(List.of(java));
        base.addAll(ProcessScenarios.LAUNCHER_CLI_FLAGS);
        List<String> cds = new ArrayList<>(base);
        cds.addAll(List.of("-XX:SharedArchiveFile=" + jarCopy.resolveSibling("cli.jsa"), "-XX:+AutoCreateSharedArchive",
                "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
        proc.time(concat(cds, "-jar", jarCopy.toString(), "--data-dir", dd, "jobs", "list"), 1, env); // creates the archive
        List<ProcessScenarios.Milestone> phases = proc.milestones(concat(cds, "-jar", jarCopy.toString()),
                List.of("--data-dir", dd, "jobs", "list"), false, 3);

        record Cmd(String name, List<String> argv, Map<String, String> env, int runs, boolean goal) {}
        int diagRuns = Math.max(3, runs / 2);
        List<Cmd> cmds = List.of(
                new Cmd("`./warden --data-dir D jobs list`", List.of(w, "--data-dir", dd, "jobs", "list"), env, runs, true),
                new Cmd("`./warden --data-dir D ledger verify`", List.of(w, "--data-dir", dd, "ledger", "verify"), env, runs, true),
                new Cmd("`./warden --version` (no store)", List.of(w, "--version"), env, runs, false),
                new Cmd("`./warden --data-dir D jobs list`, JAVA_HOME unset and PATH=/usr/bin:/bin (launcher probes for a JDK)",
                        List.of(w, "--data-dir", dd, "jobs", "list"), noJavaHome, runs, false),
                new Cmd("diag: `java -XX:+UseSerialGC -version` (JVM floor)", List.of(java, "-XX:+UseSerialGC", "-version"),
                        env, diagRuns, false),
                new Cmd("diag: java + launcher flags + **fresh AppCDS**, jobs list",
                        concat(cds, "-jar", jarCopy.toString(), "--data-dir", dd, "jobs", "list"), env, diagRuns, false),
                new Cmd("diag: java + launcher flags + **fresh AppCDS**, ledger verify",
                        concat(cds, "-jar", jarCopy.toString(), "--data-dir", dd, "ledger", "verify"), env, diagRuns, false),
                new Cmd("diag: java + launcher flags, **no AppCDS** (JDK base archive only), jobs list",
                        concat(base, "-jar", jarCopy.toString(), "--data-dir", dd, "jobs", "list"), env, diagRuns, false));
        Map<Cmd, List<Double>> times = new java.util.LinkedHashMap<>();
        cmds.forEach(c -> times.put(c, new ArrayList<>()));
        // interleaved round by round, so a disturbance hits all commands alike
        for (int r = 0; r < runs; r++) {
            progress("cli: round " + (r + 1) + " of " + runs);
            for (Cmd c : cmds) {
                if (r < c.runs()) {
                    times.get(c).addAll(proc.time(c.argv(), 1, c.env()).ms());
                }
            }
        }

        rep.heading("4. CLI wall time (data dir D = the one left by section 3)");
        rep.table("command", "runs", "**median**", "min", "max", "goal ≤ 1 s");
        for (Cmd c : cmds) {
            List<Double> t = times.get(c);
            double med = Stats.median(t);
            rep.row(c.name(), String.valueOf(t.size()), "**" + Stats.ms(med) + "**", Stats.ms(Stats.min(t)),
                    Stats.ms(Stats.max(t)), c.goal() ? (med <= 1000 ? "met" : "**not met**") : "-");
        }
        rep.line("");
        rep.line("Where the time goes in `jobs list` (diag runs with fresh AppCDS and `-Xlog:class+load`, median of 3):");
        milestoneTable(rep, phases);
        rep.note(cpu.summary());
    }

    // ------------------------------------------------------------------ plumbing

    private static List<String> concat(List<String> head, String... tail) {
        List<String> l = new ArrayList<>(head);
        l.addAll(List.of(tail));
        return l;
    }

    private static FileTime mtime(Path p) {
        try {
            return Files.exists(p) ? Files.getLastModifiedTime(p) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void progress(String what) {
        System.err.println("bench: " + what + " ...");
    }

    private static Path root(String given) {
        if (given != null) {
            return Path.of(given).toAbsolutePath().normalize();
        }
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p = cwd; p != null; p = p.getParent()) {
            if (Files.isExecutable(p.resolve("warden")) && Files.isDirectory(p.resolve("warden-app"))) {
                return p;
            }
        }
        throw new IllegalArgumentException("cannot find the ./warden launcher above " + cwd + "; pass --root DIR");
    }

    private static int intOpt(Map<String, String> o, String name, int dflt) {
        return o.containsKey(name) ? Integer.parseInt(o.get(name)) : dflt;
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a + " (see QueueBench javadoc for options)");
            }
            String name = a.substring(2);
            if (name.equals("keep")) {
                o.put(name, "true");
            } else if (name.contains("=")) {
                o.put(name.substring(0, name.indexOf('=')), name.substring(name.indexOf('=') + 1));
            } else if (i + 1 < args.length) {
                o.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
        }
        return o;
    }
}
