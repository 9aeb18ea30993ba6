package dev.warden.cli;

import dev.warden.app.EnvelopeLogEncoder;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.WardenException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code warden}: the command line. Commands are thin: parse, call a service, print. */
@Command(name = "warden", mixinStandardHelpOptions = true, version = "warden 0.1.0",
        description = "Governed execution plane for autonomous AI-agent work.",
        subcommands = {UpCommand.class, EnqueueCommand.class, JobsCommand.class, WorkerCommand.class, WorkersCommand.class, SchedulesCommand.class, ApprovalsCommand.class, TriageCommand.class,
                KillSwitchCommand.class, LedgerCommand.class, EvidenceCommand.class, ModelsCommand.class, GatewayCommand.class, TokenCommand.class,
                CanaryCommand.class, DoctorCommand.class, VramGuardCommand.class, NotifyCommand.class, SystemdCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 failure, 2 bad input or usage, 3 not found, 4 denied by policy,",
                "5 kill switch on, 10/20 degraded/down (models doctor, canary, doctor, vram-guard), 124 wait timed out."})
public final class Main implements Runnable {
    @Option(names = "--data-dir", scope = ScopeType.INHERIT, paramLabel = "DIR",
            defaultValue = "${env:WARDEN_DATA_DIR:-.warden}",
            description = "Data directory (env WARDEN_DATA_DIR; default ./.warden).")
    Path dataDir;

    @Option(names = "--store", scope = ScopeType.INHERIT, paramLabel = "URL", defaultValue = "${env:WARDEN_STORE}",
            description = "Store URL (env WARDEN_STORE; default: SQLite in the data directory).")
    String store;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Config file (YAML or JSON; default <data-dir>/warden.yaml).")
    Path config;

    Clock clock = Clock.systemUTC();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    WardenApp openApp() {
        WardenApp app = WardenApp.open(new WardenApp.Options(dataDir, Optional.ofNullable(store),
                Optional.ofNullable(config), clock));
        EnvelopeLogEncoder.useSecrets(app.secrets());
        return app;
    }

    /** {@link #openApp} for a process that runs jobs: fails closed when their evidence could not be kept. */
    WardenApp openAppToRunJobs() {
        WardenApp app = openApp();
        try {
            app.checkEvidenceStore();
        } catch (RuntimeException e) {
            app.close();
            throw e;
        }
        return app;
    }

    public static void main(String[] args) {
        int code = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; returns the exit code. Used by {@link #main} and in-process tests. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable t = ex;
            if (t instanceof WardenException we) {
                cmd.getErr().println("warden: " + we.getMessage());
                return we.code().exitCode();
            }
            if (t instanceof dev.warden.store.StoreException se) {
                cmd.getErr().println("warden: store error: " + se.getMessage());
                return ErrorCode.FAILURE.exitCode();
            }
            cmd.getErr().println("warden: internal error: " + t);
            if (System.getenv("WARDEN_DEBUG") != null) {
                t.printStackTrace(cmd.getErr());
            }
            return ErrorCode.INTERNAL.exitCode();
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("warden: " + ex.getMessage());
            ex.getCommandLine().getErr().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return ErrorCode.BAD_INPUT.exitCode();
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
