package dev.warden.cli;

import dev.warden.app.ConsoleToken;
import dev.warden.app.Logs;
import dev.warden.app.SampleJob;
import dev.warden.app.WardenApp;
import dev.warden.web.WebServer;
import dev.warden.worker.WorkerPool;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "up", description = "Start the plane: store, workers and the HTTP console/API on 127.0.0.1.")
final class UpCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--port", paramLabel = "N", description = "HTTP port (default 8787, or server.port; 0 picks a free one).")
    Integer port;

    @Option(names = "--workers", paramLabel = "N", description = "Concurrent jobs in this process (default worker.concurrency).")
    Integer workers;

    @Option(names = "--bind", paramLabel = "HOST", description = "Bind address (default 127.0.0.1).")
    String bind;

    @Option(names = "--allow-non-loopback", description = "Allow binding to a non-loopback address.")
    boolean allowNonLoopback;

    @Override
    public Integer call() throws Exception {
        if (workers != null && workers < 1) {
            throw dev.warden.common.WardenException.badInput("--workers: must be at least 1");
        }
        if (port != null && (port < 0 || port > 65535)) {
            throw dev.warden.common.WardenException.badInput("--port: must be between 0 and 65535");
        }
        PrintWriter out = main.spec.commandLine().getOut();
        WardenApp app = main.openAppToRunJobs();
        Logs.toFile(app.dataDir());
        ConsoleToken.Loaded token = ConsoleToken.loadOrCreate(app.dataDir());
        app.secrets().register(token.token());
        WorkerPool pool = app.newWorkerPool(workers != null ? workers : app.config().concurrency());
        WebServer server = new WebServer(app, token.token(), pool::wakeUp);
        int bound;
        try {
            bound = server.start(bind != null ? bind : app.config().bind(), port != null ? port : app.config().port(),
                    allowNonLoopback || app.config().allowNonLoopback());
        } catch (RuntimeException e) {
            app.close();
            throw e;
        }
        SampleJob.enqueueIfFirstStart(app).ifPresent(id -> out.println("Enqueued sample job " + id + "."));
        app.startStoreMaintenance();
        pool.start();
        var scheduler = app.startScheduler(pool::wakeUp);
        String host = bind != null ? bind : app.config().bind();
        out.println("Warden is up (store " + app.store().describe() + ", " + (workers != null ? workers : app.config().concurrency())
                + " workers, kill switch " + (app.killSwitch().isOn() ? "ON" : "OFF") + ").");
        out.println("  console: http://" + host + ":" + bound + "/");
        if (token.created()) {
            out.println("  token:   " + token.token() + "   (shown once; kept in " + app.dataDir().resolve(ConsoleToken.FILE_NAME) + ", mode 0600)");
        } else {
            out.println("  token:   in " + app.dataDir().resolve(ConsoleToken.FILE_NAME) + " (mode 0600)");
        }
        out.println("  api:     curl -H 'X-Warden-Token: <token>' http://" + host + ":" + bound + "/api/jobs");
        app.startNotifications(out).ifPresent(n -> out.println("  notify:  " + n.config().webhooks().size() + " webhook(s)"
                + (n.dryRun() ? ", dry run (payloads printed here, nothing posted)" : "")));
        out.flush();
        Signals.awaitTermination(() -> {
            scheduler.close();
            server.close();
            pool.shutdown(Duration.ofSeconds(10));
            app.close();
        });
        return 0;
    }
}
