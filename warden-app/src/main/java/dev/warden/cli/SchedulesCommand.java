package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.schedule.Schedules;
import dev.warden.store.Tx;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "schedules", description = "Cron schedules that enqueue a job spec (created disabled).",
        subcommands = {SchedulesCommand.Add.class, SchedulesCommand.Enable.class, SchedulesCommand.Disable.class,
                SchedulesCommand.ListSchedules.class, SchedulesCommand.Remove.class})
final class SchedulesCommand implements Runnable {
    @ParentCommand
    Main main;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    PrintWriter out() {
        return main.spec.commandLine().getOut();
    }

    @Command(name = "add", description = "Add a schedule (disabled until 'enable').")
    static final class Add implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--cron", required = true, paramLabel = "EXPR",
                description = "Cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first.")
        String cron;

        @Option(names = "--spec", required = true, paramLabel = "FILE", description = "The job spec to enqueue at each fire.")
        Path specFile;

        @Option(names = "--allow-overlap", description = "Fire even while the previous run is still active.")
        boolean allowOverlap;

        @Option(names = "--catch-up", paramLabel = "one|none", defaultValue = "one",
                description = "After downtime: fire once for what was missed (one, default) or skip to the next time (none).")
        String catchUp;

        @Override
        public Integer call() {
            String text;
            try {
                text = Files.readString(specFile);
            } catch (NoSuchFileException e) {
                throw WardenException.badInput("--spec: " + specFile + " does not exist");
            } catch (IOException e) {
                throw WardenException.badInput("--spec: cannot read " + specFile + ": " + e.getMessage());
            }
            try (WardenApp app = parent.main.openApp()) {
                app.schedules().add(name, cron, Json.parse(text), allowOverlap, catchUp, Actors.cli());
                parent.out().println("schedule " + name + " added (disabled; 'warden schedules enable " + name + "' to start it)");
            }
            return 0;
        }
    }

    @Command(name = "enable", description = "Start firing a schedule.")
    static final class Enable implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                Tx.ScheduleRow r = app.schedules().setEnabled(name, true, Actors.cli());
                parent.out().println("schedule " + name + " enabled; next fire " + Schedules.view(r).path("next_fire_at").asText());
            }
            return 0;
        }
    }

    @Command(name = "disable", description = "Stop firing a schedule.")
    static final class Disable implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                app.schedules().setEnabled(name, false, Actors.cli());
                parent.out().println("schedule " + name + " disabled");
            }
            return 0;
        }
    }

    @Command(name = "list", description = "List schedules.")
    static final class ListSchedules implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                ArrayNode arr = Json.NODES.arrayNode();
                app.schedules().list().forEach(r -> arr.add(Schedules.view(r)));
                if (json) {
                    parent.out().println(Json.pretty(app.redactor().redact(arr)));
                } else {
                    parent.out().printf("%-24s %-20s %-8s %-26s %s%n", "NAME", "CRON", "ENABLED", "NEXT FIRE", "LAST JOB");
                    arr.forEach(n -> parent.out().printf("%-24s %-20s %-8s %-26s %s%n", n.path("name").asText(),
                            n.path("cron").asText(), n.path("enabled").asText(), n.path("next_fire_at").asText("-"),
                            n.path("last_job_id").asText("-")));
                }
            }
            return 0;
        }
    }

    @Command(name = "remove", description = "Remove a schedule.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                app.schedules().remove(name, Actors.cli());
                parent.out().println("schedule " + name + " removed");
            }
            return 0;
        }
    }
}
