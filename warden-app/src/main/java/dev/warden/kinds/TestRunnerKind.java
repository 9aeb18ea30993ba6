package dev.warden.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.exec.ArgvRules;
import dev.warden.exec.ExecRequest;
import dev.warden.exec.ExecResult;
import dev.warden.exec.Git;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.job.JobKind;
import dev.warden.policy.Policy;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code test_runner}: runs an allowlisted test command (argv) in a writable copy of the
 * repository at a pinned commit, inside the sandbox. Succeeds whenever the command ran to
 * completion, whatever its exit code; fails when it could not run (denied, timeout, isolation
 * missing) or when the original repository changed while it ran ({@code MUTATION_DETECTED}).
 */
public final class TestRunnerKind implements JobKind {
    static final int MAX_OUTPUT = 1024 * 1024;
    static final int MAX_REPORT_BYTES = 20 * 1024 * 1024;

    @Override
    public String name() {
        return "test_runner";
    }

    @Override
    public String payloadSchema() {
        return "kinds/test_runner.schema.json";
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public List<String> validate(JsonNode payload) {
        List<String> out = new ArrayList<>();
        String bad = Git.checkRevision(payload.path("commit").asText("HEAD"));
        if (bad != null) {
            out.add("payload." + bad);
        }
        JsonNode reports = payload.path("junit_reports");
        for (int i = 0; i < reports.size(); i++) {
            String g = reports.get(i).asText();
            if (g.startsWith("/") || g.contains("..")) {
                out.add("payload.junit_reports[" + i + "]: '" + g + "' must be a glob relative to the checkout, without ..");
            }
        }
        return out;
    }

    @Override
    public List<String> denials(JsonNode payload, Policy jobPolicy) {
        List<String> out = new ArrayList<>(RepoIndexKind.repoDenials(payload, jobPolicy));
        Path repo = Path.of(payload.path("repo").asText());
        List<String> argv = new ArrayList<>();
        payload.path("argv").forEach(a -> argv.add(a.asText()));
        // bare names and absolute paths can be judged now; a relative path depends on the checkout
        if (!argv.isEmpty() && (!argv.get(0).contains("/") || argv.get(0).startsWith("/"))) {
            if (ArgvRules.check(argv, repo, jobPolicy) instanceof ArgvRules.Verdict.Refused r) {
                out.add("payload.argv: " + r.reason());
            }
        }
        return out;
    }

    @Override
    public JsonNode run(JobContext ctx) throws Exception {
        JsonNode p = ctx.payload();
        Path repo = ctx.requireRepo(Path.of(p.get("repo").asText()));
        JobContext.RepoState before = ctx.repoState(repo);
        JobContext.Checkout co = ctx.checkout(repo, p.path("commit").asText("HEAD"));
        List<String> argv = new ArrayList<>();
        p.get("argv").forEach(a -> argv.add(a.asText()));
        long timeoutS = Math.min(p.path("timeout_s").asLong(ctx.budgets().wallTimeS()), ctx.budgets().wallTimeS());
        ExecResult r = ctx.exec(new ExecRequest(argv, co.dir(), Map.of(), Duration.ofSeconds(timeoutS), MAX_OUTPUT));
        try (JobContext.ArtifactWriter out = ctx.openArtifact("stdout.txt")) {
            out.write(r.stdout());
        }
        try (JobContext.ArtifactWriter err = ctx.openArtifact("stderr.txt")) {
            err.write(r.stderr());
        }
        JobContext.RepoState after = ctx.repoState(repo);
        if (!after.equals(before)) {
            List<String> changed = new ArrayList<>(after.changes());
            changed.removeAll(before.changes());
            List<String> gone = new ArrayList<>(before.changes());
            gone.removeAll(after.changes());
            gone.forEach(g -> changed.add("removed or changed: " + g));
            if (!after.head().equals(before.head())) {
                changed.add(0, "HEAD moved: " + before.head() + " -> " + after.head());
            }
            ctx.event("repo.mutation_detected", Json.object().put("repo", repo.toString())
                    .set("changed", Json.MAPPER.valueToTree(changed)));
            throw JobFailure.permanent("MUTATION_DETECTED", "the repository " + repo + " changed while the job ran: "
                    + String.join(", ", changed));
        }
        if (r.timedOut()) {
            throw JobFailure.permanent("timeout", argv.get(0) + " did not finish within " + timeoutS + " s; the process tree was killed");
        }
        ObjectNode result = Json.object();
        result.put("exit_code", r.exitCode());
        result.put("duration_ms", r.durationMs());
        result.put("commit", co.commit());
        JunitSummary tests = junit(ctx, co.dir(), p.path("junit_reports"));
        if (tests != null) {
            result.putObject("tests").put("passed", tests.counts.passed()).put("failed", tests.counts.failed())
                    .put("skipped", tests.counts.skipped()).put("reports", tests.files);
        }
        result.put("stdout_bytes", r.stdoutBytes());
        result.put("stderr_bytes", r.stderrBytes());
        result.put("truncated", r.truncated());
        return result;
    }

    private record JunitSummary(JUnitReports.Counts counts, int files) {}

    private static JunitSummary junit(JobContext ctx, Path checkout, JsonNode globs) throws Exception {
        if (globs.isMissingNode() || globs.isEmpty()) {
            return null;
        }
        List<PathMatcher> matchers = new ArrayList<>();
        globs.forEach(g -> matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + g.asText())));
        JUnitReports.Counts total = new JUnitReports.Counts(0, 0, 0);
        int files = 0;
        for (Path f : ctx.listFiles(checkout, 100_000).files()) {
            Path rel = checkout.relativize(f);
            if (matchers.stream().noneMatch(m -> m.matches(rel))) {
                continue;
            }
            try {
                total = total.plus(JUnitReports.parse(ctx.readFile(f, MAX_REPORT_BYTES)));
                files++;
            } catch (org.xml.sax.SAXException e) {
                ctx.event("junit.unreadable", Json.object().put("file", rel.toString()).put("problem", e.getMessage()));
            }
        }
        return new JunitSummary(total, files);
    }
}
