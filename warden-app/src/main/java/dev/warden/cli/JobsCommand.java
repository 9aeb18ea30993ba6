package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.queue.JobJson;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "jobs", description = "List, show, cancel, retry, wait for and watch jobs.",
        subcommands = {JobsCommand.ListJobs.class, JobsCommand.Show.class, JobsCommand.Cancel.class,
                JobsCommand.Retry.class, JobsCommand.Wait.class, JobsWatch.class})
final class JobsCommand implements Runnable {
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

    @Command(name = "list", description = "List jobs, newest first.")
    static final class ListJobs implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Option(names = "--state", paramLabel = "S", description = "Only jobs in this state.")
        String state;

        @Option(names = "--kind", paramLabel = "K", description = "Only jobs of this kind.")
        String kind;

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only jobs with this label (repeatable).")
        java.util.Map<String, String> labels = new java.util.LinkedHashMap<>();

        @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most N jobs (default 50).")
        int limit;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            if (limit < 1 || limit > 100_000) {
                throw WardenException.badInput("--limit: must be between 1 and 100000");
            }
            JobState st = state == null ? null : JobState.parse(state);
            try (WardenApp app = jobs.main.openApp()) {
                List<JobRow> rows = app.queue().list(new Tx.JobFilter(st, kind, labels, limit, 0));
                PrintWriter out = jobs.out();
                if (json) {
                    ArrayNode arr = Json.NODES.arrayNode();
                    rows.forEach(r -> arr.add(JobJson.view(r, app.redactor())));
                    out.println(Json.pretty(arr));
                } else {
                    out.printf("%-30s %-12s %-10s %-8s %s%n", "ID", "KIND", "STATE", "ATTEMPTS", "UPDATED");
                    for (JobRow r : rows) {
                        out.printf("%-30s %-12s %-10s %-8s %s%n", r.id(), r.kind(), r.state(),
                                r.attempts() + "/" + r.maxAttempts(), JobJson.iso(r.updatedAt()));
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Show one job.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            try (WardenApp app = jobs.main.openApp()) {
                var row = app.queue().get(id);
                var view = JobJson.view(row, app.redactor());
                if (json) {
                    jobs.out().println(Json.pretty(view));
                } else {
                    PrintWriter out = jobs.out();
                    for (String f : List.of("id", "kind", "project", "state", "attempts", "max_attempts", "priority",
                            "created_at", "started_at", "finished_at")) {
                        out.printf("%-13s %s%n", f + ":", view.path(f).asText());
                    }
                    out.printf("%-13s %s%n", "result:", Json.write(view.path("result")));
                    out.printf("%-13s %s%n", "error:", Json.write(view.path("error")));
                    // a bundle with nothing but views of the store is rendered on first read
                    java.nio.file.Path dir = java.nio.file.Files.isDirectory(app.evidence().dir(id)) ? app.evidence().dir(id)
                            : app.evidence().materialize(row);
                    out.printf("%-13s %s%n", "evidence:", dir);
                }
            }
            return 0;
        }
    }

    @Command(name = "cancel", description = "Cancel a queued job, or ask a running one to stop.")
    static final class Cancel implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            try (WardenApp app = jobs.main.openApp()) {
                JobRow r = app.queue().cancel(id, Actors.cli());
                jobs.out().println(r.state() == JobState.cancelled ? id + " cancelled" : id + " cancel requested (running)");
            }
            return 0;
        }
    }

    @Command(name = "retry", description = "Queue a failed, dead or cancelled job again with fresh attempts.")
    static final class Retry implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            try (WardenApp app = jobs.main.openApp()) {
                app.queue().retry(id, Actors.cli());
                jobs.out().println(id + " queued");
            }
            return 0;
        }
    }

    @Command(name = "wait", description = "Wait until a job ends: exit 0 succeeded, 1 failed/dead/cancelled, 124 timeout.")
    static final class Wait implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--timeout", paramLabel = "SECONDS", description = "Give up after this long (default: wait forever).")
        Double timeout;

        @Override
        public Integer call() throws InterruptedException {
            if (timeout != null && timeout < 0) {
                throw WardenException.badInput("--timeout: must not be negative");
            }
            long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + (long) (timeout * 1e9);
            try (WardenApp app = jobs.main.openApp()) {
                while (true) {
                    JobRow r = app.queue().get(id);
                    if (r.state().isTerminal()) {
                        jobs.out().println(id + " " + r.state() + (r.errorCode() != null ? " (" + r.errorCode() + ")" : ""));
                        return r.state() == JobState.succeeded ? 0 : ErrorCode.FAILURE.exitCode();
                    }
                    if (System.nanoTime() >= deadline) {
                        jobs.main.spec.commandLine().getErr().println("warden: timed out waiting for " + id + " (state " + r.state() + ")");
                        return ErrorCode.TIMEOUT.exitCode();
                    }
                    Thread.sleep(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
                }
            }
        }
    }
}
