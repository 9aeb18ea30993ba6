package dev.warden.model;

import dev.warden.store.Store;
import dev.warden.store.Tx;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Model spend held in the store, so every node sees the same totals: a call's estimated cost is
 * reserved against every scope that caps it (the day, the job, the gateway token) in one
 * transaction before the call, and settled from the reported usage after it. A reservation that
 * would cross any cap is refused whole.
 */
public final class Spend {
    /** One budget a call is charged to; {@code day} is empty for scopes that do not reset daily. */
    public record Scope(String name, String day, long capNano, String budget) {}

    /** A granted reservation, to be settled exactly once. */
    public record Reservation(List<Scope> scopes, long nano) {}

    /** The reservation was refused: {@code budget} names the cap it would have crossed. */
    public static final class Refused extends RuntimeException {
        private final Scope scope;

        Refused(Scope scope) {
            super(null, null, false, false);
            this.scope = scope;
        }

        public Scope scope() {
            return scope;
        }
    }

    private final Store store;
    private final Clock clock;

    public Spend(Store store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    public Store store() {
        return store;
    }

    /** Today's date (UTC) as stored, e.g. {@code 2026-11-22}. */
    public String today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).toString();
    }

    /** The global per-day scope. */
    public Scope day(long capNano) {
        return new Scope("day", today(), capNano, "usd_per_day");
    }

    /** Reserves {@code nano} on every scope, or throws {@link Refused} naming the first cap it would cross. */
    public Reservation reserve(List<Scope> scopes, long nano) {
        store.write(tx -> {
            for (Scope s : scopes) {
                if (!tx.reserveSpend(s.name(), s.day(), nano, s.capNano())) {
                    throw new Refused(s); // rolls back the reservations already taken
                }
            }
            return null;
        });
        return new Reservation(List.copyOf(scopes), nano);
    }

    /** Settles a reservation: releases it and charges {@code spentNano}; {@code alsoInTx} runs in the same transaction. */
    public void settle(Reservation r, long spentNano, long tokens, Consumer<Tx> alsoInTx) {
        store.write(tx -> {
            for (Scope s : r.scopes()) {
                tx.settleSpend(s.name(), s.day(), r.nano(), spentNano, tokens);
            }
            alsoInTx.accept(tx);
            return null;
        });
    }

    public List<Tx.SpendRow> on(String day) {
        return store.read(tx -> new ArrayList<>(tx.spendOn(day)));
    }

    public long spentNano(String scope, String day) {
        return store.read(tx -> tx.spend(scope, day)).map(Tx.SpendRow::spentNano).orElse(0L);
    }
}
