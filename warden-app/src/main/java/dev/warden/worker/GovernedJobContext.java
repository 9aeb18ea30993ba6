package dev.warden.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.exec.ArgvRules;
import dev.warden.exec.EnvRules;
import dev.warden.exec.ExecRequest;
import dev.warden.exec.ExecResult;
import dev.warden.exec.Git;
import dev.warden.exec.ProcessRunner;
import dev.warden.exec.Sandbox;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.policy.BudgetMeter;
import dev.warden.policy.Budgets;
import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import dev.warden.store.JobRow;
import dev.warden.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The worker's {@link JobContext}: each capability checks the job's policy, charges its budgets
 * and records what happened, in that order, before touching anything.
 */
final class GovernedJobContext implements JobContext {
    private final JobRow job;
    private final JsonNode payload;
    private final Policy policy;
    private final BudgetMeter meter;
    private final Store store;
    private final Ledger ledger;
    private final Path artifactsDir;
    private final Clock clock;
    private final AtomicReference<JobFailure> stop;
    private final LongSupplier leaseDeadline;
    private final Isolation isolation;
    private final Path workDir;
    private final java.util.function.Supplier<dev.warden.model.Router> models;
    private final boolean recordContent;

    /** The operator's isolation decision: which sandbox processes run in, or why none can be had. */
    record Isolation(java.util.Optional<Sandbox> sandbox, String unavailableReason) {}

    GovernedJobContext(JobRow job, JsonNode spec, Store store, Ledger ledger, Path artifactsDir, Clock clock,
                       AtomicReference<JobFailure> stop, LongSupplier leaseDeadline, Isolation isolation, Path workDir,
                       java.util.function.Supplier<dev.warden.model.Router> models, boolean recordContent) {
        this.models = models;
        this.recordContent = recordContent;
        this.job = job;
        this.payload = spec.path("payload");
        this.policy = Policy.fromJson(spec.get("policy"));
        this.meter = new BudgetMeter(Budgets.fromJson(spec.get("budgets")), clock);
        this.store = store;
        this.ledger = ledger;
        this.artifactsDir = artifactsDir;
        this.clock = clock;
        this.stop = stop;
        this.leaseDeadline = leaseDeadline;
        this.isolation = isolation;
        this.workDir = workDir;
    }

    BudgetMeter meter() {
        return meter;
    }

    @Override
    public String jobId() {
        return job.id();
    }

    @Override
    public int attempt() {
        return job.attempts();
    }

    @Override
    public JsonNode payload() {
        return payload;
    }

    @Override
    public Policy policy() {
        return policy;
    }

