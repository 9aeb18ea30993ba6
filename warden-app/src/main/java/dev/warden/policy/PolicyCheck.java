package dev.warden.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Checks that a job's policy and budgets ask for no more than the operator allows; names every excess. */
public final class PolicyCheck {
    private PolicyCheck() {}

    public static List<String> excess(Policy job, Budgets budgets, OperatorPolicy operator, java.util.Set<String> slots) {
        Policy cap = operator.caps();
        List<String> out = new ArrayList<>();
        for (String t : job.tools()) {
            if (!cap.tools().contains(t)) {
                out.add("tools.allow: " + t + " not allowed by operator policy");
            }
        }
        for (Policy.ExecRule r : job.exec()) {
            if (!Path.of(r.path()).isAbsolute()) {
                out.add("exec.allow: " + r.path() + " is not an absolute path");
                continue;
            }
            boolean ok = cap.exec().stream().anyMatch(c -> PathRules.resolve(c.path()).equals(PathRules.resolve(r.path()))
                    && (c.args() == null || c.args().equals(r.args())));
            if (!ok) {
                out.add("exec.allow: " + r.path() + " not allowed by operator policy");
            }
        }
        checkRoots("paths.read", job.readPaths(), cap.readPaths(), out);
        checkRoots("paths.write", job.writePaths(), cap.writePaths(), out);
        checkRoots("repos", job.repos(), cap.repos(), out);
        if (job.network() && !cap.network()) {
            out.add("network: true not allowed by operator policy");
        }
        Budgets ob = operator.budgets();
        if (budgets.wallTimeS() > ob.wallTimeS()) {
            out.add("budgets.wall_time_s: " + budgets.wallTimeS() + " exceeds operator limit " + ob.wallTimeS());
        }
        if (budgets.toolCalls() > ob.toolCalls()) {
            out.add("budgets.tool_calls: " + budgets.toolCalls() + " exceeds operator limit " + ob.toolCalls());
        }
        if (budgets.outputBytes() > ob.outputBytes()) {
            out.add("budgets.output_bytes: " + budgets.outputBytes() + " exceeds operator limit " + ob.outputBytes());
        }
        if (budgets.tokens() != null && ob.tokens() != null && budgets.tokens() > ob.tokens()) {
            out.add("budgets.tokens: " + budgets.tokens() + " exceeds operator limit " + ob.tokens());
        }
        if (budgets.usd() != null && ob.usd() != null && budgets.usd().compareTo(ob.usd()) > 0) {
            out.add("budgets.usd: " + budgets.usd().toPlainString() + " exceeds operator limit " + ob.usd().toPlainString());
        }
        if (budgets.slot() != null && !slots.contains(budgets.slot())) {
            out.add("budgets.slot: slot '" + budgets.slot() + "' has no capacity set by the operator (config 'slots')");
        }
        return out;
    }

    private static void checkRoots(String field, List<String> asked, List<String> allowed, List<String> out) {
        for (String p : asked) {
            if (!Path.of(p).isAbsolute()) {
                out.add(field + ": " + p + " is not an absolute path");
            } else if (!PathRules.isInsideAny(Path.of(p), allowed)) {
                out.add(field + ": " + p + " not allowed by operator policy");
            }
        }
    }
}
