package dev.warden.ledger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;

/** An event before it is sealed into the ledger (no seq, time or hashes yet). */
public record EventDraft(String event, Severity severity, String component, String corrId, String actor, ObjectNode details) {
    public enum Severity {
        info, warn, error
    }

    public EventDraft {
        details = details == null ? Json.object() : details;
    }

    public static EventDraft info(String event, String component, String corrId, String actor, ObjectNode details) {
        return new EventDraft(event, Severity.info, component, corrId, actor, details);
    }

    public static EventDraft warn(String event, String component, String corrId, String actor, ObjectNode details) {
        return new EventDraft(event, Severity.warn, component, corrId, actor, details);
    }

    public static EventDraft error(String event, String component, String corrId, String actor, ObjectNode details) {
        return new EventDraft(event, Severity.error, component, corrId, actor, details);
    }
}
