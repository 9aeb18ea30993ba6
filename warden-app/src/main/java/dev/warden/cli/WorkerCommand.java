package dev.warden.cli;

import dev.warden.app.Logs;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.WardenException;
import dev.warden.worker.WorkerPool;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "worker", description = "Run a worker (no HTTP server): claims and runs jobs until stopped.")
final class WorkerCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--once", description = "Run the jobs that are due now, then exit.")
    boolean once;

    @Option(names = "--concurrency", paramLabel = "N", description = "Concurrent jobs (default worker.concurrency).")
    Integer concurrency;

    @Override
    public Integer call() throws Exception {
        if (concurrency != null && concurrency < 1) {
            throw WardenException.badInput("--concurrency: must be at least 1");
        }
        WardenApp app = main.openAppToRunJobs();
        Logs.toFile(app.dataDir());
        WorkerPool pool = app.newWorkerPool(concurrency != null ? concurrency : app.config().concurrency());
        if (once) {
            try (app) {
                if (app.killSwitch().isOn()) {
                    main.spec.commandLine().getErr().println("warden: kill switch is on; no job claimed");
                    return ErrorCode.KILL_SWITCH_ON.exitCode();
                }
                int n;
                try {
                    n = pool.drainOnce();
                } finally {
                    pool.shutdown(Duration.ZERO);
                }
                main.spec.commandLine().getOut().println("ran " + n + " job(s)");
                return 0;
            }
        }
        app.startStoreMaintenance();
        pool.start();
        var scheduler = app.startScheduler(pool::wakeUp);
        main.spec.commandLine().getOut().println("worker " + pool.owner() + " started on " + app.store().describe());
        main.spec.commandLine().getOut().flush();
        Signals.awaitTermination(() -> {
            scheduler.close();
            pool.shutdown(Duration.ofSeconds(10));
            app.close();
        });
        return 0;
    }
}
