package dev.warden.cli;

import dev.warden.app.WardenApp;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "evidence", description = "Print the path of a job's evidence bundle (brought up to date first).")
final class EvidenceCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
        try (WardenApp app = main.openApp()) {
            main.spec.commandLine().getOut().println(app.evidence().materialize(app.queue().get(id)));
        }
        return 0;
    }
}
