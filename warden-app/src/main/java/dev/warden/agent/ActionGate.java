package dev.warden.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides, for each planned action, whether it may run automatically or must be escalated to the
 * approvals queue (SPEC section 8). An action runs automatically only when its type is on the
 * action allowlist and it touches none of: secrets, production configuration, code, model
 * routing. Each reason names what was found, so the operator sees why it waits.
 */
public final class ActionGate {
    /** Action types Warden can carry out itself (each through a governed {@code JobContext} method). */
    public static final Set<String> EXECUTABLE = Set.of("label", "reply_draft", "exec", "tool");
    /** The allowlist when the job names none: harmless, local actions. */
    public static final Set<String> DEFAULT_ALLOW = Set.of("label", "reply_draft");

    private static final Set<String> SECRET_TYPES = Set.of("rotate_secret", "read_secret", "share_secret", "revoke_key");
    private static final Set<String> PROD_TYPES = Set.of("change_config", "deploy", "rollback", "restart_service");
    private static final Set<String> CODE_TYPES = Set.of("modify_code", "apply_patch", "commit", "merge", "push", "revert");
    private static final Set<String> ROUTING_TYPES = Set.of("change_route", "change_model", "change_routing");
    private static final Set<String> GIT_WRITES = Set.of("commit", "push", "merge", "rebase", "apply", "am", "cherry-pick",
            "reset", "revert", "tag", "branch", "checkout", "switch", "restore", "rm", "mv", "add");
    private static final Pattern SECRET_WORDS = Pattern.compile(
            "\\b(passwords?|passwd|secrets?|api[ _-]?keys?|access[ _-]?keys?|tokens?|credentials?|private[ _-]?keys?)\\b"
                    + "|(^|[/\\s])\\.env\\b|\\.pem\\b|\\bid_(rsa|ed25519|ecdsa)\\b|\\.ssh/|\\.aws/|\\.netrc\\b|\\.gnupg/");
    private static final Pattern PROD = Pattern.compile("\\bprod(uction)?\\b");
    private static final Pattern CONFIG = Pattern.compile(
            "config|settings|\\.ya?ml\\b|\\.json\\b|\\.toml\\b|\\.ini\\b|\\.conf\\b|\\.env\\b|kubectl|helm|terraform|deploy");
    private static final Pattern ROUTING = Pattern.compile(
            "\\bmodels\\.ya?ml\\b|\\bmodel[ _-]?rout(e|es|ing)\\b|\\brout(e|es|ing)[ _-]?(table|config)\\b|\\bfallback[ _-]?models?\\b");
    private static final Pattern CODE_FILES = Pattern.compile(
            "\\.(java|kt|py|js|ts|go|rs|c|cc|cpp|h|rb|php|cs|scala|sh|sql)\\b|\\bpatch\\b|\\bdiff\\b");

    public record Verdict(boolean auto, List<String> reasons) {}

    private final Set<String> allow;

    public ActionGate(Set<String> allow) {
        this.allow = Set.copyOf(allow);
    }

    public Set<String> allow() {
        return allow;
    }

    public Verdict check(Action a) {
        List<String> reasons = new ArrayList<>();
        String type = a.type().toLowerCase(Locale.ROOT);
        if (!allow.contains(type)) {
            reasons.add("off_allowlist: '" + a.type() + "' is not on the action allowlist " + new java.util.TreeSet<>(allow));
        }
        String text = strings(a.args()).toLowerCase(Locale.ROOT);
        if (SECRET_TYPES.contains(type) || SECRET_WORDS.matcher(text).find()) {
            reasons.add("touches_secrets: the action concerns credentials or key material");
        }
        if (PROD_TYPES.contains(type) || (PROD.matcher(text).find() && CONFIG.matcher(text).find())
                || text.contains("/etc/")) {
            reasons.add("production_config: the action concerns production or system configuration");
        }
        if (CODE_TYPES.contains(type) || gitWrite(a) || ("exec".equals(type) && CODE_FILES.matcher(text).find())) {
            reasons.add("code_change: the action could change code or a repository");
        }
        if (ROUTING_TYPES.contains(type) || ROUTING.matcher(text).find()) {
            reasons.add("routing_change: the action concerns model routing");
        }
        return new Verdict(reasons.isEmpty(), List.copyOf(reasons));
    }

    private static boolean gitWrite(Action a) {
        JsonNode argv = a.args().path("argv");
        if (!"exec".equals(a.type()) || !argv.isArray() || argv.isEmpty()) {
            return false;
        }
        String exe = Path.of(argv.get(0).asText("")).getFileName() == null ? "" : Path.of(argv.get(0).asText("")).getFileName().toString();
        if (!exe.equals("git")) {
            return false;
        }
        for (int i = 1; i < argv.size(); i++) { // any write subcommand word counts (options such as -C take values)
            if (GIT_WRITES.contains(argv.get(i).asText(""))) {
                return true;
            }
        }
        return false;
    }

    /** Every string value (and object key) of {@code node}, space-separated. */
    private static String strings(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        collect(node, sb);
        return sb.toString();
    }

    private static void collect(JsonNode n, StringBuilder sb) {
        if (n.isTextual()) {
            sb.append(n.asText()).append(' ');
        } else if (n.isObject()) {
            n.properties().forEach(e -> {
                sb.append(e.getKey()).append(' ');
                collect(e.getValue(), sb);
            });
        } else if (n.isArray()) {
            n.forEach(x -> collect(x, sb));
        }
    }
}
