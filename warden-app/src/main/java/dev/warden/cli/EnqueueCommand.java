package dev.warden.cli;

import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.queue.JobJson;
import dev.warden.queue.Queue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "enqueue", description = "Enqueue a job spec (JSON file, or - for stdin); prints the job id.")
final class EnqueueCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "FILE|-", description = "Job spec file, or - to read stdin.")
    String file;

    @Option(names = "--json", description = "Print the whole job as JSON.")
    boolean json;

    @Override
    public Integer call() {
        String text;
        try {
            text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : Files.readString(Path.of(file));
        } catch (NoSuchFileException e) {
            throw WardenException.badInput("FILE: " + file + " does not exist");
        } catch (IOException e) {
            throw WardenException.badInput("FILE: cannot read " + file + ": " + e.getMessage());
        }
        try (WardenApp app = main.openApp()) {
            Queue.Enqueued e = app.queue().enqueue(app.parser().parse(text), Actors.cli());
            if (json) {
                main.spec.commandLine().getOut().println(Json.pretty(JobJson.view(e.job(), app.redactor())));
            } else {
                main.spec.commandLine().getOut().println(e.job().id());
            }
        }
        return 0;
    }
}
