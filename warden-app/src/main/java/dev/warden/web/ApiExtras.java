package dev.warden.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.ledger.Ledger;
import dev.warden.model.ModelsConfig;
import dev.warden.model.ProviderKeys;
import dev.warden.model.ProviderStatus;
import dev.warden.model.Usd;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The read side of the REST API beyond jobs and schedules: evidence files, providers and spend,
 * the ledger (verify, tail), projects, approvals, and the OpenAPI description. Every route is under
 * {@code /api/*}, so the token check of {@link WebServer} applies.
 */
final class ApiExtras {
    private final WardenApp app;

    ApiExtras(WardenApp app) {
        this.app = app;
    }

    void register(RoutesConfig r) {
        r.get("/api/openapi.json", this::openapi);
        r.get("/api/jobs/{id}/evidence", this::evidenceList);
        r.get("/api/jobs/{id}/evidence/{kind}/{name}", this::evidenceFile);
        r.get("/api/providers", this::providers);
        r.get("/api/spend", this::spend);
        r.get("/api/ledger/verify", this::verify);
        r.get("/api/ledger/tail", this::tail);
        r.get("/api/projects", this::projects);
        r.get("/api/approvals", this::approvals);
        r.get("/api/approvals/{id}", ctx -> json(ctx, dev.warden.agent.Approvals.view(app.approvals().get(ctx.pathParam("id")))));
    }

    private void approvals(Context ctx) {
        String state = ctx.queryParam("state");
        String limit = ctx.queryParam("limit");
        int n;
        try {
            n = limit == null ? 100 : Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw dev.warden.common.WardenException.badInput("limit: '" + limit + "' is not a number");
        }
        ArrayNode arr = Json.NODES.arrayNode();
        app.approvals().list(state == null ? "pending" : state.equals("all") ? null : state, n)
                .forEach(r -> arr.add(dev.warden.agent.Approvals.view(r)));
        json(ctx, Json.object().set("approvals", arr));
    }

    private void json(Context ctx, JsonNode body) {
        ctx.status(200).contentType("application/json").result(Json.write(app.redactor().redact(body)));
    }

    private void openapi(Context ctx) {
        try (InputStream in = getClass().getResourceAsStream("/openapi.json")) {
            ctx.status(200).contentType("application/json").result(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void evidenceList(Context ctx) {
        JobRow job = app.queue().get(ctx.pathParam("id"));
        Path dir = app.evidence().materialize(job);
        ArrayNode files = Json.NODES.arrayNode();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                String rel = dir.relativize(f).toString();
                if (rel.startsWith(".") || rel.contains("/.")) {
                    continue;
                }
                files.addObject().put("name", rel).put("bytes", Files.size(f)).put("url", "/api/jobs/" + job.id() + "/evidence/" + rel);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        json(ctx, Json.object().put("job", job.id()).set("files", files));
    }

    /** One file of the bundle: {@code events.jsonl}/{@code summary.md} are served as {@code bundle/<name>}; else artifacts/ or content/. */
    private void evidenceFile(Context ctx) {
        String kind = ctx.pathParam("kind");
        String name = ctx.pathParam("name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw WardenException.badInput("name: '" + name + "' is not an evidence file name");
        }
        JobRow job = app.queue().get(ctx.pathParam("id"));
        Path dir = app.evidence().materialize(job);
        Path f = switch (kind) {
            case "artifacts", "content" -> dir.resolve(kind).resolve(name);
            case "bundle" -> dir.resolve(name);
            default -> throw WardenException.badInput("kind: '" + kind + "' must be artifacts, content or bundle");
        };
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !f.normalize().startsWith(dir)) {
            throw WardenException.notFound("evidence file " + kind + "/" + name + " of " + job.id() + " does not exist");
        }
        try {
            ctx.status(200).contentType(name.endsWith(".json") || name.endsWith(".jsonl") ? "application/json" : "text/plain; charset=utf-8")
                    .result(app.redactor().scrub(Files.readString(f)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void providers(Context ctx) {
        ModelsConfig m = app.config().models();
        ProviderKeys keys = ProviderKeys.fromSystem();
        ArrayNode arr = Json.NODES.arrayNode();
        ProviderStatus.of(m, app.store(), keys).forEach(p -> arr.add(p.toJson()));
        ObjectNode routes = Json.object();
        m.routes().values().forEach(r -> {
            ObjectNode x = routes.putObject(r.purpose()).put("primary", r.primary()).put("pinned", r.pinned());
            r.fallbacks().forEach(x.putArray("fallbacks")::add);
        });
        ObjectNode n = Json.object();
        n.set("providers", arr);
        n.set("routes", routes);
        json(ctx, n);
    }

    private void spend(Context ctx) {
        String day = Optional.ofNullable(ctx.queryParam("day")).orElse(app.spend().today());
        if (!day.matches("\\d{4}-\\d{2}-\\d{2}")) {
            throw WardenException.badInput("day: '" + day + "' must be YYYY-MM-DD");
        }
        ArrayNode scopes = Json.NODES.arrayNode();
        for (Tx.SpendRow r : app.spend().on(day)) {
            scopes.addObject().put("scope", r.scope()).put("usd", Usd.format(r.spentNano())).put("reserved_usd", Usd.format(r.reservedNano()))
                    .put("tokens", r.tokens()).put("calls", r.calls());
        }
        ModelsConfig.BudgetCaps caps = app.config().models().budget();
        ObjectNode n = Json.object().put("day", day);
        n.set("scopes", scopes);
        ObjectNode c = n.putObject("caps");
        caps.usdPerCall().ifPresent(v -> c.put("usd_per_call", v));
        caps.usdPerJob().ifPresent(v -> c.put("usd_per_job", v));
        caps.usdPerDay().ifPresent(v -> c.put("usd_per_day", v));
        json(ctx, n);
    }

    private void verify(Context ctx) {
        Ledger.VerifyReport v = Ledger.verify(app.store(), Optional.empty());
        ObjectNode n = Json.object().put("ok", v.ok()).put("entries", v.entries()).put("chains", v.chains());
        v.firstBad().ifPresent(f -> n.putObject("first_bad").put("chain", f.chain()).put("seq", f.seq()).put("problem", f.problem()));
        json(ctx, n);
    }

    private void tail(Context ctx) {
        String raw = Optional.ofNullable(ctx.queryParam("n")).orElse("50");
        int limit;
        try {
            limit = Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw WardenException.badInput("n: '" + raw + "' is not an integer");
        }
        if (limit < 1 || limit > 1000) {
            throw WardenException.badInput("n: must be between 1 and 1000");
        }
        ArrayNode arr = Json.NODES.arrayNode();
        app.store().read(tx -> tx.ledgerTail(limit)).forEach(x -> arr.add(Json.parse(x.entry())));
        json(ctx, Json.object().set("entries", arr));
    }

    private void projects(Context ctx) {
        ArrayNode arr = Json.NODES.arrayNode();
        for (ProjectSummary.Row r : ProjectSummary.of(app)) {
            ObjectNode x = arr.addObject().put("id", r.id()).put("registered", r.registered() != null)
                    .put("recent_jobs", r.recentJobs()).put("recent_failed", r.failedRecently());
            if (r.registered() != null) {
                x.put("name", r.registered().name()).put("description", r.registered().description())
                        .put("repo", r.registered().repo()).put("owner", r.registered().owner());
                ObjectNode l = x.putObject("labels");
                r.registered().labels().forEach(l::put);
            }
        }
        json(ctx, Json.object().put("registry", app.projects().source().map(Path::toString).orElse(null)).set("projects", arr));
    }
}
