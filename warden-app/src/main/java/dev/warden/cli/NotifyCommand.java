package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.notify.Notification;
import dev.warden.notify.Notifier;
import dev.warden.notify.NotifyConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "notify", description = "Outbound webhook notifications (notify.webhooks in warden.yaml).",
        subcommands = {NotifyCommand.Test.class})
final class NotifyCommand implements Runnable {
    @ParentCommand
    Main main;

    @Override
    public void run() {
        main.spec.commandLine().getSubcommands().get("notify").usage(main.spec.commandLine().getOut());
    }

    @Command(name = "test", description = {"Sends a test notification to every configured webhook (or, with --event, to those "
            + "subscribed to that event), without rate limiting.", "Exit 0 all delivered, 1 some failed, 2 no webhook configured or subscribed."})
    static final class Test implements Callable<Integer> {
        @ParentCommand
        NotifyCommand parent;

        @Option(names = "--event", paramLabel = "EVENT", description = "Send as this event (job.failed, job.dead, approval.requested, "
                + "canary.fail, budget.exceeded); default notify.test, which every webhook receives.")
        String event = Notification.TEST_EVENT;

        @Option(names = "--dry-run", description = "Print each payload instead of posting it.")
        boolean dryRun;

        @Override
        public Integer call() {
            if (!event.equals(Notification.TEST_EVENT) && !NotifyConfig.EVENTS.contains(event)) {
                throw WardenException.badInput("--event: '" + event + "' is not one of " + new TreeSet<>(NotifyConfig.EVENTS));
            }
            PrintWriter out = parent.main.spec.commandLine().getOut();
            try (WardenApp app = parent.main.openApp()) {
                NotifyConfig nc = app.notifyConfig();
                if (nc.isEmpty()) {
                    throw WardenException.badInput("notify.webhooks: no webhook configured in " + app.config().source().map(Object::toString)
                            .orElse(app.dataDir().resolve("warden.yaml").toString()));
                }
                if (!nc.wantsAny(event)) {
                    throw WardenException.badInput("--event: no webhook in notify.webhooks subscribes to " + event);
                }
                ObjectNode details = Json.object().put("note", "a test notification sent by 'warden notify test'");
                Notification n = new Notification(event, Notification.TEST_EVENT, "info",
                        "test notification from warden on " + app.nodeId(), null, details, app.clock().instant());
                try (Notifier notifier = app.newNotifier(dryRun ? out : null)) {
                    List<Notifier.Delivery> ds = notifier.deliver(n, 0);
                    boolean failed = false;
                    for (Notifier.Delivery d : ds) {
                        switch (d.outcome()) {
                            case "delivered" -> out.println("delivered " + d.webhook().display() + " HTTP " + d.result().status()
                                    + " in " + d.result().latencyMs() + " ms");
                            case "failed" -> {
                                failed = true;
                                out.println("failed    " + d.webhook().display() + ": " + d.result().error());
                            }
                            default -> { }
                        }
                    }
                    return failed ? 1 : 0;
                }
            }
        }
    }
}
