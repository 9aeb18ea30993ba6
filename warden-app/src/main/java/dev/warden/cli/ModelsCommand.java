package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.health.ProviderProbes;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.model.ProviderStatus;
import dev.warden.model.Usd;
import dev.warden.store.Tx;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "models", description = "Model providers: status and doctor.",
        subcommands = {ModelsCommand.Status.class, ModelsCommand.Doctor.class})
final class ModelsCommand implements Runnable {
    @ParentCommand
    Main main;

    @Override
    public void run() {
        main.spec.commandLine().getSubcommands().get("models").usage(main.spec.commandLine().getOut());
    }

    @Command(name = "status", description = "Providers (masked keys, circuit breaker), models, routes and spend today against the caps.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        ModelsCommand parent;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                ModelsConfig m = app.config().models();
                ProviderKeys keys = ProviderKeys.fromSystem();
                ObjectNode n = Json.object();
                ArrayNode providers = n.putArray("providers");
                ProviderStatus.of(m, app.store(), keys).forEach(p -> providers.add(p.toJson()));
                ArrayNode routes = n.putArray("routes");
                m.routes().values().forEach(r -> routes.addObject().put("purpose", r.purpose()).put("primary", r.primary())
                        .put("fallbacks", String.join(",", r.fallbacks())).put("pinned", r.pinned()));
                String today = app.spend().today();
                ObjectNode spend = n.putObject("spend_today").put("day", today);
                long dayNano = 0;
                long tokens = 0;
                long calls = 0;
                ArrayNode scopes = spend.putArray("scopes");
                for (Tx.SpendRow r : app.spend().on(today)) {
                    if (r.scope().equals("day")) {
                        dayNano = r.spentNano();
                        tokens = r.tokens();
                        calls = r.calls();
                    } else {
                        scopes.addObject().put("scope", r.scope()).put("usd", Usd.format(r.spentNano())).put("calls", r.calls());
                    }
                }
                spend.put("usd", Usd.format(dayNano)).put("tokens", tokens).put("calls", calls);
                spend.put("cap_usd_per_day", m.budget().usdPerDay().map(java.math.BigDecimal::toPlainString).orElse("none"));
                PrintWriter out = parent.main.spec.commandLine().getOut();
                if (json) {
                    out.println(Json.pretty(app.redactor().redact(n)));
                    return 0;
                }
                if (m.isEmpty()) {
                    out.println("no model providers configured (see 'models' in warden.yaml)");
                }
                out.printf("%-16s %-40s %-6s %-22s %-10s %s%n", "PROVIDER", "BASE_URL", "LOCAL", "KEY", "BREAKER", "LAST_ERROR");
                for (JsonNode p : providers) {
                    out.printf("%-16s %-40s %-6s %-22s %-10s %s%n", p.get("id").asText(), p.get("base_url").asText(),
                            p.get("local").asBoolean() ? "yes" : "no", p.get("key").asText(), p.get("breaker").asText(),
                            p.path("last_error_class").asText("-"));
                }
                for (JsonNode r : routes) {
                    out.printf("route %-14s %s%s%s%n", r.get("purpose").asText(), r.get("primary").asText(),
                            r.get("fallbacks").asText().isEmpty() ? "" : " -> " + r.get("fallbacks").asText(),
                            r.get("pinned").asBoolean() ? " (pinned)" : "");
                }
                out.printf("spend today (%s): %s USD of %s, %d calls, %d tokens%n", today, spend.get("usd").asText(),
                        spend.get("cap_usd_per_day").asText(), calls, tokens);
                for (JsonNode s : scopes) {
                    out.printf("  %-30s %s USD, %d calls%n", s.get("scope").asText(), s.get("usd").asText(), s.get("calls").asLong());
                }
            }
            return 0;
        }
    }

    @Command(name = "doctor", description = "Probes each provider (GET <base_url>/models): OK, DEGRADED or DOWN with the last error class. "
            + "Exit 0 all OK, 10 some DEGRADED, 20 some DOWN.")
    static final class Doctor implements Callable<Integer> {
        @ParentCommand
        ModelsCommand parent;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                ModelsConfig m = app.config().models();
                ProviderKeys keys = ProviderKeys.fromSystem();
                ArrayNode arr = Json.NODES.arrayNode();
                int worst = 0;
                for (ProviderProbes.Probe p : ProviderProbes.probeAll(m, keys, app.redactor(), null)) {
                    worst = Math.max(worst, switch (p.status()) {
                        case OK -> 0;
                        case DEGRADED -> 10;
                        case DOWN -> 20;
                    });
                    arr.addObject().put("provider", p.provider()).put("status", p.status().name()).put("last_error_class", p.lastErrorClass())
                            .put("latency_ms", p.latencyMs()).put("detail", p.detail());
                }
                PrintWriter out = parent.main.spec.commandLine().getOut();
                if (json) {
                    out.println(Json.pretty(arr));
                } else if (arr.isEmpty()) {
                    out.println("no model providers configured");
                } else {
                    for (JsonNode x : arr) {
                        out.printf("%-16s %-9s last_error_class=%s latency_ms=%d %s%n", x.get("provider").asText(), x.get("status").asText(),
                                x.path("last_error_class").asText("-").equals("null") ? "-" : x.path("last_error_class").asText("-"),
                                x.get("latency_ms").asLong(), x.get("detail").asText());
                    }
                }
                return worst;
            }
        }
    }
}
