package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.queue.JobJson;
import dev.warden.store.Tx;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "workers", description = "List worker processes on every node: last heartbeat, running jobs, alive or not.")
final class WorkersCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() {
        try (WardenApp app = main.openApp()) {
            List<Tx.WorkerRow> rows = app.store().read(Tx::workers);
            Map<String, Integer> running = app.store().read(Tx::runningByOwner);
            long now = app.clock().millis();
            long aliveWithin = Math.max(app.config().lease().toMillis(), app.config().tick().toMillis() * 10);
            PrintWriter out = main.spec.commandLine().getOut();
            ArrayNode arr = Json.NODES.arrayNode();
            if (!json) {
                out.printf("%-40s %-8s %-8s %-10s %-8s %s%n", "WORKER", "PID", "STATE", "HEARTBEAT", "RUNNING", "NODE");
            }
            for (Tx.WorkerRow w : rows) {
                String state = w.stoppedAt() != null ? "stopped" : now - w.heartbeatAt() <= aliveWithin ? "alive" : "dead";
                int jobs = running.getOrDefault(w.id(), 0);
                if (json) {
                    arr.addObject().put("id", w.id()).put("node", w.node()).put("pid", w.pid()).put("state", state)
                            .put("concurrency", w.concurrency()).put("started_at", JobJson.iso(w.startedAt()))
                            .put("heartbeat_at", JobJson.iso(w.heartbeatAt())).put("running_jobs", jobs);
                } else {
                    out.printf("%-40s %-8d %-8s %-10s %-8d %s%n", w.id(), w.pid(), state,
                            (now - w.heartbeatAt()) / 1000 + "s ago", jobs, w.node());
                }
            }
            if (json) {
                out.println(Json.pretty(arr));
            }
        }
        return 0;
    }
}
