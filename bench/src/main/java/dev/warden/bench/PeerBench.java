package dev.warden.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The side-by-side section ({@code --only peers}): on one PostgreSQL server and on SQLite files,
 * in one run, the raw JDBC floor, Warden (ledger on), db-scheduler and JobRunr each enqueue the
 * same number of noop jobs in the same batches and drain them with the same number of worker
 * threads and the same pool size. Each system first runs an unreported warm-up (JIT) on a
 * database of its own; every run gets a fresh database that is dropped afterwards.
 */
final class PeerBench {
    private PeerBench() {}

    /** Connection pool size for every pooled system: Warden's PostgreSQL store has 8, fixed in WardenApp. */
    static final int POOL = 8;

    record Options(int jobs, int warmup, int batch, int threads, String pgUrl, List<PeerTarget.Kind> stores,
                   List<String> systems, int timeoutSeconds, int rounds) {}

    static String defaultPgUrl() {
        for (String env : List.of("WARDEN_BENCH_PG_URL", "WARDEN_TEST_PG_URL")) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return "postgresql://127.0.0.1:5432/postgres?user=warden&password=warden";
    }

    static void run(Report rep, Path tmp, Options o) throws Exception {
        CpuMonitor cpu = CpuMonitor.start("postgres");
        PeerRun.drainTimeout = java.time.Duration.ofSeconds(o.timeoutSeconds());
        PeerTarget.PgServer pg = new PeerTarget.PgServer(o.pgUrl());
        boolean pgUp = pg.reachable();
        Map<String, PeerScenario> all = new LinkedHashMap<>();
        all.put("floor", RawJdbcFloor.plain());
        all.put("floor-ledger", RawJdbcFloor.withLedger());
        all.put("warden", new WardenPeerScenario(tmp));
        all.put("db-scheduler", new DbSchedulerScenario());
        all.put("jobrunr", new JobRunrScenario(POOL, false));
        all.put("jobrunr-pool1", new JobRunrScenario(1, true));
        List<PeerScenario> scenarios = o.systems().stream().map(s -> {
            PeerScenario sc = all.get(s);
            if (sc == null) {
                throw new IllegalArgumentException("--peer-systems: unknown system " + s + " (one of " + all.keySet() + ")");
            }
            return sc;
        }).toList();

        // every system drains o.rounds() times, the rounds interleaved (all systems once, then again),
        // so that a quiet or a busy minute of the machine falls on all of them; each system's median
        // round is reported, with every round in a table of its own
        Map<String, List<PeerRun.Result>> rounds = new LinkedHashMap<>();
        long started = System.nanoTime();
        for (int round = 1; round <= o.rounds(); round++) {
            for (PeerTarget.Kind store : o.stores()) {
                for (PeerScenario sc : scenarios) {
                    String key = store + "/" + sc.system();
                    if (store == PeerTarget.Kind.POSTGRESQL && !pgUp) {
                        rounds.computeIfAbsent(key, k -> new ArrayList<>()).add(PeerRun.Result.failed(sc.system(), sc.version(), store,
                                o.jobs(), "PostgreSQL at " + pg.describe() + " unreachable"));
                        continue;
                    }
                    if (!sc.supports(store)) {
                        if (sc.unsupportedReason(store) != null) {
                            rounds.computeIfAbsent(key, k -> new ArrayList<>()).add(PeerRun.Result.failed(sc.system(), sc.version(),
                                    store, o.jobs(), "not supported: " + sc.unsupportedReason(store)));
                        }
                        continue;
                    }
                    String label = sc.system() + " on " + store.label;
                    if (round == 1 && o.warmup() > 0) {
                        PeerRun.progress("peers: " + label + ": warm-up, " + o.warmup() + " jobs (not reported)");
                        PeerRun.Result w = once(sc, pg, tmp, store, o.warmup(), o);
                        if (!w.ok()) {
                            System.err.println("bench: warm-up of " + label + " did not finish: " + w.error());
                        }
                    }
                    PeerRun.progress("peers: " + label + ": round " + round + " of " + o.rounds() + ", " + o.jobs() + " jobs, "
                            + o.threads() + " threads");
                    if (!CpuMonitor.awaitQuiet("postgres", 0.10, 2000, 120_000)) {
                        System.err.println("bench: the machine stayed busy for 2 minutes; measuring anyway");
                    }
                    PeerRun.Result r = once(sc, pg, tmp, store, o.jobs(), o);
                    System.err.printf(Locale.ROOT, "bench:   %s: %s jobs/s, p50 %d ms, p99 %d ms%s%n", label,
                            Stats.rate(r.jobsPerSecond()), r.p50(), r.p99(), r.error() == null ? "" : " (" + r.error() + ")");
                    rounds.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
                }
            }
        }
        List<PeerRun.Result> results = new ArrayList<>();
        rounds.values().forEach(rs -> results.add(median(rs)));
        report(rep, o, pg, pgUp, scenarios, results, Stats.elapsedMs(started));
        if (o.rounds() > 1) {
            roundsTable(rep, rounds);
        }
        rep.note(cpu.summary());
    }

