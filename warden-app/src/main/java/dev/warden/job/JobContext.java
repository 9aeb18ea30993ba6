package dev.warden.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.exec.ExecRequest;
import dev.warden.exec.ExecResult;
import dev.warden.policy.Budgets;
import dev.warden.policy.Policy;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The only way a handler acts. Every method is governed: checked against the job's policy,
 * charged to its budgets, and recorded in the ledger and the job's evidence. A denied act throws
 * {@link JobFailure} (after recording {@code policy.denied}); so does a crossed budget.
 */
public interface JobContext {
    String jobId();

    int attempt();

    JsonNode payload();

    Policy policy();

    Budgets budgets();

    Clock clock();

    /** Throws if the job was cancelled or its wall-time budget is spent: call it in loops. */
    void checkpoint();

    /** Checks that {@code repo} is inside the job's policy {@code repos} (after resolving symlinks); returns its real path. */
    Path requireRepo(Path repo);

    /** Regular files under {@code root} (which must be readable by policy), not following symlinks, skipping {@code .git}. */
    FileListing listFiles(Path root, int maxFiles);

    /** Reads at most {@code maxBytes} of a file inside {@code paths.read} (checked after resolving symlinks). */
    byte[] readFile(Path file, int maxBytes);

    /** Appends text to a file inside {@code paths.write}; charged to {@code output_bytes}. */
    void appendFile(Path file, String text);

    /**
     * Runs an allowlisted program: argv only (never a shell string), the executable resolved and
     * checked against {@code exec.allow}, the environment replaced, the working directory inside
     * {@code paths.write}, isolated as the operator policy requires (bubblewrap by default; no
     * silent fallback), output capped, the whole tree killed on timeout, cancellation or budget end.
     */
    ExecResult exec(ExecRequest request);

    /** This attempt's private scratch directory (created on first use, removed when the attempt ends); always writable by its processes. */
    Path workDir();

    /**
     * A writable copy of {@code repo} (which must be in the policy's {@code repos}) checked out at
     * {@code commit}, inside {@link #workDir()}. Returns the copy and the resolved commit.
     */
    Checkout checkout(Path repo, String commit);

    /** The repository's state (HEAD and changed files), to detect a job changing a repository it should only read. */
    RepoState repoState(Path repo);

    record Checkout(Path dir, String commit) {}

    record RepoState(String head, List<String> changes) {}

    /** Opens {@code artifacts/<name>} in the evidence bundle for writing; every byte is charged to {@code output_bytes}. */
    ArtifactWriter openArtifact(String name);

    /**
     * Calls a model through the router: {@code purpose} names a route ({@code general},
     * {@code doc_compactor}, …) or a model id. Charged to the job's token and USD budgets (reserved
     * before, settled after), recorded as {@code model.call} without content; the prompt and the
     * response go (secret-scrubbed) to the evidence's {@code content/} unless the operator turned
     * content recording off. A crossed budget ends the job with {@code budget_exceeded:<which>}.
     */
    ModelReply model(String purpose, ModelRequest request);

    /** Whether {@code purpose} is a configured route (or model id), so a kind can choose its model-assisted path. */
    boolean hasModel(String purpose);

    record Message(String role, String content) {}

    /** {@code maxOutputTokens} and {@code temperature} may be null (the route's caps apply). */
    record ModelRequest(List<Message> messages, Integer maxOutputTokens, Double temperature) {}

    record ModelReply(String text, String provider, String model, long inputTokens, long outputTokens,
                      java.math.BigDecimal usd, boolean fallbackUsed) {}

    /**
     * Calls a tool: it must be in the job's {@code tools.allow} (else {@code policy.denied});
     * each call is charged to {@code tool_calls} (crossing it ends the job with
     * {@code budget_exceeded:tool_calls}) and its output to {@code output_bytes}; recorded as
     * {@code tool.call}, the output kept (scrubbed) in the evidence's {@code content/}. Built-in
     * tools: {@code fs.read}, {@code fs.list}, {@code fs.grep}; {@code mcp:<server>/<tool>} tools are
     * not available in this build (the call fails closed).
     */
    ToolResult tool(String name, ObjectNode args);

    record ToolResult(String name, JsonNode output) {}

    /** The plan this job's brain proposed in an earlier attempt (with each action's outcome so far), if any. */
    java.util.Optional<JsonNode> savedPlan();

    /** Saves the job's plan (scrubbed of secrets), so a resumed attempt carries on with it instead of planning anew. */
    void savePlan(JsonNode plan);

    /**
     * The approvals-queue request for the escalated action {@code actionKey} of this job: the
     * existing one in whatever state it is, or a new {@code pending} one expiring after {@code ttl}
     * (recorded as {@code approval.requested}). Approval is consent, not a policy bypass: an
     * approved action still goes through the same governed methods. End the attempt with
     * {@link JobFailure.Escalated} while any request is pending.
     */
    Approval approval(String actionKey, ObjectNode action, List<String> reasons, String summary, java.time.Duration ttl);

    /** {@code state}: pending, approved, rejected, expired or withdrawn. */
    record Approval(String id, String state, String decidedBy, String note) {}

    /** Records a kind-specific event in the ledger and evidence. */
    void event(String event, ObjectNode details);

    record FileListing(List<Path> files, int skippedSymlinks, boolean truncated) {}

    interface ArtifactWriter extends Closeable {
        void write(String text);

        @Override
        void close();
    }
}