    @Override
    public Budgets budgets() {
        return meter.budgets();
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public void checkpoint() {
        if (clock.millis() > leaseDeadline.getAsLong()) {
            // heartbeats stalled: another worker may own this job once the stored lease expires
            stop.compareAndSet(null, new JobFailure.Stop("lease_lost", "lease not renewed in time"));
        }
        JobFailure s = stop.get();
        if (s != null) {
            throw s;
        }
        if (meter.wallTimeExceeded()) {
            throw budgetExceeded("wall_time_s", "wall time budget of " + meter.budgets().wallTimeS() + " s spent");
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new JobFailure.Stop("interrupted", "the attempt was interrupted");
        }
    }

    // ------------------------------------------------------------------ governed file access

    private List<String> readRoots() {
        List<String> roots = new ArrayList<>(policy.readPaths());
        roots.add(workDir.toString());
        return roots;
    }

    private List<String> writeRoots() {
        List<String> roots = new ArrayList<>(policy.writePaths());
        roots.add(workDir.toString());
        return roots;
    }

    @Override
    public Path workDir() {
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return workDir;
    }

    private Sandbox sandboxOrFail(String act, String target) {
        Sandbox sandbox = isolation.sandbox().orElse(null);
        if (sandbox == null) {
            ObjectNode d = Json.object().put("act", act).put("target", target).put("reason", isolation.unavailableReason());
            ledger.record(store, EventDraft.error("exec.refused", "exec", job.id(), job.leaseOwner(), d));
            throw JobFailure.permanent("isolation_unavailable", isolation.unavailableReason());
        }
        return sandbox;
    }

    private Sandbox.Mounts mounts() {
        List<Path> readOnly = policy.readPaths().stream().map(PathRules::resolve).toList();
        List<Path> writable = new ArrayList<>(policy.writePaths().stream().map(PathRules::resolve).toList());
        writable.add(PathRules.resolve(workDir()));
        return new Sandbox.Mounts(readOnly, writable);
    }

    private Git git() {
        return new Git(sandboxOrFail("git", Git.GIT.toString()), mounts(), workDir());
    }

    @Override
    public Checkout checkout(Path repo, String commit) {
        Path root = requireRepo(repo);
        String bad = Git.checkRevision(commit);
        if (bad != null) {
            throw JobFailure.permanent("bad_input", bad);
        }
        if (!Git.isRepository(root)) {
            throw JobFailure.permanent("repo_missing", "repo " + repo + " is not a git repository");
        }
        Path dest = workDir().resolve("checkout");
        try {
            Git g = git();
            String sha = g.resolveCommit(root, commit);
            g.copyAt(root, sha, dest);
            event("repo.checkout", Json.object().put("repo", root.toString()).put("commit", sha).put("dir", dest.toString()));
            return new Checkout(dest, sha);
        } catch (Git.GitException e) {
            throw JobFailure.permanent("checkout_failed", e.getMessage());
        }
    }

    /**
     * The repository's state read by Warden itself, never by running git in it: a repository's own
     * configuration (filters, fsmonitor) could otherwise run code. HEAD and refs are compared by
     * content, every other file by size and modification time.
     */
    @Override
    public RepoState repoState(Path repo) {
        Path root = requireRepo(repo);
        List<String> entries = new ArrayList<>();
        String head;
        try {
            Path git = root.resolve(".git");
            head = Files.isRegularFile(git.resolve("HEAD")) ? Files.readString(git.resolve("HEAD")).strip() : "";
            try (var files = Files.walk(root)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path rel = root.relativize(f);
                    boolean inGit = rel.startsWith(".git");
                    if (inGit && !(rel.startsWith(".git/refs") || rel.equals(Path.of(".git/packed-refs"))
                            || rel.equals(Path.of(".git/HEAD")))) {
                        continue;
                    }
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isDirectory()) {
                        continue;
                    }
                    String detail = inGit && a.isRegularFile() ? Files.readString(f).strip()
                            : "size " + a.size() + ", modified " + a.lastModifiedTime().toMillis();
                    entries.add(rel + " (" + detail + ")");
                    if (entries.size() > 200_000) {
                        throw JobFailure.permanent("repo_too_large", "repo " + repo + " has more than 200000 files");
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw JobFailure.permanent("repo_state_failed", "cannot read the state of " + repo + ": " + e.getMessage());
        }
        entries.sort(null);
        return new RepoState(head, List.copyOf(entries));
    }

    @Override
    public Path requireRepo(Path repo) {
        checkpoint();
        Path real = requireInside(repo, policy.repos(), "repo.open", "repos");
        if (!Files.isDirectory(real)) {
            throw JobFailure.permanent("repo_missing", "repo " + repo + " does not exist or is not a directory");
        }
        return real;
    }

    @Override
    public FileListing listFiles(Path root, int maxFiles) {
        checkpoint();
        Path real = requireInside(root, readRoots(), "fs.list", "paths.read");
        List<Path> files = new ArrayList<>();
        int[] symlinks = {0};
        boolean[] truncated = {false};
        try {
            Files.walkFileTree(real, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    checkpoint();
                    return dir.getFileName() != null && dir.getFileName().toString().equals(".git") && !dir.equals(real)
                            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isSymbolicLink()) {
                        symlinks[0]++;
                        return FileVisitResult.CONTINUE;
                    }
                    if (!attrs.isRegularFile()) {
                        return FileVisitResult.CONTINUE;
                    }
                    if (files.size() >= maxFiles) {
                        truncated[0] = true;
                        return FileVisitResult.TERMINATE;
                    }
                    files.add(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.sort(null);
        ObjectNode d = Json.object().put("root", real.toString()).put("files", files.size())
                .put("skipped_symlinks", symlinks[0]).put("truncated", truncated[0]);
        event("fs.listed", d);
        return new FileListing(List.copyOf(files), symlinks[0], truncated[0]);
    }

    @Override
    public byte[] readFile(Path file, int maxBytes) {
        checkpoint();
        Path real = requireInside(file, readRoots(), "fs.read", "paths.read");
        if (!Files.exists(real, LinkOption.NOFOLLOW_LINKS)) {
            throw JobFailure.permanent("not_found", "file " + file + " does not exist");
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw JobFailure.permanent("not_a_file", file + " is not a regular file"); // a FIFO would block the read forever
        }
        try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
            return in.readNBytes(maxBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void appendFile(Path file, String text) {
        checkpoint();
        Path real = requireInside(file, writeRoots(), "fs.append", "paths.write");
        String clean = ledger.redactor().scrub(text);
        byte[] bytes = clean.getBytes(StandardCharsets.UTF_8);
        charge(bytes.length);
        try {
            Files.write(real, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public ExecResult exec(ExecRequest r) {
        checkpoint();
        String exe = r.argv().isEmpty() ? "" : r.argv().get(0);
        Path cwd = PathRules.resolve(r.cwd());
        if (!PathRules.isInsideAny(cwd, writeRoots())) {
            throw deny("exec", exe, "working directory " + r.cwd() + " is not inside paths.write or the job's work directory");
        }
        Path executable = switch (ArgvRules.check(r.argv(), cwd, policy)) {
            case ArgvRules.Verdict.Allowed a -> a.executable();
            case ArgvRules.Verdict.Refused f -> throw deny("exec", exe, f.reason());
        };
        for (String name : r.env().keySet()) {
            java.util.Optional<String> refused = EnvRules.refusal(name);
            if (refused.isPresent()) {
                throw deny("exec", exe, refused.get());
            }
        }
        Sandbox sandbox = sandboxOrFail("exec", exe);
        List<String> command = sandbox.command(executable, r.argv().subList(1, r.argv().size()), cwd, mounts(),
                policy.network());
        long wallLeft = Math.max(0, meter.deadlineMillis() - clock.millis());
        long timeout = Math.min(r.timeout().toMillis(), wallLeft);
        ObjectNode started = Json.object().put("executable", executable.toString()).put("cwd", cwd.toString())
                .put("isolation", sandbox.name()).put("timeout_ms", timeout).put("network", policy.network());
        started.putArray("argv").addAll(r.argv().stream().map(com.fasterxml.jackson.databind.node.TextNode::valueOf).toList());
        started.putArray("env").addAll(r.env().keySet().stream().sorted().map(com.fasterxml.jackson.databind.node.TextNode::valueOf).toList());
        event("exec.started", started);
        ExecResult res;
        try {
            res = ProcessRunner.run(command, cwd, EnvRules.childEnvironment(r.env(), cwd.toString()), timeout,
                    r.maxOutputBytes(), sandbox.name(), executable, () -> stop.get() != null || clock.millis() > leaseDeadline.getAsLong());
        } catch (ProcessRunner.Stopped e) {
            checkpoint();
            throw new JobFailure.Stop("interrupted", "the process was stopped");
        }
        String outText = ledger.redactor().scrub(res.stdout());
        String errText = ledger.redactor().scrub(res.stderr());
        ObjectNode finished = Json.object().put("executable", executable.toString()).put("exit_code", res.exitCode())
                .put("duration_ms", res.durationMs()).put("stdout_bytes", res.stdoutBytes())
                .put("stderr_bytes", res.stderrBytes()).put("truncated", res.truncated()).put("timed_out", res.timedOut())
                .put("isolation", sandbox.name());
        event("exec.finished", finished);
        charge(outText.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + errText.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        if (res.timedOut() && timeout < r.timeout().toMillis()) {
            throw budgetExceeded("wall_time_s", "wall time budget of " + meter.budgets().wallTimeS() + " s spent while "
                    + executable.getFileName() + " ran");
        }
        return new ExecResult(res.exitCode(), res.durationMs(), outText, errText, res.stdoutBytes(), res.stderrBytes(),
                res.truncated(), res.timedOut(), res.isolation(), res.executable());
    }

    @Override
    public ArtifactWriter openArtifact(String name) {
        checkpoint();
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}") || name.contains("..")) {
            throw JobFailure.permanent("bad_artifact_name", "artifact name '" + name
                    + "' must be a plain file name (letters, digits, . _ -)");
        }
        try {
            Files.createDirectories(artifactsDir);
            Path target = artifactsDir.resolve(name);
            Writer w = Files.newBufferedWriter(target, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            return new ArtifactWriter() {
                long written;

                @Override
                public void write(String text) {
                    checkpoint(); // a stopped or fenced attempt writes nothing more
                    String clean = ledger.redactor().scrub(text);
                    int n = clean.getBytes(StandardCharsets.UTF_8).length;
                    charge(n);
                    written += n;
                    try {
                        w.write(clean);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                @Override
                public void close() {
                    try {
                        w.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    event("artifact.written", Json.object().put("name", name).put("bytes", written));
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public java.util.Optional<JsonNode> savedPlan() {
        return store.read(tx -> tx.approvals().plan(job.id())).map(Json::parse);
    }

    @Override
    public void savePlan(JsonNode plan) {
        String clean = ledger.redactor().scrub(Json.canonical(plan));
        store.write(tx -> {
            tx.approvals().putPlan(job.id(), clean, clock.millis());
            return null;
        });
    }

    @Override
    public Approval approval(String actionKey, ObjectNode action, List<String> reasons, String summary,
                             java.time.Duration ttl) {
        checkpoint();
        var row = new dev.warden.agent.Approvals(store, ledger, clock)
                .request(job.id(), job.leaseOwner(), actionKey, action, reasons, summary, ttl);
        return new Approval(row.id(), row.state(), row.decidedBy(), row.note());
    }

    @Override
    public void event(String event, ObjectNode details) {
        ledger.record(store, EventDraft.info(event, job.kind(), job.id(), job.leaseOwner(), details));
    }

    // ------------------------------------------------------------------ tools

    @Override
    public ToolResult tool(String name, ObjectNode args) {
        checkpoint();
        if (!policy.tools().contains(name)) {
            throw deny("tool", name, "tools.allow does not include it");
        }
        if (!dev.warden.tool.BuiltinTools.NAMES.contains(name)) {
            ObjectNode d = Json.object().put("name", name).put("outcome", "unavailable");
            event("tool.call", d);
            throw JobFailure.permanent("tool_unavailable", "tool " + name + " is not available ("
                    + (name.startsWith("mcp:") ? "MCP servers are not part of this build" : "no such built-in tool") + ")");
        }
        String crossed = meter.chargeToolCall();
        if (crossed != null) {
            throw budgetExceeded(crossed, "tool call budget of " + meter.budgets().toolCalls() + " spent");
        }
        long t0 = clock.millis();
        JsonNode out;
        try {
            out = dev.warden.tool.BuiltinTools.run(name, args == null ? Json.object() : args, this);
        } catch (IllegalArgumentException bad) {
            event("tool.call", Json.object().put("name", name).put("outcome", "bad_input").put("error", bad.getMessage()));
            throw JobFailure.permanent("bad_input", "tool " + name + ": " + bad.getMessage());
        } catch (JobFailure f) {
            if (!f.code().equals("policy_denied") && !f.code().startsWith("budget_exceeded") && !(f instanceof JobFailure.Stop)) {
                event("tool.call", Json.object().put("name", name).put("outcome", "error").put("error", f.code() + ": " + f.getMessage()));
            }
            throw f;
        } catch (UncheckedIOException io) {
            String why = io.getCause() == null ? String.valueOf(io.getMessage()) : io.getCause().toString();
            event("tool.call", Json.object().put("name", name).put("outcome", "error").put("error", why));
            throw JobFailure.permanent("tool_error", "tool " + name + " failed: " + why);
        }
        String text = ledger.redactor().scrub(Json.write(out));
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        charge(bytes);
        JsonNode clean = Json.parse(text);
        ObjectNode d = Json.object().put("name", name).put("outcome", "ok").put("output_bytes", bytes)
                .put("duration_ms", clock.millis() - t0).put("tool_calls", meter.toolCalls());
        d.set("args", args == null ? Json.object() : args.deepCopy());
        if (recordContent) {
            d.put("content_ref", putContent("tool_output", clean));
        }
        event("tool.call", d);
        return new ToolResult(name, clean);
    }

    // ------------------------------------------------------------------ models

    @Override
    public ModelReply model(String purpose, ModelRequest request) {
        checkpoint();
        dev.warden.model.Router router = models.get();
        ObjectNode body = Json.object().put("model", purpose);
        com.fasterxml.jackson.databind.node.ArrayNode messages = body.putArray("messages");
        for (Message m : request.messages()) {
            messages.addObject().put("role", m.role()).put("content", m.content());
        }
        if (request.maxOutputTokens() != null) {
            body.put("max_tokens", request.maxOutputTokens());
        }
        if (request.temperature() != null) {
            body.put("temperature", request.temperature());
        }
        // the job's USD cap: the tighter of the operator's per-job cap and the job's own budget, over all attempts
        long cap = -1;
        java.util.Optional<java.math.BigDecimal> operatorCap = router.config().budget().usdPerJob();
        java.math.BigDecimal jobUsd = meter.budgets().usd();
        if (operatorCap.isPresent() || jobUsd != null) {
            java.math.BigDecimal c = operatorCap.isPresent() && jobUsd != null ? operatorCap.get().min(jobUsd)
                    : operatorCap.orElse(jobUsd);
            cap = dev.warden.model.Usd.toNano(c);
        }
        dev.warden.model.Spend.Scope scope = new dev.warden.model.Spend.Scope("job:" + job.id(), "", cap, "usd");
        dev.warden.model.Router.TokenBudget tokens = new dev.warden.model.Router.TokenBudget() {
            @Override
            public boolean reserve(long n) {
                return meter.reserveTokens(n);
            }

            @Override
            public void settle(long reserved, long actual) {
                meter.settleTokens(reserved, actual);
            }
        };
        dev.warden.model.Router.Caller caller = new dev.warden.model.Router.Caller(job.kind(), job.id(), job.leaseOwner(),
                List.of(scope), java.util.Optional.of(tokens), recordContent ? java.util.Optional.of(this::putContent) : java.util.Optional.empty(),
                t -> true);
        try {
            dev.warden.model.Router.Completion c = router.complete(caller, purpose, body);
            meter.addUsdNano(c.record().actualNano());
            dev.warden.model.Router.CallRecord r = c.record();
            String text = c.response().path("choices").path(0).path("message").path("content").asText("");
            return new ModelReply(text, r.provider(), r.model(), r.inputTokens(), r.outputTokens(),
                    dev.warden.model.Usd.fromNano(r.actualNano()), r.fallbackUsed());
        } catch (dev.warden.model.Router.CallFailed e) {
            meter.addUsdNano(e.record().actualNano());
            if (e.budget() != null) {
                ObjectNode d = Json.object().put("budget", e.budget()).put("message", e.getMessage())
                        .put("tokens", meter.tokens()).put("usd", dev.warden.model.Usd.format(meter.usdNano()));
                ledger.record(store, EventDraft.warn("budget.exceeded", "policy", job.id(), job.leaseOwner(), d));
                throw JobFailure.budgetExceeded(e.budget(), e.getMessage());
            }
            if (e.code().equals("kill_switch")) {
                throw new JobFailure.Stop("kill_switch", e.getMessage());
            }
            if (e.code().equals("all_candidates_failed")) {
                throw JobFailure.transientError("model call failed: " + e.getMessage());
            }
            throw JobFailure.permanent("model_" + e.code(), e.getMessage());
        }
    }

    @Override
    public boolean hasModel(String purpose) {
        return models.get().candidates(purpose).isPresent();
    }

    /** Keeps a prompt or response (secret-scrubbed, content-addressed) in the evidence's {@code content/}. */
    private String putContent(String kind, JsonNode content) {
        String text = ledger.redactor().scrub(Json.write(Json.object().put("kind", kind).set("content", content)));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        String sha = dev.warden.common.Ids.sha256Hex(bytes);
        Path dir = artifactsDir.getParent().resolve("content");
        try {
            Files.createDirectories(dir);
            Path target = dir.resolve(sha + ".json");
            if (!Files.exists(target)) {
                Path tmp = dir.resolve("." + sha + ".tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "content/" + sha + ".json";
    }

    // ------------------------------------------------------------------ the chain's checks

    private Path requireInside(Path p, List<String> roots, String act, String rule) {
        Path real = PathRules.resolve(p);
        if (!PathRules.isInsideAny(real, roots)) {
            throw deny(act, p.toString(), rule + " does not include it (resolved to " + real + ")");
        }
        return real;
    }

    private JobFailure deny(String act, String target, String reason) {
        ObjectNode d = Json.object().put("act", act).put("target", target).put("reason", reason);
        ledger.record(store, EventDraft.warn("policy.denied", "policy", job.id(), job.leaseOwner(), d));
        return JobFailure.denied(act + " " + target + ": " + reason);
    }

    private void charge(long bytes) {
        String crossed = meter.chargeOutput(bytes);
        if (crossed != null) {
            throw budgetExceeded(crossed, "output budget of " + meter.budgets().outputBytes() + " bytes would be exceeded");
        }
    }

    private JobFailure budgetExceeded(String which, String message) {
        ObjectNode d = Json.object().put("budget", which).put("message", message)
                .put("output_bytes", meter.outputBytes()).put("elapsed_ms", meter.elapsedMillis());
        ledger.record(store, EventDraft.warn("budget.exceeded", "policy", job.id(), job.leaseOwner(), d));
        return JobFailure.budgetExceeded(which, message);
    }
}
