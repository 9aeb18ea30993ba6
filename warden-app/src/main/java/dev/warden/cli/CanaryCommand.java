package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.WardenException;
import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.health.Canary;
import dev.warden.health.ProviderProbes;
import dev.warden.health.WorkerHealth;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.model.ProviderKeys;
import dev.warden.notify.Notification;
import dev.warden.notify.Notifier;
import dev.warden.notify.NotifyConfig;
import dev.warden.notify.RateLimiter;
import dev.warden.notify.WebhookTransport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "canary", description = {"One health line: CANARY status=<OK|DEGRADED|FAIL> store=… workers=… models=… ledger=… "
        + "killswitch=<ON|OFF> ts=…; appended to <data-dir>/canary.log and recorded in the ledger (canary.run).",
        "On FAIL, webhooks subscribed to canary.fail are notified (rate-limited). Exit 0 OK, 10 DEGRADED, 20 FAIL."})
final class CanaryCommand implements Callable<Integer> {
    /** Provider probes wait at most this long each, so a canary always ends. */
    static final Duration PROBE_MAX_WAIT = Duration.ofSeconds(10);

    @ParentCommand
    Main main;

    @Option(names = "--dry-run", description = "Print the notification a FAIL would send (on stderr) instead of posting it.")
    boolean dryRun;

    @Option(names = "--no-notify", description = "Do not notify webhooks, whatever the result.")
    boolean noNotify;

    @Override
    public Integer call() {
        PrintWriter out = main.spec.commandLine().getOut();
        PrintWriter err = main.spec.commandLine().getErr();
        WardenApp app;
        try {
            app = main.openApp();
        } catch (WardenException e) {
            throw e; // bad config or arguments: exit 2 with the message, as every command
        } catch (RuntimeException e) {
            return withoutStore(e, out, err);
        }
        try (app) {
            Canary canary = new Canary(app.dataDir(), app.clock(), app.workerAliveWithin(),
                    () -> ProviderProbes.probeAll(app.config().models(), ProviderKeys.fromSystem(), app.redactor(), PROBE_MAX_WAIT));
            Canary.Report r = canary.check(Optional.of(app.store()), null);
            finish(canary, r, out, err, app.redactor());
            if (!Canary.record(app.store(), app.ledger(), r, Actors.cli())) {
                Canary.appendUnrecorded(app.dataDir(), r, app.redactor(), Actors.cli());
            }
            if (r.status() == Canary.Status.FAIL && !noNotify && app.notifyConfig().wantsAny("canary.fail")) {
                try (Notifier n = app.newNotifier(dryRun ? err : null)) {
                    report(n.send(failNotification(r)), err);
                } catch (RuntimeException e) {
                    err.println("canary: cannot notify: " + app.redactor().scrub(String.valueOf(e.getMessage())));
                }
            }
            return r.status().exitCode();
        }
    }

    /** The store could not be opened: the line still comes out (store=fail), and the notification still goes (nothing recorded). */
    private int withoutStore(RuntimeException cause, PrintWriter out, PrintWriter err) {
        Path dataDir = main.dataDir.toAbsolutePath().normalize();
        WardenConfig config = ConfigLoader.load(Optional.ofNullable(main.config), dataDir,
                List.of(dataDir.toString(), Path.of("").toAbsolutePath().toString()));
        SecretScrubber secrets = new SecretScrubber();
        WardenApp.loadSecrets(secrets, config, dataDir, Optional.ofNullable(main.store));
        Redactor redactor = new Redactor(secrets);
        Canary canary = new Canary(dataDir, main.clock, WorkerHealth.aliveWithin(config.lease(), config.tick()),
                () -> ProviderProbes.probeAll(config.models(), ProviderKeys.fromSystem(), redactor, PROBE_MAX_WAIT));
        Canary.Report r = canary.check(Optional.empty(), "cannot open: " + redactor.scrub(String.valueOf(cause.getMessage())));
        finish(canary, r, out, err, redactor);
        Canary.appendUnrecorded(dataDir, r, redactor, Actors.cli());
        NotifyConfig nc = NotifyConfig.from(config.raw().path("notify"));
        if (!noNotify && nc.wantsAny("canary.fail")) {
            RateLimiter limiter = new RateLimiter(dryRun ? Optional.empty() : Optional.of(dataDir.resolve("notify-state.json")),
                    nc.rateLimit(), main.clock);
            try (Notifier n = new Notifier(nc, limiter, new WebhookTransport.Http(), redactor, Optional.empty(), null,
                    config.nodeId().orElse("node"), dryRun ? err : null)) {
                report(n.send(failNotification(r)), err);
            } catch (RuntimeException e) {
                err.println("canary: cannot notify: " + redactor.scrub(String.valueOf(e.getMessage())));
            }
        }
        return r.status().exitCode();
    }

    private void finish(Canary canary, Canary.Report r, PrintWriter out, PrintWriter err, Redactor redactor) {
        out.println(r.line());
        out.flush();
        for (String p : r.problems()) {
            err.println("canary: " + redactor.scrub(p));
        }
        err.flush();
        canary.appendLog(r);
    }

    static Notification failNotification(Canary.Report r) {
        String failing = String.join("+", r.failing());
        ObjectNode details = r.toJson();
        return new Notification("canary.fail", "canary.fail:" + (failing.isEmpty() ? "unknown" : failing), "error",
                "canary FAIL (" + failing + "): " + r.line(), null, details, r.ts());
    }

    static void report(List<Notifier.Delivery> deliveries, PrintWriter err) {
        for (Notifier.Delivery d : deliveries) {
            switch (d.outcome()) {
                case "delivered" -> err.println("canary: notified " + d.webhook().display() + " (HTTP " + d.result().status() + ")");
                case "failed" -> err.println("canary: webhook " + d.webhook().display() + " failed: " + d.result().error());
                case "suppressed" -> err.println("canary: notification to " + d.webhook().display() + " suppressed (rate limit)");
                default -> { }
            }
        }
        err.flush();
    }
}
