package dev.warden.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * What may be used: the same shape serves the operator policy (the most any job may ask for)
 * and a job's policy (what that job asks for). Deny by default: an empty policy allows nothing.
 */
public record Policy(List<String> tools, List<ExecRule> exec, List<String> readPaths, List<String> writePaths,
                     boolean network, List<String> repos) {

    public static final Policy NOTHING = new Policy(List.of(), List.of(), List.of(), List.of(), false, List.of());

    /** An allowed executable (absolute path) with optional argument patterns (regular expressions). */
    public record ExecRule(String path, List<String> args) {
        ObjectNode toJson() {
            ObjectNode n = Json.object().put("path", path);
            if (args != null) {
                ArrayNode a = n.putArray("args");
                args.forEach(a::add);
            }
            return n;
        }
    }

    public static Policy fromJson(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return NOTHING;
        }
        List<ExecRule> exec = new ArrayList<>();
        for (JsonNode e : n.path("exec").path("allow")) {
            List<String> args = e.has("args") ? strings(e.get("args")) : null;
            exec.add(new ExecRule(e.path("path").asText(), args));
        }
        return new Policy(strings(n.path("tools").path("allow")), List.copyOf(exec),
                strings(n.path("paths").path("read")), strings(n.path("paths").path("write")),
                n.path("network").asBoolean(false), strings(n.path("repos")));
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        ArrayNode t = n.putObject("tools").putArray("allow");
        tools.forEach(t::add);
        ArrayNode e = n.putObject("exec").putArray("allow");
        exec.forEach(r -> e.add(r.toJson()));
        ObjectNode p = n.putObject("paths");
        ArrayNode r = p.putArray("read");
        readPaths.forEach(r::add);
        ArrayNode w = p.putArray("write");
        writePaths.forEach(w::add);
        n.put("network", network);
        ArrayNode rp = n.putArray("repos");
        repos.forEach(rp::add);
        return n;
    }

    static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(x -> out.add(x.asText()));
        return List.copyOf(out);
    }
}