    /** The round with the median drain rate (of an even number, the lower middle one). */
    static PeerRun.Result median(List<PeerRun.Result> rs) {
        List<PeerRun.Result> sorted = new ArrayList<>(rs);
        sorted.sort(java.util.Comparator.comparingDouble(r -> r.completed() == 0 ? 0 : r.jobsPerSecond()));
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static void roundsTable(Report rep, Map<String, List<PeerRun.Result>> rounds) {
        rep.line("Every round (drain jobs/s; the table above shows each system's median round, and its ratios compare medians):");
        rep.table("store", "system", "rounds, in order", "median", "spread (max ÷ min)");
        for (List<PeerRun.Result> rs : rounds.values()) {
            PeerRun.Result first = rs.get(0);
            double min = rs.stream().mapToDouble(r -> r.completed() == 0 ? 0 : r.jobsPerSecond()).min().orElse(0);
            double max = rs.stream().mapToDouble(r -> r.completed() == 0 ? 0 : r.jobsPerSecond()).max().orElse(0);
            rep.row(first.store().label, first.system(),
                    String.join(" / ", rs.stream().map(r -> r.completed() == 0 ? "failed" : Stats.rate(r.jobsPerSecond())).toList()),
                    "**" + Stats.rate(median(rs).jobsPerSecond()) + "**", min > 0 ? String.format(Locale.ROOT, "%.2f", max / min) : "-");
        }
        rep.line("");
    }

    private static PeerRun.Result once(PeerScenario sc, PeerTarget.PgServer pg, Path tmp, PeerTarget.Kind store, int jobs,
                                       Options o) {
        System.gc();
        String label = sc.system().replaceAll("[^A-Za-z]", "");
        try (PeerTarget t = store == PeerTarget.Kind.POSTGRESQL ? pg.freshDatabase(label) : PeerTarget.freshSqlite(tmp, label)) {
            return sc.run(t, jobs, o.batch(), o.threads());
        } catch (Exception | LinkageError e) {
            e.printStackTrace();
            return PeerRun.Result.failed(sc.system(), sc.version(), store, jobs, "failed: " + e);
        }
    }

    // ------------------------------------------------------------------ report

    private static void report(Report rep, Options o, PeerTarget.PgServer pg, boolean pgUp, List<PeerScenario> scenarios,
                               List<PeerRun.Result> results, double tookMs) {
        rep.heading("6. Side by side: Warden, db-scheduler, JobRunr and the raw JDBC floor (noop jobs, enqueue then drain)");
        rep.line("Each system enqueues " + Stats.num(o.jobs()) + " noop jobs in batches of " + o.batch()
                + " (timed on its own), then starts " + o.threads() + " worker threads and is timed until its own tables "
                + "show every job done (a progress query on a connection outside its pool, due after a twentieth of the "
                + "estimated time left, every " + PeerRun.PROGRESS_POLL_MS + " ms near the end; its count and mean time are "
                + "in the notes; the floor counts its own commits). **jobs/s = jobs ÷ drain time.** Enqueue→start: from the "
                + "enqueue call of the job's batch to the job's start, for every job (a drain's latency is mostly the "
                + "backlog ahead of the job). Pools: " + POOL + " connections for every pooled system. PostgreSQL: one "
                + "server for all (" + (pgUp ? pg.settings() : "unreachable") + "), a fresh database per run. SQLite: a "
                + "fresh file per run, WAL, synchronous=NORMAL, busy timeout 60 s for every system. Every system had an "
                + "unreported warm-up run of " + Stats.num(o.warmup()) + " jobs first. "
                + (o.rounds() > 1 ? "Every system drained " + o.rounds() + " times, the rounds interleaved (every system once, "
                        + "then again); each row is that system's median round, and every round is in the table after the "
                        + "configuration. " : "")
                + "Run took " + Stats.secs(tookMs) + ".");
        rep.table("store", "system", "version", "enqueue", "**drain: jobs/s**", "drain time", "enqueue→start p50", "p99",
                "max", "jobs run (twice)", "CPU: bench JVM / PostgreSQL / other", "notes");
        for (PeerRun.Result r : results) {
            if (r.error() != null && r.completed() == 0) {
                rep.row(r.store().label, r.system(), r.version(), "-", "**" + r.error() + "**", "-", "-", "-", "-", "-", "-", "");
                continue;
            }
            String notes = (r.error() == null ? "" : "**" + r.error() + "**; ") + r.notes()
                    + (r.notes().isEmpty() ? "" : "; ") + "start = " + r.latencyPoint();
            rep.row(r.store().label, r.system(), r.version(), Stats.rate(r.enqueuePerSecond()),
                    "**" + Stats.rate(r.jobsPerSecond()) + "**", Stats.secs(r.drainMs()), r.p50() + " ms",
                    r.p99() + " ms", r.max() + " ms", Stats.num(r.executions()) + " (" + r.duplicates() + ")", r.cpu(), notes);
        }
        rep.line("");
        pgTable(rep, results);
        ratios(rep, o, results);
        rep.line("Configuration beyond the shared settings (" + o.threads() + " worker threads, pool of " + POOL
                + ", batches of " + o.batch() + "):");
        rep.table("system", "PostgreSQL", "SQLite");
        for (PeerScenario sc : scenarios) {
            rep.row(sc.system(), sc.supports(PeerTarget.Kind.POSTGRESQL) ? sc.configuration(PeerTarget.Kind.POSTGRESQL) : "-",
                    sc.supports(PeerTarget.Kind.SQLITE) ? sc.configuration(PeerTarget.Kind.SQLITE) : "-");
        }
        rep.line("");
    }

    private static void pgTable(Report rep, List<PeerRun.Result> results) {
        if (results.stream().noneMatch(r -> r.pg() != null)) {
            return;
        }
        rep.line("Where the PostgreSQL connections spent each drain (`pg_stat_activity` of the run's database, sampled at "
                + "every 50 ms; average number of the system's backends in each state; idle backends not "
                + "counted) and the WAL written per job (`pg_current_wal_lsn()` before and after the drain):");
        rep.table("system", "WAL per job", "running a statement", "waiting for a row/transaction lock",
                "waiting for WAL write/flush", "idle in transaction (client between statements)", "other waits",
                "busy backends of other databases (disturbance)", "samples");
        for (PeerRun.Result r : results) {
            if (r.pg() == null) {
                continue;
            }
            Map<String, Double> b = r.pg().backends();
            rep.row(r.system(), String.format(Locale.ROOT, "%,.0f B", r.pg().walBytesPerJob()), avg(b, PgProbe.RUNNING),
                    avg(b, PgProbe.LOCK), avg(b, PgProbe.WAL), avg(b, PgProbe.IDLE_IN_TX), avg(b, PgProbe.OTHER),
                    avg(b, PgProbe.OTHER_DB), String.valueOf(r.pg().samples()));
        }
        rep.line("");
        rep.line("Statements the system's backends were found executing (share of the samples with a statement active):");
        rep.table("system", "top statements");
        for (PeerRun.Result r : results) {
            if (r.pg() != null) {
                rep.row(r.system(), r.pg().topStatements(4));
            }
        }
        rep.line("");
    }

    private static String avg(Map<String, Double> b, String k) {
        return String.format(Locale.ROOT, "%.2f", b.getOrDefault(k, 0.0));
    }

    private static void ratios(Report rep, Options o, List<PeerRun.Result> results) {
        rep.line("Ratios (from the table above). Throughput: Warden ÷ the other, above 1 means Warden is faster. "
                + "Latency: the other ÷ Warden, above 1 means Warden starts jobs sooner.");
        rep.table("store", "Warden vs", "throughput ratio", "p50 ratio", "p99 ratio", "faster drain", "goal");
        for (PeerTarget.Kind store : o.stores()) {
            Optional<PeerRun.Result> warden = find(results, store, "Warden");
            if (warden.isEmpty() || !warden.get().ok()) {
                rep.row(store.label, "-", "Warden did not complete", "-", "-", "-", "-");
                continue;
            }
            PeerRun.Result w = warden.get();
            double bestPeer = 0;
            String bestName = null;
            for (PeerRun.Result r : results) {
                if (r.store() != store || r.system().equals("Warden")) {
                    continue;
                }
                if (r.completed() == 0) {
                    rep.row(store.label, r.system(), "n/a (" + r.error() + ")", "-", "-", "-", "-");
                    continue;
                }
                boolean floor = RawJdbcFloor.isFloor(r.system());
                double ratio = w.jobsPerSecond() / r.jobsPerSecond();
                String goal = floor ? "Warden ≥ 0.5 × " + (r.system().equals(RawJdbcFloor.SYSTEM) ? "floor" : "it") + ": "
                        + (ratio >= 0.5 ? "met" : "**not met**") : "";
                if (!floor && r.jobsPerSecond() > bestPeer) {
                    bestPeer = r.jobsPerSecond();
                    bestName = r.system();
                }
                rep.row(store.label, r.system() + (r.ok() ? "" : " (unfinished)"),
                        String.format(Locale.ROOT, "**%.2f**", ratio), latencyRatio(r.p50(), w.p50()),
                        latencyRatio(r.p99(), w.p99()), ratio >= 1 ? "Warden" : "**" + r.system() + "**", goal);
            }
            if (bestName != null) {
                double ratio = w.jobsPerSecond() / bestPeer;
                rep.row(store.label, "better peer (" + bestName + ")", String.format(Locale.ROOT, "**%.2f**", ratio), "",
                        "", ratio >= 1 ? "Warden" : "**" + bestName + "**",
                        "Warden ≥ 2 × better peer: " + (ratio >= 2 ? "met" : "**not met**"));
            }
        }
        rep.line("");
    }

    private static String latencyRatio(long other, long warden) {
        if (other < 0 || warden < 0) {
            return "-";
        }
        if (warden == 0) {
            return other == 0 ? "1.00" : "∞";
        }
        return String.format(Locale.ROOT, "%.2f", (double) other / warden);
    }

    private static Optional<PeerRun.Result> find(List<PeerRun.Result> results, PeerTarget.Kind store, String system) {
        return results.stream().filter(r -> r.store() == store && r.system().equals(system)).findFirst();
    }
}
