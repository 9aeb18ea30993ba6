package dev.warden.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.store.Store;
import java.util.List;

/**
 * A provider as status shows it (CLI, API, console): its key as a masked fingerprint (or why there
 * is none) and its breaker as last written to the store by any node's router.
 */
public record ProviderStatus(String id, String baseUrl, boolean local, String key, String breaker, String lastErrorClass) {

    public static List<ProviderStatus> of(ModelsConfig models, Store store, ProviderKeys keys) {
        return models.providers().values().stream().map(p -> {
            String key = p.key().isEmpty() ? "(none)"
                    : keys.resolve(p.key()).map(ProviderKeys::mask).orElse("MISSING (" + p.key().get() + ")");
            JsonNode b = store.read(tx -> tx.setting(Router.breakerSetting(p.id()))).map(Json::parse).orElse(null);
            return new ProviderStatus(p.id(), p.baseUrl().toString(), p.local(), key,
                    b == null ? "CLOSED" : b.path("state").asText(), b == null ? null : b.path("last_error_class").asText(null));
        }).toList();
    }

    public ObjectNode toJson() {
        return Json.object().put("id", id).put("base_url", baseUrl).put("local", local).put("key", key).put("breaker", breaker)
                .put("last_error_class", lastErrorClass);
    }
}
