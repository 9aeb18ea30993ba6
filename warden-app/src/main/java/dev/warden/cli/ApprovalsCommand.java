package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.warden.agent.Approvals;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "approvals", description = "The approvals queue: escalated actions waiting for an operator.",
        subcommands = {ApprovalsCommand.ListApprovals.class, ApprovalsCommand.Show.class, ApprovalsCommand.Approve.class,
                ApprovalsCommand.Reject.class})
final class ApprovalsCommand implements Runnable {
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

    @Command(name = "list", description = "List requests (pending by default).")
    static final class ListApprovals implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Option(names = "--state", paramLabel = "STATE", defaultValue = "pending",
                description = "pending (default), approved, rejected, expired, withdrawn, or all.")
        String state;

        @Option(names = "--limit", defaultValue = "100", description = "At most this many (1..1000).")
        int limit;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                ArrayNode arr = Json.NODES.arrayNode();
                app.approvals().list(state.equals("all") ? null : state, limit).forEach(r -> arr.add(Approvals.view(r)));
                if (json) {
                    parent.out().println(Json.pretty(app.redactor().redact(arr)));
                } else {
                    parent.out().printf("%-30s %-10s %-31s %-25s %s%n", "ID", "STATE", "JOB", "EXPIRES", "ACTION");
                    arr.forEach(n -> parent.out().printf("%-30s %-10s %-31s %-25s %s%n", n.path("id").asText(),
                            n.path("state").asText(), n.path("job_id").asText(), n.path("expires_at").asText(),
                            n.path("summary").asText()));
                }
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Show one request with its planned action and reasons.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                parent.out().println(Json.pretty(app.redactor().redact(Approvals.view(app.approvals().get(id)))));
            }
            return 0;
        }
    }

    abstract static class Decide implements Callable<Integer> {
        @ParentCommand
        ApprovalsCommand parent;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--note", paramLabel = "TEXT", description = "Why (kept with the decision, at most 2000 characters).")
        String note;

        abstract boolean approve();

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                JsonNode v = Approvals.view(app.approvals().decide(id, approve(), Actors.cli(), note));
                parent.out().println("approval " + id + " " + v.path("state").asText() + " (job " + v.path("job_id").asText()
                        + " resumes once none of its requests is pending)");
            }
            return 0;
        }
    }

    @Command(name = "approve", description = "Approve a pending request: the job carries the action out when it resumes.")
    static final class Approve extends Decide {
        @Override
        boolean approve() {
            return true;
        }
    }

    @Command(name = "reject", description = "Reject a pending request: the action is never carried out.")
    static final class Reject extends Decide {
        @Override
        boolean approve() {
            return false;
        }
    }
}
