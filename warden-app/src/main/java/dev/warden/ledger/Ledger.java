package dev.warden.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Ids;
import dev.warden.common.Json;
import dev.warden.store.Store;
import dev.warden.store.Tx;
import dev.warden.store.Tx.LedgerHead;
import dev.warden.store.Tx.LedgerRow;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The append-only, hash-chained ledger. Entries are sealed inside the caller's store
 * transaction, so a state change and its entries commit together; one transaction may append
 * many entries with a single head read and a single head update.
 */
public final class Ledger {
    private final Clock clock;
    private final Redactor redactor;
    private final String chain;

    public Ledger(Clock clock, Redactor redactor, String chain) {
        this.clock = clock;
        this.redactor = redactor;
        this.chain = chain;
    }

    public String chain() {
        return chain;
    }

    public Redactor redactor() {
        return redactor;
    }

    /** Appends one entry within {@code tx}; returns the chain's head after it (the entry's seq and hash). */
    public LedgerHead append(Tx tx, EventDraft draft) {
        return append(tx, List.of(draft));
    }

    /**
     * The head this process last wrote (possibly not yet committed, or rolled back): a guess that
     * lets {@link #append} seal before it holds the head's lock. The store checks the guess when it
     * moves the head ({@link Tx#appendLedgerIfHead}), so a wrong guess costs a retry under the lock,
     * never a broken chain.
     */
    private final java.util.concurrent.atomic.AtomicReference<LedgerHead> lastHead = new java.util.concurrent.atomic.AtomicReference<>();

    /** When a guess last missed ({@link System#nanoTime}); guessing pauses for {@link #GUESS_PAUSE_NANOS} after a miss. */
    private volatile long guessMissedAt = System.nanoTime() - GUESS_PAUSE_NANOS;
    private static final long GUESS_PAUSE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    /** Guesses tried in one append while appenders of this process keep moving the head. */
    private static final int IN_PROCESS_RETRIES = 3;

    /**
     * Redacts, seals and stores the drafts in order, within {@code tx}; returns the chain's head
     * after them (the last entry's seq and hash), or null when there were none.
     */
    public LedgerHead append(Tx tx, List<EventDraft> drafts) {
        if (drafts.isEmpty()) {
            return null;
        }
        LedgerHead guess = lastHead.get();
        for (int tries = 0; guess != null && tries < IN_PROCESS_RETRIES && System.nanoTime() - guessMissedAt >= GUESS_PAUSE_NANOS; tries++) {
            Sealed s = seal(guess, drafts);
            if (tx.appendLedgerIfHead(guess, s.rows(), s.head())) {
                lastHead.compareAndSet(guess, s.head());
                return s.head();
            }
            LedgerHead moved = lastHead.get();
            if (moved == guess) {
                // other processes append to this chain too: a miss waited for the head's lock once
                // already and the locked read below waits again, so lock first for a while
                guessMissedAt = System.nanoTime();
                break;
            }
            // another appender of this process moved the head since (in `warden up` the dispatcher,
            // the gateway's settlements and operator actions append from several threads): seal on
            // its head; the store waits for that transaction's commit
            guess = moved;
        }
        // the guess was wrong (another process of this node appended, a transaction rolled back) or
        // there is none yet: read the head under its lock and seal on it
        LedgerHead head = tx.lockLedgerHead(chain).orElse(new LedgerHead(chain, 0, Envelope.GENESIS));
        Sealed s = seal(head, drafts);
        tx.insertLedgerEntries(s.rows());
        tx.putLedgerHead(s.head());
        lastHead.set(s.head());
        return s.head();
    }

    private record Sealed(List<LedgerRow> rows, LedgerHead head) {}

    private Sealed seal(LedgerHead head, List<EventDraft> drafts) {
        long seq = head.seq();
        String prev = head.hash();
        long now = clock.millis();
        String ts = Envelope.formatTs(java.time.Instant.ofEpochMilli(now));
        List<LedgerRow> rows = new ArrayList<>(drafts.size());
        for (EventDraft d : drafts) {
            seq++;
            String corrId = redactor.scrub(d.corrId());
            String details = d.details() == null ? "{}" : redactor.redactedCanonical(d.details());
            String canonical = Envelope.canonicalWithoutHash(seq, ts, d.event(), d.severity().name(), d.component(),
                    corrId, redactor.scrub(d.actor()), chain, details, prev);
            String hash = Ids.sha256Hex(canonical);
            rows.add(new LedgerRow(chain, seq, now, d.event(), corrId, withHash(canonical, hash)));
            prev = hash;
        }
        return new Sealed(rows, new LedgerHead(chain, seq, prev));
    }

