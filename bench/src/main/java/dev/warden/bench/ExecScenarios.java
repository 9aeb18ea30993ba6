package dev.warden.bench;

import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.exec.ArgvRules;
import dev.warden.exec.EnvRules;
import dev.warden.exec.ProcessRunner;
import dev.warden.exec.Sandbox;
import dev.warden.ledger.EventDraft;
import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Per-exec overhead of the governed path against a plain {@code ProcessBuilder} run of
 * {@code /bin/true}, in layers, interleaved so background load hits every layer alike:
 * (a) ProcessBuilder; (b) Warden's runner without a sandbox (environment replaced, output
 * captured, tree-kill bookkeeping); (c) the runner inside bubblewrap; (d) the checks and the two
 * ledger entries ({@code exec.started}, {@code exec.finished}) that {@code JobContext.exec} adds,
 * measured on their own. Governed overhead = (c) + (d) - (a).
 */
final class ExecScenarios {
    private ExecScenarios() {}

    static void run(Report rep, Path tmp, int runs) throws Exception {
        rep.heading("5. Exec overhead: `/bin/true` through the governed path vs a plain ProcessBuilder");
        Optional<Sandbox.Bwrap> bwrap = Sandbox.Bwrap.find();
        if (bwrap.isEmpty()) {
            rep.line("bubblewrap is not installed (apt-get install bubblewrap): section skipped.");
            return;
        }
        Path work = Files.createDirectories(tmp.resolve("exec-work"));
        Path data = Files.createDirectories(tmp.resolve("exec-data"));
        Path trueBin = PathRules.resolve(Path.of("/bin/true"));
        Policy policy = new Policy(List.of(), List.of(new Policy.ExecRule(trueBin.toString(), null)), List.of(),
                List.of(work.toString()), false, List.of());
        Sandbox.Mounts mounts = new Sandbox.Mounts(List.of(), List.of(work));
        Map<String, String> env = EnvRules.childEnvironment(Map.of(), work.toString());
        List<Double> plain = new ArrayList<>();
        List<Double> runner = new ArrayList<>();
        List<Double> sandboxed = new ArrayList<>();
        List<Double> governance = new ArrayList<>();
        try (WardenApp app = WardenApp.open(new WardenApp.Options(data, Optional.empty(), Optional.empty(), Clock.systemUTC()))) {
            for (int i = 0; i < runs + 20; i++) {
                boolean warm = i >= 20;
                long t0 = System.nanoTime();
                new ProcessBuilder("/bin/true").start().waitFor();
                double a = Stats.elapsedMs(t0);

                long t1 = System.nanoTime();
                ProcessRunner.run(new Sandbox.None().command(trueBin, List.of(), work, mounts, false), work, env, 10_000,
                        1024, "none", trueBin, () -> false);
                double b = Stats.elapsedMs(t1);

                long t2 = System.nanoTime();
                ProcessRunner.run(bwrap.get().command(trueBin, List.of(), work, mounts, false), work, env, 10_000,
                        1024, "bwrap", trueBin, () -> false);
                double c = Stats.elapsedMs(t2);

                long t3 = System.nanoTime();
                PathRules.isInsideAny(work, policy.writePaths());
                if (!(ArgvRules.check(List.of("true"), work, policy) instanceof ArgvRules.Verdict.Allowed)) {
                    throw new IllegalStateException("/bin/true refused");
                }
                app.ledger().record(app.store(), EventDraft.info("exec.started", "exec", "job-bench", "bench",
                        Json.object().put("executable", trueBin.toString())));
                app.ledger().record(app.store(), EventDraft.info("exec.finished", "exec", "job-bench", "bench",
                        Json.object().put("exit_code", 0)));
                double d = Stats.elapsedMs(t3);
                if (warm) {
                    plain.add(a);
                    runner.add(b);
                    sandboxed.add(c);
                    governance.add(d);
                }
            }
        }
        double base = Stats.median(plain);
        double governed = Stats.median(sandboxed) + Stats.median(governance);
        rep.table("layer", "runs", "**median**", "p99", "added over (a)");
        rep.row("(a) `ProcessBuilder(\"/bin/true\")`", String.valueOf(runs), "**" + Stats.ms(base) + "**", p99(plain), "-");
        rep.row("(b) Warden runner, no sandbox", String.valueOf(runs), "**" + Stats.ms(Stats.median(runner)) + "**", p99(runner),
                Stats.ms(Stats.median(runner) - base));
        rep.row("(c) Warden runner in bubblewrap", String.valueOf(runs), "**" + Stats.ms(Stats.median(sandboxed)) + "**",
                p99(sandboxed), Stats.ms(Stats.median(sandboxed) - base));
        rep.row("(d) policy checks + 2 ledger entries", String.valueOf(runs), "**" + Stats.ms(Stats.median(governance)) + "**",
                p99(governance), "-");
        rep.row("governed path = (c) + (d)", "-", "**" + Stats.ms(governed) + "**", "-",
                "**" + Stats.ms(governed - base) + "**" + (governed - base <= 15 ? " (goal ≤ 15 ms: met)" : " (goal ≤ 15 ms: **not met**)"));
    }

    private static String p99(List<Double> v) {
        List<Long> micros = v.stream().map(x -> Math.round(x * 1000)).toList();
        return Stats.ms(Stats.percentile(micros, 99) / 1000.0);
    }
}
