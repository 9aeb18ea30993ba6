package dev.warden.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.model.Usd;
import dev.warden.queue.JobJson;
import dev.warden.store.Tx;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "gateway", description = "The OpenAI-compatible gateway's client tokens.", subcommands = GatewayCommand.Token.class)
final class GatewayCommand implements Runnable {
    @ParentCommand
    Main main;

    @Override
    public void run() {
        main.spec.commandLine().getSubcommands().get("gateway").usage(main.spec.commandLine().getOut());
    }

    @Command(name = "token", description = "Create, list and revoke gateway client tokens.",
            subcommands = {Token.Create.class, Token.ListTokens.class, Token.Revoke.class})
    static final class Token implements Runnable {
        @ParentCommand
        GatewayCommand parent;

        @Override
        public void run() {
            parent.main.spec.commandLine().getSubcommands().get("gateway").getSubcommands().get("token")
                    .usage(parent.main.spec.commandLine().getOut());
        }

        Main main() {
            return parent.main;
        }

        @Command(name = "create", description = "Create a client token (printed once; only its hash is kept).")
        static final class Create implements Callable<Integer> {
            @ParentCommand
            Token token;

            @Parameters(index = "0", paramLabel = "NAME", description = "A name for the client (letters, digits, _ . -).")
            String name;

            @Option(names = "--budget-usd-per-day", required = true, paramLabel = "USD", description = "Daily spend cap of this token.")
            String budget;

            @Option(names = "--routes", required = true, split = ",", paramLabel = "ROUTE",
                    description = "Routes or model ids the token may use, comma-separated (* for all).")
            List<String> routes;

            @Override
            public Integer call() {
                BigDecimal usd;
                try {
                    usd = new BigDecimal(budget.strip());
                } catch (NumberFormatException e) {
                    throw WardenException.badInput("--budget-usd-per-day: '" + budget + "' is not a number");
                }
                try (WardenApp app = token.main().openApp()) {
                    String t = app.gatewayTokens().create(name, usd, routes.stream().map(String::strip).toList(),
                            app.config().models(), Actors.cli());
                    PrintWriter out = token.main().spec.commandLine().getOut();
                    out.println(t);
                    token.main().spec.commandLine().getErr().println("gateway token '" + name + "' created (budget "
                            + usd.toPlainString() + " USD/day, routes " + String.join(",", routes)
                            + "); it is shown only now. Use it as the API key of an OpenAI client with base URL http://<console>/v1");
                }
                return 0;
            }
        }

        @Command(name = "list", description = "List client tokens (names, fingerprints, budgets; never the tokens).")
        static final class ListTokens implements Callable<Integer> {
            @ParentCommand
            Token token;

            @Option(names = "--json", description = "Print JSON.")
            boolean json;

            @Override
            public Integer call() {
                try (WardenApp app = token.main().openApp()) {
                    String today = app.spend().today();
                    PrintWriter out = token.main().spec.commandLine().getOut();
                    ArrayNode arr = Json.NODES.arrayNode();
                    if (!json) {
                        out.printf("%-20s %-18s %-12s %-12s %-8s %s%n", "NAME", "FINGERPRINT", "USD/DAY", "SPENT TODAY", "STATE", "ROUTES");
                    }
                    for (Tx.GatewayTokenRow r : app.gatewayTokens().list()) {
                        String spent = Usd.format(app.spend().spentNano("token:" + r.name(), today));
                        String state = r.revokedAt() == null ? "active" : "revoked";
                        if (json) {
                            arr.addObject().put("name", r.name()).put("fingerprint", r.fingerprint())
                                    .put("usd_per_day", Usd.format(r.usdPerDayNano())).put("spent_today_usd", spent)
                                    .put("state", state).put("routes", r.routes()).put("created_at", JobJson.iso(r.createdAt()));
                        } else {
                            out.printf("%-20s %-18s %-12s %-12s %-8s %s%n", r.name(), r.fingerprint(), Usd.format(r.usdPerDayNano()),
                                    spent, state, r.routes());
                        }
                    }
                    if (json) {
                        out.println(Json.pretty(arr));
                    }
                }
                return 0;
            }
        }

        @Command(name = "revoke", description = "Revoke a client token (takes effect within a second).")
        static final class Revoke implements Callable<Integer> {
            @ParentCommand
            Token token;

            @Parameters(index = "0", paramLabel = "NAME")
            String name;

            @Override
            public Integer call() {
                try (WardenApp app = token.main().openApp()) {
                    if (!app.gatewayTokens().revoke(name, Actors.cli())) {
                        throw WardenException.notFound("gateway token '" + name + "' does not exist or is already revoked");
                    }
                    token.main().spec.commandLine().getOut().println("revoked " + name);
                }
                return 0;
            }
        }
    }
}
