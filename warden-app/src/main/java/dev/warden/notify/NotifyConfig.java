package dev.warden.notify;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code notify} section: webhooks with the events each wants (none listed: all of them),
 * the rate limit per check id ({@code rate_limit_minutes}, default 30) and {@code dry_run}.
 */
public record NotifyConfig(List<Webhook> webhooks, Duration rateLimit, boolean dryRun) {
    /** The events a webhook can ask for. {@code job.failed} also covers jobs that end {@code dead}. */
    public static final Set<String> EVENTS = Set.of("job.failed", "job.dead", "approval.requested", "canary.fail", "budget.exceeded");
    public static final Duration DEFAULT_RATE_LIMIT = Duration.ofMinutes(30);

    public record Webhook(URI url, Set<String> events) {
        public boolean wants(String event) {
            if (event.equals(Notification.TEST_EVENT) || events.isEmpty()) {
                return true;
            }
            return events.contains(event) || (event.equals("job.dead") && events.contains("job.failed"));
        }

        /**
         * The URL as shown in output and the ledger: scheme, host and port only. Webhook paths and
         * queries often carry a credential (a Slack or Teams hook is its own secret).
         */
        public String display() {
            String path = url.getRawPath() == null || url.getRawPath().isEmpty() || url.getRawPath().equals("/") ? "" : "/…";
            return url.getScheme() + "://" + url.getHost() + (url.getPort() > 0 ? ":" + url.getPort() : "") + path
                    + (url.getRawQuery() == null ? "" : "?…");
        }
    }

    public NotifyConfig {
        webhooks = List.copyOf(webhooks);
    }

    /** Reads the schema-validated {@code notify} node (missing: no webhooks). */
    public static NotifyConfig from(JsonNode notify) {
        List<Webhook> hooks = new ArrayList<>();
        for (JsonNode w : notify.path("webhooks")) {
            Set<String> events = new LinkedHashSet<>();
            w.path("events").forEach(e -> events.add(e.asText()));
            hooks.add(new Webhook(URI.create(w.path("url").asText()), Set.copyOf(events)));
        }
        Duration rate = notify.has("rate_limit_minutes") ? Duration.ofMinutes(notify.get("rate_limit_minutes").asLong())
                : DEFAULT_RATE_LIMIT;
        return new NotifyConfig(hooks, rate, notify.path("dry_run").asBoolean(false));
    }

    public boolean wantsAny(String event) {
        return webhooks.stream().anyMatch(w -> w.wants(event));
    }

    public boolean isEmpty() {
        return webhooks.isEmpty();
    }
}
