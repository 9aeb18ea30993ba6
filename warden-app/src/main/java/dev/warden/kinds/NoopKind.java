package dev.warden.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.job.JobKind;
import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Does nothing, governed: for benchmarks, smoke tests and health checks. Optional payload:
 * {@code sleep_ms} (cooperatively cancellable), {@code log} (a file under {@code paths.write}
 * that gets one line at start and one at end of each attempt) and {@code fail}
 * ({@code transient} or {@code permanent}) to exercise retries.
 */
public final class NoopKind implements JobKind {
    @Override
    public String name() {
        return "noop";
    }

    @Override
    public String payloadSchema() {
        return "kinds/noop.schema.json";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public List<String> denials(JsonNode payload, Policy jobPolicy) {
        List<String> out = new ArrayList<>();
        if (payload.hasNonNull("log") && !PathRules.isInsideAny(Path.of(payload.get("log").asText()), jobPolicy.writePaths())) {
            out.add("payload.log: " + payload.get("log").asText() + " is outside the job's policy paths.write");
        }
        return out;
    }

    @Override
    public JsonNode run(JobContext ctx) throws Exception {
        JsonNode p = ctx.payload();
        Path log = p.hasNonNull("log") ? Path.of(p.get("log").asText()) : null;
        String tag = ctx.jobId() + " attempt=" + ctx.attempt() + " pid=" + ProcessHandle.current().pid();
        if (log != null) {
            ctx.appendFile(log, "start " + tag + " t=" + System.currentTimeMillis() + "\n");
        }
        long sleep = p.path("sleep_ms").asLong(0);
        long until = System.nanoTime() + sleep * 1_000_000;
        while (System.nanoTime() < until) {
            ctx.checkpoint();
            Thread.sleep(Math.min(20, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
        }
        ctx.checkpoint();
        switch (p.path("fail").asText("none")) {
            case "transient" -> throw JobFailure.transientError("noop asked to fail (transient)");
            case "permanent" -> throw JobFailure.permanent("noop_failed", "noop asked to fail (permanent)");
            default -> { }
        }
        if (log != null) {
            ctx.appendFile(log, "end " + tag + " t=" + System.currentTimeMillis() + "\n");
        }
        return Json.object().put("slept_ms", sleep);
    }
}
