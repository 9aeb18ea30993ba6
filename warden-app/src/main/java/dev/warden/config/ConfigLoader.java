package dev.warden.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.common.Schemas;
import dev.warden.common.WardenException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Loads {@code <data_dir>/warden.yaml} (or an explicit file; YAML or JSON), validates it against
 * the shipped schema and refuses, listing every violation, when it is invalid.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    public static WardenConfig load(Optional<Path> explicit, Path dataDir, List<String> defaultRoots) {
        Path file = explicit.orElse(dataDir.resolve("warden.yaml"));
        if (!Files.exists(file)) {
            if (explicit.isPresent()) {
                throw WardenException.badInput("--config: file " + file + " does not exist");
            }
            Path json = dataDir.resolve("warden.json");
            if (!Files.exists(json)) {
                return WardenConfig.defaults(defaultRoots);
            }
            file = json;
        }
        JsonNode doc;
        try {
            String text = Files.readString(file);
            doc = text.isBlank() ? Json.object() : Json.YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw WardenException.badInput("config " + file + ": not valid YAML/JSON at line "
                    + e.getLocation().getLineNr() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw WardenException.badInput("config " + file + ": cannot read: " + e.getMessage());
        }
        if (doc == null || doc.isNull() || doc.isMissingNode()) {
            doc = Json.object();
        }
        if (!doc.isObject()) {
            throw WardenException.invalid("config " + file, List.of("(document): must be a mapping"));
        }
        List<String> violations = Schemas.validate("config.schema.json", doc, "");
        if (!violations.isEmpty()) {
            throw WardenException.invalid("config " + file + " is invalid; refusing to start", violations);
        }
        return WardenConfig.from(doc, Optional.of(file), defaultRoots);
    }
}
