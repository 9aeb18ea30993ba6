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
 * deterministically ({@link Compactor}); writes {@code artifacts/<output>}. A model-assisted pass
 * arrives with the model router and only ever starts from this deterministic result.
 */
public final class DocCompactorKind implements JobKind {
    static final int DEFAULT_MAX_INPUT = 10 * 1024 * 1024;

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
        String output = p.path("output").asText("compacted.md");
        try (JobContext.ArtifactWriter w = ctx.openArtifact(output)) {
            w.write(r.text());
        }
        int outBytes = r.text().getBytes(StandardCharsets.UTF_8).length;
        ObjectNode result = Json.object();
        result.put("inputs", docs.size());
        result.put("input_bytes", inputBytes);
        result.put("output", "artifacts/" + output);
        result.put("output_bytes", outBytes);
        result.put("target_bytes", target);
        result.put("met_target", outBytes <= target);
        result.put("ratio", inputBytes == 0 ? 1.0 : Math.round(outBytes * 1000.0 / inputBytes) / 1000.0);
        result.put("mode", "deterministic");
        ObjectNode removed = result.putObject("removed");
        removed.put("boilerplate_lines", r.stats().boilerplateLines());
        removed.put("duplicate_paragraphs", r.stats().duplicateParagraphs());
        removed.put("shortened_paragraphs", r.stats().shortenedParagraphs());
        removed.put("dropped_paragraphs", r.stats().droppedParagraphs());
        removed.put("cut_at_target", r.stats().cut());
        return result;
    }
}
