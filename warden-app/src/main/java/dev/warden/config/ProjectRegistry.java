package dev.warden.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.common.Schemas;
import dev.warden.common.WardenException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The project registry, {@code <data_dir>/projects.json} (strict schema; invalid → refuse to
 * start, every violation listed). When it exists, a job's {@code project} must be one of its ids
 * (or {@code default}); without it, any well-formed project id is accepted.
 */
public record ProjectRegistry(Optional<Path> source, Map<String, Project> projects) {
    public static final String FILE_NAME = "projects.json";

    public record Project(String id, String name, String description, String repo, String owner, Map<String, String> labels) {}

    public static ProjectRegistry load(Path dataDir) {
        Path f = dataDir.resolve(FILE_NAME);
        if (!Files.exists(f)) {
            return new ProjectRegistry(Optional.empty(), Map.of());
        }
        JsonNode doc;
        try {
            doc = Json.MAPPER.readTree(Files.readString(f));
        } catch (JsonProcessingException e) {
            throw WardenException.badInput("projects " + f + ": not valid JSON at line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw WardenException.badInput("projects " + f + ": cannot read: " + e.getMessage());
        }
        if (doc == null || !doc.isObject()) {
            throw WardenException.invalid("projects " + f, List.of("(document): must be a JSON object with a projects array"));
        }
        List<String> violations = new ArrayList<>(Schemas.validate("projects.schema.json", doc, ""));
        Map<String, Project> byId = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode p : doc.path("projects")) {
            String id = p.path("id").asText();
            if (byId.containsKey(id)) {
                violations.add("projects[" + i + "].id: '" + id + "' is used by another project");
            }
            Map<String, String> labels = new LinkedHashMap<>();
            p.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            byId.put(id, new Project(id, p.path("name").asText(id), p.path("description").asText(""), p.path("repo").asText(null),
                    p.path("owner").asText(null), Map.copyOf(labels)));
            i++;
        }
        if (!violations.isEmpty()) {
            throw WardenException.invalid("projects " + f + " is invalid; refusing to start", violations);
        }
        return new ProjectRegistry(Optional.of(f), java.util.Collections.unmodifiableMap(byId));
    }

    /** Why a job may not name {@code project}, or empty when it may. */
    public Optional<String> refusal(String project) {
        if (source.isEmpty() || project.equals(dev.warden.job.JobSpec.DEFAULT_PROJECT) || projects.containsKey(project)) {
            return Optional.empty();
        }
        return Optional.of("project: '" + project + "' is not in the project registry (" + String.join(", ", projects.keySet()) + ")");
    }
}