    /**
     * The stored (canonical) form of an entry from the canonical form without its hash, which
     * sealing already made: keys are sorted, so {@code "hash"} goes right before the top-level
     * {@code "prev_hash"} — the last one in the text, since only scalar members follow it — instead
     * of serializing the whole entry a second time. {@link #verify} does the inverse.
     */
    static String withHash(String canonicalWithoutHash, String hash) {
        int at = canonicalWithoutHash.lastIndexOf(",\"prev_hash\":\"");
        if (at < 0) {
            throw new IllegalStateException("an entry without prev_hash cannot be sealed");
        }
        return canonicalWithoutHash.substring(0, at) + ",\"hash\":\"" + hash + "\"" + canonicalWithoutHash.substring(at);
    }

    /** Convenience: append in a transaction of its own; returns the chain's head after it. */
    public LedgerHead record(Store store, EventDraft draft) {
        return store.write(tx -> append(tx, draft));
    }

    // ------------------------------------------------------------------ verification

    public record Finding(String chain, long seq, String problem) {
        @Override
        public String toString() {
            return "chain " + chain + " seq " + seq + ": " + problem;
        }
    }

    public record VerifyReport(boolean ok, long entries, int chains, Optional<Finding> firstBad) {}

    /**
     * Recomputes every chain; names the first bad entry. With a checkpoint, also detects truncation.
     * Chain heads are read first and each chain is verified up to its head, so entries appended
     * while verification runs (a live server) are not mistaken for tampering.
     */
    public static VerifyReport verify(Store store, Optional<Checkpoint> checkpoint) {
        java.util.Map<String, LedgerHead> heads = new java.util.TreeMap<>();
        store.read(Tx::ledgerHeads).forEach(h -> heads.put(h.chain(), h));
        List<String> chains = store.read(Tx::ledgerChains);
        if (checkpoint.isPresent()) {
            for (String c : checkpoint.get().heads().keySet()) {
                if (!chains.contains(c)) {
                    return bad(0, chains.size(), new Finding(c, 1, "chain present in checkpoint is missing from the ledger (truncated)"));
                }
            }
        }
        long total = 0;
        java.security.MessageDigest digest = sha256();
        for (String c : chains) {
            LedgerHead head = heads.get(c);
            if (head == null) {
                return bad(total, chains.size(), new Finding(c, 1, "chain has entries but no recorded head (head deleted)"));
            }
            long expectedSeq = 1;
            String prev = Envelope.GENESIS;
            long after = 0;
            while (after < head.seq()) {
                final long from = after;
                List<LedgerRow> page = store.read(tx -> tx.ledgerPage(c, from, 2000));
                if (page.isEmpty()) {
                    break;
                }
                for (LedgerRow row : page) {
                    if (row.seq() > head.seq()) {
                        break;
                    }
                    ChainFields entry;
                    try {
                        entry = ChainFields.read(row.entry());
                    } catch (java.io.IOException | RuntimeException e) {
                        return bad(total, chains.size(), new Finding(c, expectedSeq, "entry is not valid JSON"));
                    }
                    Optional<String> problem = check(row, entry, c, expectedSeq, prev, digest);
                    if (problem.isPresent()) {
                        return bad(total, chains.size(), new Finding(c, expectedSeq, problem.get()));
                    }
                    prev = entry.hash();
                    expectedSeq++;
                    total++;
                    after = row.seq();
                }
                if (page.size() < 2000) {
                    break;
                }
            }
            long last = expectedSeq - 1;
            // entries past the head read at the start are fine only if an append moved the head since
            java.util.Optional<LedgerRow> beyond = store.read(tx -> tx.ledgerPage(c, head.seq(), 1)).stream().findFirst();
            if (beyond.isPresent()) {
                long headNow = store.read(Tx::ledgerHeads).stream().filter(h -> h.chain().equals(c))
                        .mapToLong(LedgerHead::seq).findFirst().orElse(-1);
                if (headNow < beyond.get().seq()) {
                    return bad(total, chains.size(), new Finding(c, beyond.get().seq(),
                            "entry stored beyond the chain's recorded head seq " + headNow + " (head rewound)"));
                }
            }
            if (last != head.seq() || !head.hash().equals(prev)) {
                return bad(total, chains.size(), new Finding(c, last + 1,
                        "ledger ends at seq " + last + " but its recorded head is seq " + head.seq()
                                + " (entries deleted or head altered)"));
            }
            if (checkpoint.isPresent() && checkpoint.get().heads().containsKey(c)) {
                Checkpoint.Head cp = checkpoint.get().heads().get(c);
                if (last < cp.seq()) {
                    return bad(total, chains.size(), new Finding(c, last + 1,
                            "truncated: checkpoint records seq " + cp.seq() + " but the chain ends at seq " + last));
                }
                String hashAt = store.read(tx -> tx.ledgerPage(c, cp.seq() - 1, 1)).stream().findFirst()
                        .map(r -> Json.parse(r.entry()).path("hash").asText()).orElse("");
                if (!hashAt.equals(cp.hash())) {
                    return bad(total, chains.size(), new Finding(c, cp.seq(), "hash differs from the checkpoint (history rewritten)"));
                }
            }
        }
        return new VerifyReport(true, total, chains.size(), Optional.empty());
    }

