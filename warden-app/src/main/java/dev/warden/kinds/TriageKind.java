package dev.warden.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.agent.Action;
import dev.warden.agent.ActionGate;
import dev.warden.agent.Brain;
import dev.warden.agent.InboxMessage;
import dev.warden.agent.LlmBrain;
import dev.warden.agent.RuleBrain;
import dev.warden.common.Json;
import dev.warden.exec.ExecRequest;
import dev.warden.exec.ExecResult;
import dev.warden.job.JobContext;
import dev.warden.job.JobFailure;
import dev.warden.job.JobKind;
import dev.warden.policy.PathRules;
import dev.warden.policy.Policy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code triage} (SPEC sections 8 and 9): reads inbox messages ({@code dir:PATH}, through
 * {@code paths.read}, or {@code api}: the payload's {@code messages}), has a brain propose a plan
 * per message, checks every action with the {@link ActionGate}, and then either only reports the
 * plan (the default, a dry run) or, with {@code execute: true}, carries out the auto actions and
 * sends the others to the approvals queue. While any request is pending the job is
 * {@code escalated}; once all are decided it resumes the same saved plan: approved actions run
 * (through the same governed methods, so policy still applies), rejected and expired ones do not,
 * and nothing already done runs again.
 */
public final class TriageKind implements JobKind {
    static final int DEFAULT_MAX_MESSAGES = 100;
    static final int MAX_MESSAGE_BYTES = 1024 * 1024;
    static final long DEFAULT_TTL_S = 86_400;
    private static final Set<String> SETTLED = Set.of("executed", "denied", "failed", "approved_executed",
            "approved_manual", "rejected", "expired", "withdrawn");

    @Override
    public String name() {
        return "triage";
    }

    @Override
    public String payloadSchema() {
        return "kinds/triage.schema.json";
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public List<String> validate(JsonNode payload) {
        List<String> out = new ArrayList<>();
        boolean api = payload.path("source").asText().equals("api");
        if (api && !payload.has("messages")) {
            out.add("payload.messages: required when source is \"api\"");
        }
        if (!api && payload.has("messages")) {
            out.add("payload.messages: only allowed when source is \"api\" (a dir: source reads its messages from files)");
        }
        if (payload.has("brain_route") && !payload.path("brain").asText("rule").equals("llm")) {
            out.add("payload.brain_route: only used with brain \"llm\"");
        }
        if (payload.has("rules") && payload.path("brain").asText("rule").equals("llm")) {
            out.add("payload.rules: only used with brain \"rule\"");
        }
        return out;
    }

    @Override
    public List<String> denials(JsonNode payload, Policy jobPolicy) {
        String source = payload.path("source").asText();
        if (source.startsWith("dir:") && !PathRules.isInsideAny(Path.of(source.substring(4)), jobPolicy.readPaths())) {
            return List.of("payload.source: " + source.substring(4) + " is outside the job's policy paths.read");
        }
        return List.of();
    }

    @Override
    public JsonNode run(JobContext ctx) {
        JsonNode p = ctx.payload();
        boolean execute = p.path("execute").asBoolean(false);
        Set<String> allow = new LinkedHashSet<>();
        (p.has("auto_actions") ? p.get("auto_actions") : Json.MAPPER.valueToTree(ActionGate.DEFAULT_ALLOW))
                .forEach(a -> allow.add(a.asText()));
        ObjectNode plan = execute ? ctx.savedPlan().map(n -> (ObjectNode) n).orElse(null) : null;
        if (plan == null) {
            plan = newPlan(ctx, p, new ActionGate(allow), execute);
            if (execute) {
                ctx.savePlan(plan);
            }
        }
        if (!execute) {
            return result(plan, false);
        }
        Duration ttl = Duration.ofSeconds(p.path("approval_ttl_s").asLong(DEFAULT_TTL_S));
        int pending = 0;
        for (JsonNode msg : plan.get("plans")) {
            for (JsonNode n : msg.get("actions")) {
                ObjectNode a = (ObjectNode) n;
                if (SETTLED.contains(a.path("outcome").asText())) {
                    continue;
                }
                ctx.checkpoint();
                if (a.path("disposition").asText().equals("auto")) {
                    carryOut(ctx, msg, a, "executed");
                } else {
                    pending += askOrApply(ctx, msg, a, ttl) ? 1 : 0;
                }
                ctx.savePlan(plan); // after every action: a resumed or retried attempt does not repeat it
            }
        }
        ObjectNode result = result(plan, true);
        if (pending > 0) {
            throw new JobFailure.Escalated(pending + " action(s) wait for approval", result);
        }
        return result;
    }

    private ObjectNode newPlan(JobContext ctx, JsonNode p, ActionGate gate, boolean execute) {
        List<InboxMessage> messages = readMessages(ctx, p);
        Brain brain = brain(ctx, p);
        ObjectNode plan = Json.object().put("brain", brain.name()).put("source", p.path("source").asText())
                .put("execute", execute);
        plan.set("allowlist", Json.MAPPER.valueToTree(new java.util.TreeSet<>(gate.allow())));
        ArrayNode out = plan.putArray("plans");
        for (InboxMessage m : messages) {
            ctx.checkpoint();
            ObjectNode msg = out.addObject().put("id", m.id()).put("from", m.from()).put("subject", m.subject());
            ArrayNode actions = msg.putArray("actions");
            List<Action> proposed = brain.plan(m);
            for (int i = 0; i < proposed.size(); i++) {
                Action a = proposed.get(i);
                ActionGate.Verdict v = gate.check(a);
                ObjectNode o = a.toJson().put("key", a.key(m.id(), i))
                        .put("disposition", v.auto() ? "auto" : "escalate");
                o.set("reasons", Json.MAPPER.valueToTree(v.reasons()));
                o.put("outcome", v.auto() ? "planned" : (execute ? "planned" : "would_escalate"));
                actions.add(o);
            }
        }
        int actions = 0;
        for (JsonNode m : out) {
            actions += m.get("actions").size();
        }
        ctx.event("triage.planned", Json.object().put("brain", brain.name()).put("messages_read", messages.size())
                .put("actions", actions).put("execute", execute));
        return plan;
    }

    private static Brain brain(JobContext ctx, JsonNode p) {
        if (!p.path("brain").asText("rule").equals("llm")) {
            return new RuleBrain(p.has("rules") ? p.get("rules") : RuleBrain.defaultRules());
        }
        String route = p.path("brain_route").asText("general");
        if (!ctx.hasModel(route)) { // fail closed: no brain, no plan
            throw JobFailure.permanent("brain_unavailable", "payload.brain is \"llm\" but the route '" + route
                    + "' is not configured (models.routes)");
        }
        return new LlmBrain(ctx, route);
    }

    /** True when the action still waits for an operator. */
    private static boolean askOrApply(JobContext ctx, JsonNode msg, ObjectNode a, Duration ttl) {
        ObjectNode request = Json.object().put("type", a.get("type").asText());
        request.set("args", a.get("args"));
        request.put("reason", a.path("reason").asText()).put("message_id", msg.get("id").asText())
                .put("message_subject", msg.get("subject").asText());
        List<String> reasons = new ArrayList<>();
        a.get("reasons").forEach(r -> reasons.add(r.asText()));
        String summary = a.get("type").asText() + " for message '" + msg.get("id").asText() + "' (\""
                + abbreviate(msg.get("subject").asText(), 80) + "\"): " + String.join("; ", reasons);
        JobContext.Approval ap = ctx.approval(a.get("key").asText(), request, reasons, summary, ttl);
        a.put("approval_id", ap.id());
        if (ap.decidedBy() != null) {
            a.put("decided_by", ap.decidedBy());
        }
        switch (ap.state()) {
            case "pending" -> {
                a.put("outcome", "pending_approval");
                return true;
            }
            case "approved" -> {
                if (ActionGate.EXECUTABLE.contains(a.get("type").asText())) {
                    carryOut(ctx, msg, a, "approved_executed");
                } else {
                    a.put("outcome", "approved_manual").put("detail", "approved; Warden has no executor for '"
                            + a.get("type").asText() + "', so the operator carries it out");
                }
            }
            default -> a.put("outcome", ap.state()); // rejected, expired, withdrawn: never executed
        }
        return false;
    }

    /** Runs one action through the governed context; a policy denial is that action's outcome, not the job's end. */
    private static void carryOut(JobContext ctx, JsonNode msg, ObjectNode a, String doneOutcome) {
        String type = a.get("type").asText();
        JsonNode args = a.get("args");
        try {
            switch (type) {
                case "label" -> {
                    ArrayNode labels = Json.NODES.arrayNode();
                    args.path("labels").forEach(l -> labels.add(l.asText()));
                    ctx.event("triage.labelled", Json.object().put("message_id", msg.get("id").asText()).set("labels", labels));
                    a.put("detail", "labelled " + labels);
                }
                case "reply_draft" -> {
                    String name = "reply-" + msg.get("id").asText().replaceAll("[^A-Za-z0-9._-]", "_");
                    name = (name.length() > 110 ? name.substring(0, 110) : name) + ".md";
                    try (JobContext.ArtifactWriter w = ctx.openArtifact(name)) {
                        w.write(args.path("text").asText());
                    }
                    a.put("detail", "draft written to artifacts/" + name + " (not sent)");
                }
                case "exec" -> {
                    List<String> argv = new ArrayList<>();
                    args.path("argv").forEach(x -> argv.add(x.asText()));
                    if (argv.isEmpty()) {
                        throw JobFailure.permanent("bad_action", "exec action: args.argv must be a non-empty array");
                    }
                    ExecResult r = ctx.exec(ExecRequest.of(argv, ctx.workDir(),
                            Duration.ofSeconds(Math.max(1, Math.min(3600, args.path("timeout_s").asLong(60))))));
                    a.put("detail", "exit code " + r.exitCode());
                }
                case "tool" -> {
                    JsonNode toolArgs = args.path("args");
                    JobContext.ToolResult r = ctx.tool(args.path("name").asText(),
                            toolArgs.isObject() ? (ObjectNode) toolArgs : Json.object());
                    a.put("detail", "tool " + r.name() + " answered "
                            + Json.write(r.output()).getBytes(StandardCharsets.UTF_8).length + " bytes");
                }
                default -> throw JobFailure.permanent("bad_action", "no executor for action type '" + type + "'");
            }
            a.put("outcome", doneOutcome);
        } catch (JobFailure f) {
            if (f instanceof JobFailure.Stop || f.code().startsWith("budget_exceeded")) {
                throw f;
            }
            a.put("outcome", f.code().equals("policy_denied") ? "denied" : "failed").put("detail", f.code() + ": " + f.getMessage());
        }
    }

    private static List<InboxMessage> readMessages(JobContext ctx, JsonNode p) {
        int max = p.path("max_messages").asInt(DEFAULT_MAX_MESSAGES);
        List<InboxMessage> out = new ArrayList<>();
        String source = p.get("source").asText();
        if (source.equals("api")) {
            for (JsonNode m : p.path("messages")) {
                if (out.size() == max) {
                    break;
                }
                out.add(new InboxMessage(m.get("id").asText(), m.path("from").asText(""), m.path("subject").asText(""),
                        m.get("body").asText()));
            }
            return out;
        }
        Path root = Path.of(source.substring(4));
        JobContext.FileListing files = ctx.listFiles(root, 10_000);
        List<Path> sorted = new ArrayList<>(files.files());
        sorted.sort(null);
        Path realRoot = PathRules.resolve(root);
        for (Path f : sorted) {
            if (out.size() == max) {
                break;
            }
            if (f.getFileName().toString().startsWith(".")) {
                continue;
            }
            ctx.checkpoint();
            byte[] bytes = ctx.readFile(f, MAX_MESSAGE_BYTES);
            String text = new String(bytes, StandardCharsets.UTF_8);
            if (text.indexOf('\0') >= 0) {
                continue; // binary: not a message
            }
            String id = realRoot.relativize(PathRules.resolve(f)).toString();
            if (f.getFileName().toString().endsWith(".json")) {
                JsonNode j;
                try {
                    j = Json.parse(text);
                } catch (RuntimeException e) {
                    j = null;
                }
                if (j != null && j.isObject()) {
                    out.add(new InboxMessage(id, j.path("from").asText(""), j.path("subject").asText(""), j.path("body").asText("")));
                    continue;
                }
            }
            out.add(InboxMessage.parseText(id, text));
        }
        return out;
    }

    private static ObjectNode result(ObjectNode plan, boolean executed) {
        ObjectNode r = Json.object().put("brain", plan.get("brain").asText()).put("dry_run", !executed);
        ObjectNode counts = r.putObject("outcomes");
        int n = 0;
        for (JsonNode msg : plan.get("plans")) {
            for (JsonNode a : msg.get("actions")) {
                counts.put(a.get("outcome").asText(), counts.path(a.get("outcome").asText()).asInt() + 1);
                n++;
            }
        }
        r.put("messages_read", plan.get("plans").size()).put("actions", n);
        r.set("plans", plan.get("plans").deepCopy()); // not "messages": a content key the redaction hides
        return r;
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
