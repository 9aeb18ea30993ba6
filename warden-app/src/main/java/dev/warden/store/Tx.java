package dev.warden.store;

import dev.warden.job.JobState;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The operations available inside one store transaction. */
public interface Tx {
    // ---- jobs
    void insertJob(JobRow row);

    /** Inserts many rows at once (same as {@link #insertJob} for each, in order). */
    void insertJobs(List<JobRow> rows);

    Optional<JobRow> findJob(String id);

    Optional<JobRow> findJobByIdempotencyKey(String key);

    List<JobRow> listJobs(JobFilter filter);

    Map<JobState, Long> countByState();

    /**
     * Queued jobs due at {@code now}, highest priority first, whose slot is null or one of
     * {@code openSlots}; locked against other claimers where the engine supports it.
     */
    List<JobRow> claimCandidates(long now, int limit, Collection<String> openSlots);

    /**
     * Running jobs per slot name, across every node. Locks the given slots first (until the
     * transaction ends) where the engine needs it, so two claimers on different nodes cannot both
     * count the same free capacity.
     */
    Map<String, Integer> runningBySlot(Collection<String> slotsToLock);

    /** Marks queued rows as claimed (rows already carry the new values from {@link JobRow#claimed}). */
    void markClaimed(List<JobRow> claimed);

    /**
     * Claims up to {@code limit} due queued jobs with no slot in one statement ({@code UPDATE … WHERE
     * id IN (SELECT … ORDER BY … LIMIT n) RETURNING …}; on PostgreSQL the subquery locks {@code FOR
     * UPDATE SKIP LOCKED}), exactly as {@link #claimCandidates} with no open slot followed by
     * {@link #markClaimed} of {@link JobRow#claimed} rows, and returns them in claim order, unless the
     * setting {@code stopKey} is {@code on} (then nothing is claimed).
     */
    List<JobRow> claimUnslotted(long now, int limit, String owner, long leaseUntil, String stopKey);

    /** What {@link #completeRunningAndClaimUnslotted} wrote: per outcome row whether it landed, and the claimed jobs in claim order. */
    record CompletedAndClaimed(boolean[] written, List<JobRow> claimed) {}

    /**
     * A worker's turn without slots: {@link #updateJobs} of {@code rows} fenced on {@code running}
     * and {@code expectedClaims}, then {@link #claimUnslotted}. The claim cannot take a job the
     * outcomes put back in the queue (it sees the queue as it was before them). PostgreSQL does
     * both in one statement (one round trip instead of two).
     */
    default CompletedAndClaimed completeRunningAndClaimUnslotted(List<JobRow> rows, long[] expectedClaims, long now,
                                                                 int limit, String owner, long leaseUntil, String stopKey) {
        List<JobRow> claimed = claimUnslotted(now, limit, owner, leaseUntil, stopKey);
        return new CompletedAndClaimed(updateJobs(rows, java.util.EnumSet.of(JobState.running), expectedClaims), claimed);
    }

    /**
     * Extends the leases of {@code ids} (attempts the owner is still running; an attempt it gave up
     * on is left to expire) and returns every running job the store says the owner holds.
     */
    List<LeaseView> heartbeat(String owner, Collection<String> ids, long leaseUntil, long now);

    /**
     * Writes every mutable column of {@code row} if the stored job is still in one of
     * {@code expectedStates} with {@code expectedClaims} (optimistic fencing). Returns false otherwise.
     */
    boolean updateJob(JobRow row, Set<JobState> expectedStates, long expectedClaims);

    /**
     * {@link #updateJob} for many rows at once (one statement on PostgreSQL, one JDBC batch on SQLite), each fenced by its own
     * {@code expectedClaims[i]}; returns, per row, whether it was written.
     */
    boolean[] updateJobs(List<JobRow> rows, Set<JobState> expectedStates, long[] expectedClaims);

    List<JobRow> expiredLeases(long now, int limit);

    // ---- agent plans and approvals
    ApprovalsTx approvals();

    // ---- node registry
    /** Registers or renews a worker pool; {@code stoppedAt} non-null marks a clean stop. */
    void putWorker(WorkerRow worker);

    /** Every registered worker pool, most recently seen first. */
    List<WorkerRow> workers();

    /** Running jobs per lease owner. */
    Map<String, Integer> runningByOwner();

    // ---- schedules
    void putSchedule(ScheduleRow s);

    Optional<ScheduleRow> findSchedule(String name);

    List<ScheduleRow> schedules();

    boolean deleteSchedule(String name);

    /** Enabled schedules due at {@code now}; locked against other nodes' schedulers where the engine supports it. */
    List<ScheduleRow> dueSchedules(long now, int limit);