    private static VerifyReport bad(long entries, int chains, Finding f) {
        return new VerifyReport(false, entries, chains, Optional.of(f));
    }

    /** The members of a stored entry that the chain is checked with, read without building a tree. */
    record ChainFields(long seq, String chain, String prevHash, String hash) {
        private static final com.fasterxml.jackson.core.JsonFactory FACTORY = Json.MAPPER.getFactory();

        static ChainFields read(String text) throws java.io.IOException {
            long seq = -1;
            String chain = "";
            String prev = "";
            String hash = "";
            try (com.fasterxml.jackson.core.JsonParser p = FACTORY.createParser(text)) {
                if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                    throw new java.io.IOException("not an object");
                }
                while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    com.fasterxml.jackson.core.JsonToken t = p.nextToken();
                    switch (name) {
                        case "seq" -> seq = t.isNumeric() ? p.getLongValue() : -1;
                        case "chain" -> chain = p.getValueAsString("");
                        case "prev_hash" -> prev = p.getValueAsString("");
                        case "hash" -> hash = p.getValueAsString("");
                        default -> p.skipChildren();
                    }
                }
            }
            return new ChainFields(seq, chain, prev, hash);
        }
    }

    private static Optional<String> check(LedgerRow row, ChainFields entry, String chain, long expectedSeq, String prev,
                                          java.security.MessageDigest digest) {
        if (row.seq() != expectedSeq) {
            return Optional.of(row.seq() > expectedSeq
                    ? "entry missing: expected seq " + expectedSeq + ", next stored is seq " + row.seq()
                    : "entry out of order: seq " + row.seq() + " found where seq " + expectedSeq + " belongs");
        }
        if (entry.seq() != expectedSeq || !chain.equals(entry.chain())) {
            return Optional.of("entry content carries seq " + entry.seq() + " of chain " + entry.chain()
                    + " (moved or reordered)");
        }
        if (!prev.equals(entry.prevHash())) {
            return Optional.of("prev_hash does not match the previous entry's hash (reordered, inserted or deleted)");
        }
        String stated = entry.hash();
        if (!stated.equals(hashOfStored(row.entry(), stated, digest))) {
            return Optional.of("hash mismatch: entry content was edited");
        }
        return Optional.empty();
    }

    /**
     * The hash of a stored entry, computed over the stored bytes: entries are written in canonical
     * form, so the text without its {@code "hash"} member is exactly what was hashed, and any change
     * to the stored bytes (even one that keeps the meaning) is reported as an edit. Re-serializing
     * every entry would triple the cost of a verification.
     */
    private static String hashOfStored(String text, String stated, java.security.MessageDigest digest) {
        String member = ",\"hash\":\"" + stated + "\"";
        int at = text.indexOf(member);
        String withoutHash;
        if (at >= 0 && text.indexOf(member, at + 1) < 0) {
            withoutHash = text.substring(0, at) + text.substring(at + member.length());
        } else {
            ObjectNode copy = (ObjectNode) Json.parse(text);
            copy.remove("hash");
            withoutHash = Json.canonical(copy);
        }
        digest.reset();
        return java.util.HexFormat.of().formatHex(digest.digest(withoutHash.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The current head of every chain. */
    public static Checkpoint checkpoint(Store store, Clock clock) {
        return Checkpoint.of(store.read(Tx::ledgerHeads), clock.instant());
    }
}
