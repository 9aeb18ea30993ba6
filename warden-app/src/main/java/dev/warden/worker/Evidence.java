package dev.warden.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.evidence.EvidenceFiles;
import dev.warden.ledger.Redactor;
import dev.warden.queue.JobJson;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import dev.warden.store.Tx.LedgerRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * A job's evidence bundle under {@code <data_dir>/evidence/<job_id>/}: {@code events.jsonl} (the
 * job's ledger envelopes), {@code summary.md} and {@code artifacts/}. Files are replaced
 * atomically, so a reader never sees a half-written bundle.
 */
public final class Evidence {
    private final Path root;
    private final Store store;
    private final EvidenceFiles shared;
    private final Redactor redactor;

    /** {@code shared} keeps the artifacts and content that other nodes serve (the store, or an object store). */
    public Evidence(Path dataDir, Store store, EvidenceFiles shared, Redactor redactor) {
        this.root = dataDir.resolve("evidence");
        this.store = store;
        this.shared = shared;
        this.redactor = redactor;
    }

    /** Where the files other nodes serve are kept. */
    public EvidenceFiles shared() {
        return shared;
    }

    /** What a job id may be, as a path segment (compiled once: every attempt resolves its directory). */
    private static final java.util.regex.Pattern JOB_ID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,100}");

    public Path dir(String jobId) {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw dev.warden.common.WardenException.badInput("job id: '" + jobId + "' is not a valid job id");
        }
        return root.resolve(jobId);
    }

    public Path artifacts(String jobId) {
        return dir(jobId).resolve("artifacts");
    }

    /**
     * With a shared store or an object store, copies the job's artifacts and content written on
     * this node there, so any node can serve them. Called after the attempt's outcome is recorded.
     */
    public void publishArtifacts(JobRow job) {
        if (!shared.enabled()) {
            return;
        }
        for (String sub : List.of("artifacts", "content")) {
            Path d = dir(job.id()).resolve(sub);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.list(d)) {
                for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                    shared.put(job.id(), sub + "/" + f.getFileName(), Files.readAllBytes(f));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot publish the " + sub + " of " + job.id(), e);
            }
        }
    }

    /**
     * Whether the bundle of an attempt that just ended is written now, or left to be rendered on
     * first read ({@link #materialize}, which every reader calls: {@code warden evidence}, the API,
     * the console). Written now: anything that did not succeed, and any job with something on disk
     * already (artifacts, content, or a bundle written before — which must not be left stale). Left
     * for later: a job that succeeded without writing a file, whose whole bundle is a view of the
     * ledger and the job row in the store; writing two files per such job was most of the queue's
     * CPU on SQLite.
     */
    public boolean writtenAtOutcome(JobRow job) {
        return job.state() != dev.warden.job.JobState.succeeded || Files.isDirectory(dir(job.id()));
    }

    /** Writes (or rewrites) events.jsonl and summary.md from the store; returns the bundle path. */
    public Path materialize(JobRow job) {
        return materialize(job, true);
    }

    /**
     * As {@link #materialize(JobRow)}; {@code fetchShared} false skips fetching artifacts from a
     * shared store (the node that ran the attempt has them on disk: it just published them).
     */
    Path materialize(JobRow job, boolean fetchShared) {
        Path dir = dir(job.id());
        try {
            Files.createDirectories(dir.resolve("artifacts"));
            if (fetchShared && shared.enabled()) {
                // artifacts another node wrote: fetch what this node does not have
                for (java.util.Map.Entry<String, byte[]> e : shared.get(job.id()).entrySet()) {
                    Path local = dir.resolve(e.getKey()).normalize();
                    if ((local.startsWith(dir.resolve("artifacts")) || local.startsWith(dir.resolve("content"))) && (!Files.exists(local)
                            || Files.size(local) != e.getValue().length)) {
                        Path tmp = local.resolveSibling("." + local.getFileName() + ".tmp");
                        Files.write(tmp, e.getValue());
                        Files.move(tmp, local, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            List<LedgerRow> events = store.read(tx -> tx.ledgerByCorrId(job.id()));
            StringBuilder jsonl = new StringBuilder();
            for (LedgerRow e : events) {
                jsonl.append(e.entry()).append('\n');
            }
            writeAtomically(dir.resolve("events.jsonl"), jsonl.toString());
            writeAtomically(dir.resolve("summary.md"), summary(job, events, dir.resolve("artifacts")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write evidence for " + job.id() + " in " + dir, e);
        }
        return dir;
    }

    private String summary(JobRow job, List<LedgerRow> events, Path artifacts) throws IOException {
        JsonNode view = JobJson.view(job, redactor);
        StringBuilder s = new StringBuilder();
        s.append("# Job ").append(job.id()).append("\n\n");
        s.append("| field | value |\n|---|---|\n");
        row(s, "kind", job.kind());
        row(s, "project", job.project());
        row(s, "state", job.state().name());
        row(s, "attempts", job.attempts() + " of " + job.maxAttempts());
        row(s, "created", view.path("created_at").asText());
        row(s, "started", view.path("started_at").asText("-"));
        row(s, "finished", view.path("finished_at").asText("-"));
        if (job.startedAt() != null && job.finishedAt() != null) {
            row(s, "duration", (job.finishedAt() - job.startedAt()) + " ms");
        }
        s.append("\n## What it cost\n\n");
        JsonNode usage = null;
        for (LedgerRow e : events) {
            if (e.event().startsWith("job.")) {
                JsonNode u = Json.parse(e.entry()).path("details").path("usage");
                if (u.isObject()) {
                    usage = u;
                }
            }
        }
        JsonNode budgets = view.path("budgets");
        s.append("| measure | used (last attempt) | budget |\n|---|--:|--:|\n");
        s.append("| wall time | ").append(usage == null ? "-" : usage.path("wall_ms").asLong() + " ms").append(" | ")
                .append(budgets.path("wall_time_s").asText("-")).append(" s |\n");
        s.append("| output | ").append(usage == null ? "-" : usage.path("output_bytes").asLong() + " bytes").append(" | ")
                .append(budgets.path("output_bytes").asText("-")).append(" bytes |\n");
        s.append("| tool calls | ").append(usage == null ? "-" : usage.path("tool_calls").asText()).append(" | ")
                .append(budgets.path("tool_calls").asText("-")).append(" |\n");
        s.append("| model tokens | ").append(usage == null ? "-" : usage.path("tokens").asText("0")).append(" | ")
                .append(budgets.path("tokens").asText("-")).append(" |\n");
        s.append("| model USD | ").append(usage == null ? "-" : usage.path("usd").asText("0")).append(" | ")
                .append(budgets.path("usd").asText("-")).append(" |\n");
        List<JsonNode> calls = events.stream().filter(e -> e.event().equals("model.call"))
                .map(e -> Json.parse(e.entry()).path("details")).toList();
        if (!calls.isEmpty()) {
            s.append("\n## Model calls\n\n| purpose | model | outcome | attempts | tokens in/out | USD (est. / actual) | ms |\n"
                    + "|---|---|---|---|--:|--:|--:|\n");
            for (JsonNode c : calls) {
                StringBuilder attempts = new StringBuilder();
                c.path("attempts").forEach(a -> attempts.append(attempts.isEmpty() ? "" : ", ").append(a.path("model").asText())
                        .append(' ').append(a.path("class").asText()));
                s.append("| ").append(c.path("target").asText()).append(" | ").append(c.path("model").asText("-"))
                        .append(" | ").append(c.path("outcome").asText()).append(" | ").append(attempts)
                        .append(" | ").append(c.path("tokens").path("input").asLong()).append('/').append(c.path("tokens").path("output").asLong())
                        .append(" | ").append(c.path("cost_usd").path("estimated").asText()).append(" / ")
                        .append(c.path("cost_usd").path("actual").asText()).append(" | ").append(c.path("latency_ms").asLong()).append(" |\n");
            }
        }
        long denied = events.stream().filter(e -> e.event().equals("policy.denied")).count();
        s.append("\n## What was denied\n\n");
        if (denied == 0) {
            s.append("Nothing was denied.\n");
        } else {
            for (LedgerRow e : events) {
                if (e.event().equals("policy.denied")) {
                    JsonNode d = Json.parse(e.entry()).path("details");
                    s.append("- ").append(d.path("act").asText()).append(" `").append(d.path("target").asText())
                            .append("`: ").append(d.path("reason").asText()).append('\n');
                }
            }
        }
        boolean asked = events.stream().anyMatch(e -> e.event().equals("approval.requested")); // no query for the others
        List<dev.warden.store.ApprovalsTx.ApprovalRow> approvals = asked ? store.read(tx -> tx.approvals().forJob(job.id())) : List.of();
        if (!approvals.isEmpty()) {
            s.append("\n## Approvals\n\n| request | action | state | decided by | expires |\n|---|---|---|---|---|\n");
            for (dev.warden.store.ApprovalsTx.ApprovalRow a : approvals) {
                s.append("| ").append(a.id()).append(" | ").append(a.summary().replace("|", "\\|")).append(" | ").append(a.state())
                        .append(" | ").append(a.decidedBy() == null ? "-" : a.decidedBy()).append(" | ")
                        .append(JobJson.iso(a.expiresAt())).append(" |\n");
            }
        }
        s.append("\n## Timeline\n\n");
        for (LedgerRow e : events) {
            JsonNode env = Json.parse(e.entry());
            s.append("- ").append(env.path("ts").asText()).append(" `").append(e.event()).append("` by ")
                    .append(env.path("actor").asText()).append('\n');
        }
        s.append("\n## Result\n\n");
        if (job.errorCode() != null) {
            s.append("Error `").append(job.errorCode()).append("`: ").append(redactor.scrub(job.errorMessage())).append("\n\n");
        }
        s.append("```json\n").append(Json.pretty(view.path("result"))).append("\n```\n");
        s.append("\n## Artifacts\n\n");
        try (Stream<Path> files = Files.exists(artifacts) ? Files.list(artifacts) : Stream.empty()) {
            List<Path> list = files.sorted().toList();
            if (list.isEmpty()) {
                s.append("None.\n");
            }
            for (Path p : list) {
                s.append("- `artifacts/").append(p.getFileName()).append("` (").append(Files.size(p)).append(" bytes)\n");
            }
        }
        return s.toString();
    }

    private static void row(StringBuilder s, String k, String v) {
        s.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    static void writeAtomically(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
