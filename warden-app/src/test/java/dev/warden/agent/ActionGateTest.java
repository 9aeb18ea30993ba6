package dev.warden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the action gate lets run by itself and what it escalates, with the reason it names. */
class ActionGateTest {
    private final ActionGate gate = new ActionGate(Set.of("label", "reply_draft", "exec"));

    private static Action exec(String... argv) {
        ObjectNode args = Json.object();
        var a = args.putArray("argv");
        for (String s : argv) {
            a.add(s);
        }
        return new Action("exec", args, "");
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
        "label:needs-reading                        | auto",
        "reply:Thanks, we received your message.     | auto",
        "reply:Here is the new password: hunter2     | touches_secrets",
        "reply:Your API key was rotated              | touches_secrets",
        "exec:/bin/echo hello                        | auto",
        "exec:/usr/bin/cat /home/me/.ssh/id_rsa      | touches_secrets",
        "exec:/usr/bin/git commit -am fix            | code_change",
        "exec:/usr/bin/git -C /repo push             | code_change",
        "exec:/usr/bin/git status                    | auto",
        "exec:/usr/bin/kubectl apply -f prod.yaml    | production_config",
        "exec:/usr/bin/cp a /etc/hosts               | production_config",
        "exec:/usr/bin/sed -i s/a/b/ Main.java       | code_change",
        "exec:/usr/bin/vim models.yaml               | routing_change",
        "type:deploy                                 | off_allowlist",
        "type:change_route                           | routing_change",
        "type:rotate_secret                          | touches_secrets",
        "type:tool                                   | off_allowlist",
    })
    void classifies(String what, String expected) {
        String kind = what.substring(0, what.indexOf(':'));
        String arg = what.substring(what.indexOf(':') + 1);
        Action a = switch (kind) {
            case "label" -> new Action("label", Json.object().set("labels", Json.MAPPER.valueToTree(List.of(arg))), "");
            case "reply" -> new Action("reply_draft", Json.object().put("text", arg), "");
            case "exec" -> exec(arg.split(" "));
            default -> new Action(arg, Json.object(), "");
        };
        ActionGate.Verdict v = gate.check(a);
        if (expected.equals("auto")) {
            assertThat(v.auto()).as(v.reasons().toString()).isTrue();
            assertThat(v.reasons()).isEmpty();
        } else {
            assertThat(v.auto()).isFalse();
            assertThat(v.reasons()).anySatisfy(r -> assertThat(r).startsWith(expected + ":"));
        }
    }
}
