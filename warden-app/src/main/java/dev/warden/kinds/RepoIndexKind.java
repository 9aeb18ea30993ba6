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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code repo_index}: walks an allowlisted repository (bounded, skipping {@code .git}, symlinks and
 * binary files) and writes every line matching one of the payload's patterns (Java regular
 * expressions) to {@code artifacts/index.jsonl} as {@code {path, line, pattern, text}}.
 */
public final class RepoIndexKind implements JobKind {
    static final int MAX_LINE_CHARS = 2000;
    static final int BINARY_SNIFF_BYTES = 8000;

    @Override
    public String name() {
        return "repo_index";
    }

    @Override
    public String payloadSchema() {
        return "kinds/repo_index.schema.json";
    }

    @Override
    public boolean readOnly() {
        return true;
    }

    @Override
    public List<String> validate(JsonNode payload) {
        List<String> out = new ArrayList<>();
        JsonNode patterns = payload.path("patterns");
        for (int i = 0; i < patterns.size(); i++) {
            try {
                Pattern.compile(patterns.get(i).asText());
            } catch (PatternSyntaxException e) {
                out.add("payload.patterns[" + i + "]: not a valid regular expression (" + e.getDescription() + ")");
            }
        }
        return out;
    }

    @Override
    public List<String> denials(JsonNode payload, Policy jobPolicy) {
        return repoDenials(payload, jobPolicy);
    }

    /** A repo kind's {@code payload.repo} must be in the job's {@code repos} and readable under {@code paths.read}. */
    static List<String> repoDenials(JsonNode payload, Policy jobPolicy) {
        List<String> out = new ArrayList<>();
        Path repo = Path.of(payload.path("repo").asText());
        if (!PathRules.isInsideAny(repo, jobPolicy.repos())) {
            out.add("payload.repo: " + repo + " is not in the job's policy repos");
        }
        if (!PathRules.isInsideAny(repo, jobPolicy.readPaths())) {
            out.add("payload.repo: " + repo + " is outside the job's policy paths.read");
        }
        return out;
    }

    @Override
    public JsonNode run(JobContext ctx) {
        JsonNode p = ctx.payload();
        Path repo = Path.of(p.get("repo").asText());
        int maxFiles = p.path("max_files").asInt(10_000);
        int maxFileBytes = p.path("max_file_bytes").asInt(1_048_576);
        List<Pattern> patterns = new ArrayList<>();
        p.get("patterns").forEach(x -> patterns.add(Pattern.compile(x.asText())));

        Path root = ctx.requireRepo(repo);
        JobContext.FileListing listing = ctx.listFiles(root, maxFiles);
        int indexed = 0;
        int skippedBinary = 0;
        int skippedLarge = 0;
        long matches = 0;
        try (JobContext.ArtifactWriter out = ctx.openArtifact("index.jsonl")) {
            for (Path file : listing.files()) {
                ctx.checkpoint();
                byte[] bytes = ctx.readFile(file, maxFileBytes + 1);
                if (bytes.length > maxFileBytes) {
                    skippedLarge++;
                    continue;
                }
                if (isBinary(bytes)) {
                    skippedBinary++;
                    continue;
                }
                indexed++;
                String rel = root.relativize(file).toString();
                String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\r?\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    String line = lines[i];
                    for (Pattern pat : patterns) {
                        Matcher m = pat.matcher(line);
                        if (m.find()) {
                            ObjectNode rec = Json.object().put("path", rel).put("line", i + 1)
                                    .put("pattern", pat.pattern())
                                    .put("text", line.length() > MAX_LINE_CHARS ? line.substring(0, MAX_LINE_CHARS) : line);
                            out.write(Json.write(rec) + "\n");
                            matches++;
                        }
                    }
                }
            }
        }
        ObjectNode result = Json.object();
        result.put("files_considered", listing.files().size());
        result.put("files_indexed", indexed);
        result.put("matches", matches);
        result.put("skipped_binary", skippedBinary);
        result.put("skipped_too_large", skippedLarge);
        result.put("skipped_symlinks", listing.skippedSymlinks());
        result.put("truncated", listing.truncated());
        return result;
    }

    static boolean isBinary(byte[] bytes) {
        int n = Math.min(bytes.length, BINARY_SNIFF_BYTES);
        for (int i = 0; i < n; i++) {
            if (bytes[i] == 0) {
                return true;
            }
        }
        return false;
    }
}
