package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.testing.TestWarden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code JobContext.tool}: allowlisted, metered (tool_calls, output_bytes), recorded, fail closed. */
class ToolCallTest {
    static final String SECRET = "sk-live-PLANTED-tool-0a1b2c3d4e5f";

    @TempDir
    Path dir;
    WardenApp app;
    Path files;
    JobContext ctx;

    @BeforeEach
    void open() throws Exception {
        files = Files.createDirectories(dir.resolve("files"));
        Files.writeString(files.resolve("a.txt"), "alpha\nTODO: first\nomega " + SECRET + "\n");
        Files.writeString(files.resolve("b.txt"), "nothing here\nTODO: second\n");
        Files.createDirectories(dir.resolve("outside"));
        Files.writeString(dir.resolve("outside/secret.txt"), "not yours");
        Files.createSymbolicLink(files.resolve("escape.txt"), dir.resolve("outside/secret.txt"));
        app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), """
                policy:
                  tools: {allow: [fs.read, fs.grep, fs.list, "mcp:fs/read_file"]}
                  paths: {read: [%s]}
                """.formatted(dir));
        app.secrets().register(SECRET);
        ctx = context(3);
    }

    private JobContext context(int toolCalls) {
        ObjectNode spec = TestWarden.noop();
        spec.putObject("policy").putObject("tools").putArray("allow").add("fs.read").add("fs.grep").add("mcp:fs/read_file");
        ((ObjectNode) spec.get("policy")).putObject("paths").putArray("read").add(files.toString());
        ((ObjectNode) spec.get("budgets")).put("tool_calls", toolCalls);
        return ExecHarness.contextFor(app, spec, Optional.empty());
    }

    @AfterEach
    void close() {
        app.close();
    }

    @Test
    void allowedToolsRunThroughTheGovernedPathAndAreChargedAndRecorded() {
        JobContext.ToolResult read = ctx.tool("fs.read", Json.object().put("path", files.resolve("a.txt").toString()));
        assertThat(read.output().path("text").asText()).contains("TODO: first").contains("[secret]").doesNotContain(SECRET);
        JobContext.ToolResult grep = ctx.tool("fs.grep", Json.object().put("root", files.toString()).put("pattern", "TODO"));
        assertThat(grep.output().path("matches").findValuesAsText("match")).containsExactly("TODO: first", "TODO: second");
        String ledger = app.store().read(tx -> tx.ledgerByCorrId(ctx.jobId())).toString();
        assertThat(ledger).contains("tool.call").contains("\"name\":\"fs.grep\"").doesNotContain("TODO: first").doesNotContain(SECRET);
        // the third call is the last the budget allows; the fourth ends the job
        ctx.tool("fs.read", Json.object().put("path", files.resolve("b.txt").toString()));
        JobFailure f = catchThrowableOfType(JobFailure.class,
                () -> ctx.tool("fs.read", Json.object().put("path", files.resolve("b.txt").toString())));
        assertThat(f.code()).isEqualTo("budget_exceeded:tool_calls");
    }

    @Test
    void deniedUnknownUnavailableAndBadInputFailClosed() {
        ctx = context(10);
        JobFailure notAllowed = catchThrowableOfType(JobFailure.class,
                () -> ctx.tool("fs.list", Json.object().put("root", files.toString())));
        assertThat(notAllowed.code()).isEqualTo("policy_denied");
        assertThat(notAllowed.getMessage()).contains("tools.allow does not include it");
        JobFailure escape = catchThrowableOfType(JobFailure.class,
                () -> ctx.tool("fs.read", Json.object().put("path", files.resolve("escape.txt").toString())));
        assertThat(escape.code()).isEqualTo("policy_denied");
        assertThat(escape.getMessage()).contains("paths.read does not include it");
        JobFailure mcp = catchThrowableOfType(JobFailure.class, () -> ctx.tool("mcp:fs/read_file", Json.object()));
        assertThat(mcp.code()).isEqualTo("tool_unavailable");
        JobFailure missing = catchThrowableOfType(JobFailure.class,
                () -> ctx.tool("fs.read", Json.object().put("path", files.resolve("nope.txt").toString())));
        assertThat(missing.code()).isEqualTo("not_found");
        JobFailure dirRead = catchThrowableOfType(JobFailure.class, () -> ctx.tool("fs.read", Json.object().put("path", files.toString())));
        assertThat(dirRead.code()).isEqualTo("not_a_file");
        JobFailure bad = catchThrowableOfType(JobFailure.class, () -> ctx.tool("fs.read", Json.object().put("path", "relative.txt")));
        assertThat(bad.code()).isEqualTo("bad_input");
        assertThat(bad.getMessage()).contains("args.path: required, an absolute path");
        String ledger = app.store().read(tx -> tx.ledgerByCorrId(ctx.jobId())).toString();
        assertThat(ledger).contains("policy.denied").contains("\"outcome\":\"unavailable\"").contains("\"outcome\":\"bad_input\"")
                .contains("\"outcome\":\"error\"").contains("not_found");
    }
}
