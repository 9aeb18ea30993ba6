package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.job.JobContext;
import dev.warden.job.JobContext.Message;
import dev.warden.job.JobContext.ModelRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A brain backed by a model route, called through {@link JobContext#model} (so the call is
 * budgeted, recorded, and its prompt and answer kept as content). The charter is the system
 * prompt ({@code prompts/triage.md}); the message goes in the user turn between markers, labelled
 * as untrusted data, with any marker look-alikes inside it defused. An answer that is not a valid
 * plan fails closed: the plan becomes one {@code needs_human} action, which is escalated.
 */
public final class LlmBrain implements Brain {
    static final int MAX_ACTIONS = 10;
    static final String OPEN = "<<<UNTRUSTED MESSAGE>>>";
    static final String CLOSE = "<<<END UNTRUSTED MESSAGE>>>";

    private final JobContext ctx;
    private final String route;
    private final String charter;

    public LlmBrain(JobContext ctx, String route) {
        this.ctx = ctx;
        this.route = route;
        this.charter = charter();
    }

    static String charter() {
        try (InputStream in = LlmBrain.class.getResourceAsStream("/prompts/triage.md")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("the triage charter cannot be read", e);
        }
    }

    @Override
    public String name() {
        return "llm";
    }

    @Override
    public List<Action> plan(InboxMessage m) {
        String user = "Propose the plan for this message.\n" + OPEN + "\nid: " + defuse(m.id()) + "\nfrom: " + defuse(m.from())
                + "\nsubject: " + defuse(m.subject()) + "\n\n" + defuse(m.body()) + "\n" + CLOSE + "\n";
        JobContext.ModelReply reply = ctx.model(route, new ModelRequest(
                List.of(new Message("system", charter), new Message("user", user)), 800, 0.0));
        return parse(reply.text());
    }

    /** Text inside the markers cannot close them or open new ones. */
    static String defuse(String s) {
        return s.replace("<<<", "‹‹‹").replace(">>>", "›››");
    }

    /** The plan in a model's answer (bare JSON or one fenced block), or one escalated {@code needs_human} action. */
    static List<Action> parse(String text) {
        String t = text == null ? "" : text.strip();
        int fence = t.indexOf("```");
        if (fence >= 0) {
            int start = t.indexOf('\n', fence);
            int end = t.indexOf("```", start + 1);
            if (start > 0 && end > start) {
                t = t.substring(start + 1, end).strip();
            }
        }
        JsonNode root;
        try {
            root = Json.parse(t);
        } catch (RuntimeException e) {
            return List.of(needsHuman("the brain's answer was not JSON"));
        }
        JsonNode actions = root.path("actions");
        if (!actions.isArray()) {
            return List.of(needsHuman("the brain's answer has no \"actions\" array"));
        }
        List<Action> out = new ArrayList<>();
        for (JsonNode a : actions) {
            Action action = Action.fromJson(a);
            if (action == null || !action.type().matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
                return List.of(needsHuman("the brain proposed an action without a valid type"));
            }
            if (out.size() == MAX_ACTIONS) {
                out.add(needsHuman("the brain proposed more than " + MAX_ACTIONS + " actions; the rest were dropped"));
                break;
            }
            out.add(action);
        }
        return out;
    }

    static Action needsHuman(String why) {
        return new Action("needs_human", Json.object().put("why", why), "the plan could not be used as proposed");
    }
}
