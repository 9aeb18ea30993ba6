package dev.warden.policy;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters one attempt against its budgets. {@link #chargeOutput} reserves before the write happens,
 * so a write that would cross the budget is refused whole and nothing past the limit is written.
 */
public final class BudgetMeter {
    private final Budgets budgets;
    private final Clock clock;
    private final long startedAt;
    private final AtomicLong outputBytes = new AtomicLong();
    private final AtomicLong toolCalls = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong usdNano = new AtomicLong();

    public BudgetMeter(Budgets budgets, Clock clock) {
        this.budgets = budgets;
        this.clock = clock;
        this.startedAt = clock.millis();
    }

    /** The name of the budget crossed, or null. */
    public String chargeOutput(long bytes) {
        long after = outputBytes.addAndGet(bytes);
        if (after > budgets.outputBytes()) {
            outputBytes.addAndGet(-bytes);
            return "output_bytes";
        }
        return null;
    }

    public String chargeToolCall() {
        if (toolCalls.incrementAndGet() > budgets.toolCalls()) {
            toolCalls.decrementAndGet();
            return "tool_calls";
        }
        return null;
    }

    /** Reserves model tokens before a call; false (nothing reserved) when that would cross the token budget. */
    public boolean reserveTokens(long n) {
        long after = tokens.addAndGet(n);
        if (budgets.tokens() != null && after > budgets.tokens()) {
            tokens.addAndGet(-n);
            return false;
        }
        return true;
    }

    /** Replaces a reservation by what the call really used. */
    public void settleTokens(long reserved, long actual) {
        tokens.addAndGet(actual - reserved);
    }

    public long tokens() {
        return tokens.get();
    }

    /** Adds model spend (nano-USD) already charged in the store, for the attempt's usage record. */
    public void addUsdNano(long nano) {
        usdNano.addAndGet(nano);
    }

    public long usdNano() {
        return usdNano.get();
    }

    public boolean wallTimeExceeded() {
        return elapsedMillis() > budgets.wallTimeS() * 1000;
    }

    public long elapsedMillis() {
        return clock.millis() - startedAt;
    }

    public long deadlineMillis() {
        return startedAt + budgets.wallTimeS() * 1000;
    }

    public long outputBytes() {
        return outputBytes.get();
    }

    public long toolCalls() {
        return toolCalls.get();
    }

    public Budgets budgets() {
        return budgets;
    }
}
