package dev.warden.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.job.JobContext;
import dev.warden.job.JobKind;
import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code doc_compactor}: compacts documents (read through {@code paths.read}) to a size target,
 * deterministically ({@link Compactor}); writes {@code artifacts/<output>}. When the route
 * {@code doc_compactor} is configured (and {@code payload.model} is not {@code off}), a model pass
 * rewrites the deterministic result; its answer is kept only if it is non-empty and within the
 * target, otherwise the deterministic result stands and the reason is in the result. A model that
 * cannot be reached leaves the deterministic result; a crossed budget ends the job.
 */
public final class DocCompactorKind implements JobKind {
    static final int DEFAULT_MAX_INPUT = 10 * 1024 * 1024;
    static final String ROUTE = "doc_compactor";

    @Override
    public String name() {
        return "doc_compactor";
    }

    @Override
    public String payloadSchema() {
        return "kinds/doc_compactor.schema.json";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public List<String> denials(JsonNode payload, Policy jobPolicy) {
        List<String> out = new ArrayList<>();
        JsonNode inputs = payload.path("inputs");
        for (int i = 0; i < inputs.size(); i++) {
            Path p = Path.of(inputs.get(i).asText());
            if (!PathRules.isInsideAny(p, jobPolicy.readPaths())) {
                out.add("payload.inputs[" + i + "]: " + p + " is outside the job's policy paths.read");
            }
        }
        return out;
    }

    @Override
    public JsonNode run(JobContext ctx) {
        JsonNode p = ctx.payload();
        int target = p.get("target_bytes").asInt();
        int maxInput = p.path("max_input_bytes").asInt(DEFAULT_MAX_INPUT);
        List<Compactor.Document> docs = new ArrayList<>();
        long inputBytes = 0;
        for (JsonNode in : p.get("inputs")) {
            ctx.checkpoint();
            Path path = Path.of(in.asText());
            byte[] bytes = ctx.readFile(path, maxInput);
            inputBytes += bytes.length;
            docs.add(new Compactor.Document(path.getFileName().toString(), new String(bytes, StandardCharsets.UTF_8)));
        }
        Compactor.Result r = Compactor.compact(docs, target);
        String text = r.text();
        String mode = "deterministic";
        ObjectNode modelPass = null;
        if (!p.path("model").asText("auto").equals("off") && ctx.hasModel(ROUTE)) {
            modelPass = Json.object();
            try {
                JobContext.ModelReply reply = ctx.model(ROUTE, new JobContext.ModelRequest(List.of(
                        new JobContext.Message("system", "You compact documents. Keep every heading and every key line "
                                + "(decisions, numbers, names, commands). Remove repetition and filler. Answer with the "
                                + "compacted Markdown only, at most " + target + " bytes."),
                        new JobContext.Message("user", text)), Math.max(16, target / 3), 0.0));
                int bytes = reply.text().getBytes(StandardCharsets.UTF_8).length;
                modelPass.put("model", reply.model()).put("provider", reply.provider()).put("output_bytes", bytes)
                        .put("usd", reply.usd().toPlainString());
                if (reply.text().isBlank()) {
                    modelPass.put("kept", false).put("reason", "the model answered nothing");
                } else if (bytes > target) {
                    modelPass.put("kept", false).put("reason", "the model's answer (" + bytes + " bytes) is over the target");
                } else {
                    text = reply.text();
                    mode = "model";
                    modelPass.put("kept", true);
                }
            } catch (dev.warden.job.JobFailure f) {
                if (f.code().startsWith("budget_exceeded") || f instanceof dev.warden.job.JobFailure.Stop) {
                    throw f;
                }
                modelPass.put("kept", false).put("reason", "model call failed: " + f.code());
            }
        }
        String output = p.path("output").asText("compacted.md");
        try (JobContext.ArtifactWriter w = ctx.openArtifact(output)) {
            w.write(text);
        }
        int outBytes = text.getBytes(StandardCharsets.UTF_8).length;
        ObjectNode result = Json.object();
        result.put("inputs", docs.size());
        result.put("input_bytes", inputBytes);
        result.put("output", "artifacts/" + output);
        result.put("output_bytes", outBytes);
        result.put("target_bytes", target);
        result.put("met_target", outBytes <= target);
        result.put("ratio", inputBytes == 0 ? 1.0 : Math.round(outBytes * 1000.0 / inputBytes) / 1000.0);
        result.put("mode", mode);
        if (modelPass != null) {
            result.set("model_pass", modelPass);
        }
        ObjectNode removed = result.putObject("removed");
        removed.put("boilerplate_lines", r.stats().boilerplateLines());
        removed.put("duplicate_paragraphs", r.stats().duplicateParagraphs());
        removed.put("shortened_paragraphs", r.stats().shortenedParagraphs());
        removed.put("dropped_paragraphs", r.stats().droppedParagraphs());
        removed.put("cut_at_target", r.stats().cut());
        return result;
    }
}
