package dev.warden.policy;

import java.util.List;

/**
 * The operator's caps (config file section {@code policy}): what any job may ask for at most,
 * plus the isolation mode and whether evidence records content.
 */
public record OperatorPolicy(Policy caps, Isolation isolation, Budgets budgets, boolean recordContent) {
    public enum Isolation {
        bwrap, none
    }

    /** Defaults with no config file (SPEC section 16): reads under the data dir and start dir, nothing else. */
    public static OperatorPolicy defaults(List<String> readableRoots) {
        return new OperatorPolicy(new Policy(List.of(), List.of(), readableRoots, List.of(), false, readableRoots),
                Isolation.bwrap, new Budgets(3600, 100, 100L * 1024 * 1024, 1_000_000L, new java.math.BigDecimal("1"), null),
                true);
    }
}
