package dev.warden.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.job.JobContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The built-in tools a job (or an agent) may call through {@link JobContext#tool}: {@code fs.read},
 * {@code fs.list} and {@code fs.grep}. They act only through the context's governed file access,
 * so {@code paths.read} (after resolving symlinks) applies to every file they touch. Arguments are
 * checked here; a bad one is an {@link IllegalArgumentException} naming the field.
 */
public final class BuiltinTools {
    public static final Set<String> NAMES = Set.of("fs.read", "fs.list", "fs.grep");
    static final int MAX_READ = 1024 * 1024;

    private BuiltinTools() {}

    public static JsonNode run(String name, JsonNode args, JobContext ctx) {
        return switch (name) {
            case "fs.read" -> read(args, ctx);
            case "fs.list" -> list(args, ctx);
            case "fs.grep" -> grep(args, ctx);
            default -> throw new IllegalArgumentException("name: '" + name + "' is not a built-in tool " + NAMES);
        };
    }

    private static JsonNode read(JsonNode args, JobContext ctx) {
        Path path = path(args, "path");
        int max = intArg(args, "max_bytes", 64 * 1024, 1, MAX_READ);
        byte[] bytes = ctx.readFile(path, max + 1);
        boolean truncated = bytes.length > max;
        String text = new String(bytes, 0, Math.min(bytes.length, max), StandardCharsets.UTF_8);
        return Json.object().put("path", path.toString()).put("text", text).put("truncated", truncated);
    }

    private static JsonNode list(JsonNode args, JobContext ctx) {
        Path root = path(args, "root");
        int max = intArg(args, "max_files", 1000, 1, 100_000);
        JobContext.FileListing l = ctx.listFiles(root, max);
        ObjectNode out = Json.object().put("root", root.toString()).put("truncated", l.truncated()).put("skipped_symlinks", l.skippedSymlinks());
        ArrayNode files = out.putArray("files");
        l.files().forEach(f -> files.add(f.toString()));
        return out;
    }

    /** Lines containing {@code pattern} (a literal string: no regular expressions, so no catastrophic backtracking). */
    private static JsonNode grep(JsonNode args, JobContext ctx) {
        Path root = path(args, "root");
        if (!args.path("pattern").isTextual() || args.path("pattern").asText().isEmpty() || args.path("pattern").asText().length() > 1000) {
            throw new IllegalArgumentException("args.pattern: required, a literal string of 1-1000 characters");
        }
        String pattern = args.get("pattern").asText();
        int max = intArg(args, "max_matches", 100, 1, 10_000);
        JobContext.FileListing l = ctx.listFiles(root, 10_000);
        ObjectNode out = Json.object().put("root", root.toString()).put("pattern", pattern);
        ArrayNode matches = out.putArray("matches");
        boolean truncated = l.truncated();
        for (Path f : l.files()) {
            ctx.checkpoint();
            String[] lines = new String(ctx.readFile(f, MAX_READ), StandardCharsets.UTF_8).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].contains(pattern)) {
                    if (matches.size() >= max) {
                        truncated = true;
                        break;
                    }
                    String line = lines[i].length() > 500 ? lines[i].substring(0, 500) + "…" : lines[i];
                    matches.addObject().put("file", f.toString()).put("line", i + 1).put("match", line);
                }
            }
            if (matches.size() >= max) {
                break;
            }
        }
        return out.put("truncated", truncated);
    }

    private static Path path(JsonNode args, String field) {
        if (!args.path(field).isTextual() || !args.get(field).asText().startsWith("/")) {
            throw new IllegalArgumentException("args." + field + ": required, an absolute path");
        }
        try {
            return Path.of(args.get(field).asText());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("args." + field + ": not a valid path (" + e.getReason() + ")");
        }
    }

    private static int intArg(JsonNode args, String field, int dflt, int min, int max) {
        if (!args.has(field)) {
            return dflt;
        }
        JsonNode v = args.get(field);
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw new IllegalArgumentException("args." + field + ": must be an integer between " + min + " and " + max);
        }
        return v.asInt();
    }
}
