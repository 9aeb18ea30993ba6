package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.store.JobRow;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "triage", description = "Triage an inbox: enqueues a triage job, waits for it (a worker must run: "
        + "'warden up' or 'warden worker') and prints each message's plan. Dry run unless --execute.")
final class TriageCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--source", required = true, paramLabel = "dir:PATH|api:FILE",
            description = "A directory of messages (one file each), or a JSON file with an array of {id, from?, subject?, body}.")
    String source;

    @Option(names = "--dry-run", description = "Only plan (the default).")
    boolean dryRun;

    @Option(names = "--execute", description = "Carry out the auto actions and send the others to the approvals queue.")
    boolean execute;

    @Option(names = "--brain", paramLabel = "rule|llm", defaultValue = "rule", description = "Rule brain (default) or a model route.")
    String brain;

    @Option(names = "--brain-route", paramLabel = "ROUTE", description = "The model route of the llm brain (default general).")
    String brainRoute;

    @Option(names = "--rules", paramLabel = "FILE", description = "Rules for the rule brain (JSON: an array, or {\"rules\": [...]}).")
    Path rules;

    @Option(names = "--max-messages", paramLabel = "N", description = "At most this many messages (default 100).")
    Integer maxMessages;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300", description = "Give up waiting after this long (default 300).")
    double timeout;

    @Option(names = "--json", description = "Print the job's result as JSON.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        if (dryRun && execute) {
            throw WardenException.badInput("--dry-run and --execute: choose one");
        }
        if (timeout <= 0) {
            throw WardenException.badInput("--timeout: must be positive");
        }
        ObjectNode spec = spec();
        PrintWriter out = main.spec.commandLine().getOut();
        try (WardenApp app = main.openApp()) {
            JobRow job = app.queue().enqueue(app.parser().parse(spec), Actors.cli()).job();
            long deadline = System.nanoTime() + (long) (timeout * 1e9);
            JobRow r = job;
            while (!r.state().isTerminal() && r.state() != JobState.escalated) {
                if (System.nanoTime() >= deadline) {
                    main.spec.commandLine().getErr().println("warden: timed out waiting for " + job.id() + " (state "
                            + r.state() + "); is a worker running ('warden up' or 'warden worker')?");
                    return ErrorCode.TIMEOUT.exitCode();
                }
                Thread.sleep(50);
                r = app.queue().get(job.id());
            }
            if (r.result() == null) {
                main.spec.commandLine().getErr().println("warden: " + job.id() + " " + r.state()
                        + (r.errorCode() == null ? "" : ": " + r.errorCode() + ": " + r.errorMessage()));
                return ErrorCode.FAILURE.exitCode();
            }
            JsonNode result = app.redactor().redact(Json.parse(r.result()));
            if (json) {
                out.println(Json.pretty(result));
            } else {
                print(out, r, result);
            }
            return r.state() == JobState.succeeded || r.state() == JobState.escalated ? 0 : ErrorCode.FAILURE.exitCode();
        }
    }

    private ObjectNode spec() {
        ObjectNode s = Json.object().put("kind", "triage");
        ObjectNode p = s.putObject("payload");
        ObjectNode policy = s.putObject("policy");
        if (source.startsWith("dir:")) {
            Path dir = Path.of(source.substring(4)).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw WardenException.badInput("--source: " + dir + " is not a directory");
            }
            p.put("source", "dir:" + dir);
            policy.putObject("paths").putArray("read").add(dir.toString());
        } else if (source.startsWith("api:")) {
            JsonNode messages = readJson(Path.of(source.substring(4)), "--source");
            if (!messages.isArray()) {
                throw WardenException.badInput("--source: " + source.substring(4) + " must hold a JSON array of messages");
            }
            p.put("source", "api").set("messages", messages);
        } else {
            throw WardenException.badInput("--source: must be dir:PATH or api:FILE, got '" + source + "'");
        }
        p.put("execute", execute).put("brain", brain);
        if (brainRoute != null) {
            p.put("brain_route", brainRoute);
        }
        if (rules != null) {
            JsonNode r = readJson(rules, "--rules");
            p.set("rules", r.isObject() ? r.path("rules") : r);
        }
        if (maxMessages != null) {
            p.put("max_messages", maxMessages);
        }
        s.putObject("budgets").put("wall_time_s", 600).put("tool_calls", 0).put("output_bytes", 10 * 1024 * 1024);
        return s;
    }

    private static JsonNode readJson(Path file, String option) {
        try {
            return Json.parse(Files.readString(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw WardenException.badInput(option + ": " + file + " does not exist");
        } catch (IOException e) {
            throw WardenException.badInput(option + ": cannot read " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw WardenException.badInput(option + ": " + file + " is not valid JSON: " + e.getMessage());
        }
    }

    private static void print(PrintWriter out, JobRow r, JsonNode result) {
        boolean dry = result.path("dry_run").asBoolean();
        out.println("job " + r.id() + " " + r.state() + (dry ? " (dry run: nothing was done, nobody was asked)" : ""));
        for (JsonNode m : result.path("plans")) {
            out.println();
            out.println(m.path("id").asText() + "  \"" + m.path("subject").asText() + "\"" + (m.path("from").asText().isEmpty()
                    ? "" : "  from " + m.path("from").asText()));
            for (JsonNode a : m.path("actions")) {
                StringBuilder why = new StringBuilder();
                a.path("reasons").forEach(x -> why.append(why.isEmpty() ? "" : "; ").append(x.asText().split(":", 2)[0]));
                out.printf("  %-16s %-9s %-17s %s%n", a.path("type").asText(), a.path("disposition").asText(),
                        a.path("outcome").asText(), why.isEmpty() ? a.path("detail").asText("") : why);
            }
        }
        long waiting = result.path("outcomes").path("pending_approval").asLong();
        if (waiting > 0) {
            out.println();
            out.println(waiting + " action(s) wait for approval: warden approvals list");
        }
    }
}
