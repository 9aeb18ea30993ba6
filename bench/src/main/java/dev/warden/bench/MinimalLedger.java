package dev.warden.bench;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The least ledger a queue under SPEC section 3 keeps, for {@link RawJdbcFloor#withLedger}: one
 * chain; for every state change one {@code warden.event.v1} envelope, written as canonical JSON
 * (members sorted, no whitespace) by string concatenation, its {@code hash} the SHA-256 of that text
 * with {@code prev_hash} in it; the entries of a transaction stored in it, one row each with the
 * job id beside them, and the head moved once. Nothing else: no redaction (the drafts hold no
 * secret and no content key), no secondary index (Warden's corr_id look-up), no node chains.
 *
 * <p>One writer: the enqueue and then the drain's one turn thread append in turn, never at once,
 * and the head lives in memory between appends (a failed append ends the run).
 */
final class MinimalLedger {
    /** One state change to record: the job, the event, its details as canonical JSON. */
    record Draft(long job, String event, String details) {}

    private static final String CHAIN = "floor";
    private static final String ACTOR = "floor-worker";
    /** The noop job's spec as a JSON string member, escaped once. */
    private static final String SPEC_DETAILS = "{\"kind\":\"noop\",\"spec\":\""
            + new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(QueueScenarios.NOOP))
            + "\"}";

    private final boolean pg;
    private final MessageDigest sha256;
    private long seq;
    private String prev = "0".repeat(64);
    private long entryBytes;

    private MinimalLedger(boolean pg) {
        this.pg = pg;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String describe(PeerTarget.Kind store) {
        return "minimal ledger: an entry per state change (canonical JSON envelope, SHA-256 chained, by string "
                + "concatenation), a row each with the job id, "
                + (store == PeerTarget.Kind.POSTGRESQL ? "one `INSERT … SELECT FROM unnest(…)` per transaction with the head's "
                + "`UPDATE` in the same statement" : "a JDBC batch per transaction and the head's `UPDATE`")
                + "; no secondary index, no redaction";
    }

    /** Creates the ledger's tables on {@code c} and returns its (empty) chain. */
    static MinimalLedger create(Connection c, boolean pg) throws SQLException {
        PeerTarget.execute(c,
                "CREATE TABLE floor_ledger (seq " + (pg ? "BIGINT" : "INTEGER") + " PRIMARY KEY, job BIGINT NOT NULL, entry TEXT NOT NULL)",
                "CREATE TABLE floor_ledger_head (chain TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                "INSERT INTO floor_ledger_head (chain, seq, hash) VALUES ('" + CHAIN + "', 0, '" + "0".repeat(64) + "')");
        return new MinimalLedger(pg);
    }

    static Draft enqueued(long job) {
        return new Draft(job, "job.enqueued", SPEC_DETAILS);
    }

    static Draft claimed(long job, long leaseUntil) {
        return new Draft(job, "job.claimed", "{\"attempt\":1,\"claim\":1,\"lease_expires_at\":\""
                + Instant.ofEpochMilli(leaseUntil) + "\",\"lease_owner\":\"" + ACTOR + "\"}");
    }

    static Draft succeeded(long job) {
        return new Draft(job, "job.succeeded", "{\"attempt\":1,\"duration_ms\":0,\"result\":{}}");
    }

    /** Seals {@code drafts} onto the chain and stores them and the new head within {@code c}'s transaction. */
    void append(Connection c, List<Draft> drafts, long now) throws SQLException {
        if (drafts.isEmpty()) {
            return;
        }
        String ts = Instant.ofEpochMilli(now).toString();
        long s = seq;
        String p = prev;
        long[] seqs = new long[drafts.size()];
        Long[] jobs = new Long[drafts.size()];
        String[] entries = new String[drafts.size()];
        for (int i = 0; i < drafts.size(); i++) {
            Draft d = drafts.get(i);
            s++;
            String corr = "job-" + d.job();
            String body = "{\"actor\":\"" + ACTOR + "\",\"chain\":\"" + CHAIN + "\",\"component\":\"worker\",\"corr_id\":\"" + corr
                    + "\",\"details\":" + d.details() + ",\"event\":\"" + d.event() + "\",\"prev_hash\":\"" + p
                    + "\",\"schema\":\"warden.event.v1\",\"seq\":" + s + ",\"severity\":\"info\",\"ts\":\"" + ts + "\"}";
            String hash = HexFormat.of().formatHex(sha256.digest(body.getBytes(StandardCharsets.UTF_8)));
            // the stored form carries the hash, placed where canonical order puts it (before prev_hash)
            int at = body.lastIndexOf(",\"prev_hash\":\"");
            entries[i] = body.substring(0, at) + ",\"hash\":\"" + hash + "\"" + body.substring(at);
            seqs[i] = s;
            jobs[i] = d.job();
            entryBytes += entries[i].length();
            p = hash;
        }
        if (pg) {
            try (PreparedStatement ps = c.prepareStatement("WITH head AS (UPDATE floor_ledger_head SET seq = ?, hash = ? WHERE chain = '"
                    + CHAIN + "') INSERT INTO floor_ledger (seq, job, entry) SELECT * FROM unnest(?::int8[], ?::int8[], ?::text[])")) {
                ps.setLong(1, s);
                ps.setString(2, p);
                ps.setArray(3, c.createArrayOf("int8", java.util.Arrays.stream(seqs).boxed().toArray()));
                ps.setArray(4, c.createArrayOf("int8", jobs));
                ps.setArray(5, c.createArrayOf("text", entries));
                ps.executeUpdate();
            }
        } else {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO floor_ledger (seq, job, entry) VALUES (?, ?, ?)")) {
                for (int i = 0; i < entries.length; i++) {
                    ps.setLong(1, seqs[i]);
                    ps.setLong(2, jobs[i]);
                    ps.setString(3, entries[i]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE floor_ledger_head SET seq = ?, hash = ? WHERE chain = '" + CHAIN + "'")) {
                ps.setLong(1, s);
                ps.setString(2, p);
                ps.executeUpdate();
            }
        }
        seq = s;
        prev = p;
    }

    /** For the report's notes: entries written and their mean size, checked against the stored chain's length. */
    String note(Connection monitor) throws SQLException {
        try (var st = monitor.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM floor_ledger")) {
            rs.next();
            long stored = rs.getLong(1);
            if (stored != seq) {
                throw new IllegalStateException("the minimal ledger stored " + stored + " entries, appended " + seq);
            }
        }
        return String.format(java.util.Locale.ROOT, "minimal ledger: %,d entries, %d B each on average", seq,
                seq == 0 ? 0 : entryBytes / seq);
    }
}
