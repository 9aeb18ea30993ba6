package dev.warden.agent;

import java.util.List;

/**
 * Proposes a plan for one message: a list of actions. A brain only proposes; every action is then
 * checked by the {@link ActionGate}, and nothing off the allowlist or sensitive runs without an
 * operator's approval.
 */
public interface Brain {
    /** {@code rule} or {@code llm}: recorded with the plan. */
    String name();

    List<Action> plan(InboxMessage message);
}