    // ---- evidence kept in the store
    void putEvidenceFile(String jobId, String name, byte[] content, long now);

    /** The stored evidence files of a job, by name. */
    Map<String, byte[]> evidenceFiles(String jobId);

    // ---- model spend (nano-USD) and gateway client tokens
    /**
     * Adds {@code nano} to the reservations of {@code scope} on {@code day} if spent plus reserved
     * plus {@code nano} stays within {@code capNano} (a negative cap: no cap). Returns false, changing
     * nothing, when it would not.
     */
    boolean reserveSpend(String scope, String day, long nano, long capNano);

    /** Releases {@code reservedNano} of a reservation and charges {@code spentNano} and {@code tokens} (one call). */
    void settleSpend(String scope, String day, long reservedNano, long spentNano, long tokens);

    Optional<SpendRow> spend(String scope, String day);

    /** Every scope's spend on {@code day}. */
    List<SpendRow> spendOn(String day);

    /** The {@code scope}'s spend on its most recent {@code limit} days, newest first. */
    List<SpendRow> spendDays(String scope, int limit);

    /** (finished_at, state) of every job that ended at or after {@code since}: the console's hourly chart. */
    List<Map.Entry<Long, JobState>> finishedSince(long since);

    void insertGatewayToken(GatewayTokenRow row);

    Optional<GatewayTokenRow> gatewayTokenByHash(String tokenHash);

    List<GatewayTokenRow> gatewayTokens();

    boolean revokeGatewayToken(String name, long now);

    record SpendRow(String scope, String day, long reservedNano, long spentNano, long tokens, long calls) {}

    record GatewayTokenRow(String name, String tokenHash, String fingerprint, long usdPerDayNano, String routes,
                           long createdAt, Long revokedAt) {}

    // ---- settings
    Optional<String> setting(String key);

    void putSetting(String key, String value);

    // ---- ledger
    /** The head of a chain (locking it against concurrent appenders), or empty for a new chain. */
    Optional<LedgerHead> lockLedgerHead(String chain);

    void insertLedgerEntries(List<LedgerRow> rows);

    void putLedgerHead(LedgerHead head);

    /**
     * Appends {@code rows} and moves the chain's head from {@code expected} to {@code next}, only if
     * the stored head is still exactly {@code expected} (taking its row lock, as
     * {@link #lockLedgerHead} does). Returns false, writing nothing, when it is not (another appender
     * moved it): the caller reads the head under lock and seals again.
     */
    boolean appendLedgerIfHead(LedgerHead expected, List<LedgerRow> rows, LedgerHead next);

    List<LedgerHead> ledgerHeads();

    List<String> ledgerChains();

    List<LedgerRow> ledgerPage(String chain, long afterSeq, int limit);

    List<LedgerRow> ledgerByCorrId(String corrId);

    /**
     * Indexes by corr_id what was appended since the last pass, up to {@code maxBlocksPerChain}
     * blocks of each chain, where the store indexes behind the appends (PostgreSQL; see {@code
     * LedgerIndexer}); nothing on SQLite, which indexes as it inserts. {@link #ledgerByCorrId} finds
     * entries either way.
     */
    IndexPass indexLedgerCorrIds(int maxBlocksPerChain);

    /** What an indexing pass covered: entries, and whether some chain had more blocks waiting than it took. */
    record IndexPass(long entries, boolean more) {
        public static final IndexPass NONE = new IndexPass(0, false);
    }

    List<LedgerRow> ledgerTail(int limit);

    record LeaseView(String id, long claims, boolean cancelRequested) {}

    record ScheduleRow(String name, String cron, String spec, boolean enabled, boolean allowOverlap, String catchUp,
                       Long nextFireAt, Long lastFireAt, String lastJobId, long createdAt, long updatedAt) {}

    record WorkerRow(String id, String node, long pid, int concurrency, long startedAt, long heartbeatAt, Long stoppedAt) {}

    record LedgerHead(String chain, long seq, String hash) {}

    /** One stored entry: the envelope's canonical JSON plus the columns it is indexed by. */
    record LedgerRow(String chain, long seq, long tsMillis, String event, String corrId, String entry) {}

    /** Filters for listing jobs; null fields match everything; every label must match. */
    record JobFilter(JobState state, String kind, Map<String, String> labels, int limit, int offset) {
        public JobFilter(JobState state, String kind, int limit, int offset) {
            this(state, kind, Map.of(), limit, offset);
        }

        public static JobFilter all(int limit) {
            return new JobFilter(null, null, limit, 0);
        }
    }
}
