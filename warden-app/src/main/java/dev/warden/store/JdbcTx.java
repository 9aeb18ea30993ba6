package dev.warden.store;

import dev.warden.job.JobState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** {@link Tx} over one JDBC connection whose transaction is managed by the store. */
final class JdbcTx implements Tx {
    private static final int JOB_COLUMN_COUNT = 24;
    private static final String JOB_COLUMNS = "id, kind, project, state, priority, run_after, attempts, max_attempts, claims, "
            + "retry_on_lease_loss, idempotency_key, slot, spec, labels, result, error_code, error_message, lease_owner, "
            + "lease_expires_at, cancel_requested, created_at, updated_at, started_at, finished_at";

    private final StatementCache statements;
    private final Dialect dialect;
    /** Where the ledger's entries are: a row per entry on SQLite, a block per append on PostgreSQL. */
    private final LedgerTable ledger;

    JdbcTx(StatementCache statements, Dialect dialect) {
        this.statements = statements;
        this.dialect = dialect;
        this.ledger = postgres() ? new LedgerBlocks(statements) : new LedgerRows(statements);
    }

    @Override
    public ApprovalsTx approvals() {
        return new JdbcApprovals(statements);
    }

    private PreparedStatement prep(String sql) throws SQLException {
        return statements.prepare(sql);
    }

    /** Whether this transaction already asked PostgreSQL for generic plans ({@link #genericPlans}). */
    private boolean genericPlans;

    private static final String SET_GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan";

    /**
     * PostgreSQL: the rest of this transaction runs prepared statements with their generic plans.
     * A worker's turn (the completion, the claim, the ledger append) runs the same few statements
     * with new values, and their plans do not depend on those values (primary-key look-ups, the
     * claim index in claim order), but the planner kept choosing custom plans for the claim and the
     * completion, planning both anew on every turn: about a tenth of a turn's time in PostgreSQL.
     * {@code SET LOCAL} ends with the transaction, so nothing else on the pooled connection is affected.
     */
    private void genericPlans() throws SQLException {
        if (postgres() && !genericPlans) {
            prep(SET_GENERIC_PLANS).execute();
            genericPlans = true;
        }
    }

    @FunctionalInterface
    interface Sql<T> {
        T run() throws SQLException;
    }

    /** Runs JDBC work, turning {@link SQLException} into {@link StoreException}. */
    static <T> T sql(Sql<T> s) {
        try {
            return s.run();
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    // ------------------------------------------------------------------ jobs

    @Override
    public void insertJob(JobRow r) {
        insertJobs(List.of(r));
    }

    /**
     * PostgreSQL: every row in one statement, a column per array parameter ({@code unnest}): the
     * server plans and runs one INSERT instead of one per row, which was over a third of an
     * enqueue's time as a JDBC batch. SQLite (in process, no round trips): a JDBC batch.
     */
    @Override
    public void insertJobs(List<JobRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        sql(() -> {
            if (postgres()) {
                PreparedStatement ps = prep(INSERT_JOBS_AT_ONCE);
                Object[][] values = rows.stream().map(JdbcTx::jobValues).toArray(Object[][]::new);
                for (int c = 0; c < JOB_COLUMN_TYPES.length; c++) {
                    Object[] column = new Object[values.length];
                    for (int i = 0; i < column.length; i++) {
                        column[i] = values[i][c];
                    }
                    ps.setArray(c + 1, ps.getConnection().createArrayOf(JOB_COLUMN_TYPES[c], column));
                }
                ps.executeUpdate();
                return null;
            }
            PreparedStatement ps = prep("INSERT INTO jobs (" + JOB_COLUMNS + ") VALUES ("
                    + String.join(",", java.util.Collections.nCopies(JOB_COLUMN_TYPES.length, "?")) + ")");
            for (JobRow r : rows) {
                bind(ps, jobValues(r));
                ps.addBatch();
            }
            ps.executeBatch();
            return null;
        });
    }

    /** {@link #JOB_COLUMNS}' PostgreSQL types, in order. */
    private static final String[] JOB_COLUMN_TYPES = {"text", "text", "text", "text", "int4", "int8", "int4", "int4", "int8",
            "bool", "text", "text", "text", "text", "text", "text", "text", "text", "int8", "bool", "int8", "int8", "int8", "int8"};

    private static final String INSERT_JOBS_AT_ONCE = "INSERT INTO jobs (" + JOB_COLUMNS + ") SELECT * FROM unnest("
            + java.util.Arrays.stream(JOB_COLUMN_TYPES).map(t -> "?::" + t + "[]").collect(java.util.stream.Collectors.joining(", ")) + ")";

    /** A row's values in {@link #JOB_COLUMNS} order. */
    private static Object[] jobValues(JobRow r) {
        return new Object[] {r.id(), r.kind(), r.project(), r.state().name(), r.priority(), r.runAfter(), r.attempts(),
                r.maxAttempts(), r.claims(), r.retryOnLeaseLoss(), r.idempotencyKey(), r.slot(), r.spec(), r.labels(),
                r.result(), r.errorCode(), r.errorMessage(), r.leaseOwner(), r.leaseExpiresAt(), r.cancelRequested(),
                r.createdAt(), r.updatedAt(), r.startedAt(), r.finishedAt()};
    }

    @Override
    public Optional<JobRow> findJob(String id) {
        return queryJobs("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?", id).stream().findFirst();
    }

    @Override
    public Optional<JobRow> findJobByIdempotencyKey(String key) {
        return queryJobs("SELECT " + JOB_COLUMNS + " FROM jobs WHERE idempotency_key = ?", key).stream().findFirst();
    }

    @Override
    public List<JobRow> listJobs(JobFilter f) {
        StringBuilder q = new StringBuilder("SELECT " + JOB_COLUMNS + " FROM jobs WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (f.state() != null) {
            // a literal (an enum's name), so the planner can use the state's partial index (V12)
            q.append(" AND state = '").append(f.state().name()).append("'");
        }
        if (f.kind() != null) {
            q.append(" AND kind = ?");
            args.add(f.kind());
        }
        for (Map.Entry<String, String> l : f.labels().entrySet()) {
            q.append(" AND ").append(dialect.labelEqualsSql());
            args.add(l.getKey());
            args.add(l.getValue());
        }
        q.append(" ORDER BY id DESC LIMIT ? OFFSET ?"); // the id's ULID is the enqueue time (V9)
        args.add(f.limit());
        args.add(f.offset());
        return queryJobs(q.toString(), args.toArray());
    }

    private static final String COUNT_BY_STATE = java.util.Arrays.stream(JobState.values())
            .filter(st -> st != JobState.succeeded)
            .map(st -> "SELECT '" + st.name() + "', COUNT(*) FROM jobs WHERE state = '" + st.name() + "'")
            .collect(Collectors.joining(" UNION ALL ", "", " UNION ALL SELECT '', COUNT(*) FROM jobs"));

    @Override
    public Map<JobState, Long> countByState() {
        return sql(() -> {
            Map<JobState, Long> m = new EnumMap<>(JobState.class);
            // one statement (one snapshot): each state but succeeded counted from its partial index
            // (V12), and succeeded as what remains of the total, so no index over state is needed
            PreparedStatement ps = prep(COUNT_BY_STATE);
            long all = 0;
            long others = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long n = rs.getLong(2);
                    if (rs.getString(1).isEmpty()) {
                        all = n;
                    } else if (n > 0) {
                        m.put(JobState.valueOf(rs.getString(1)), n);
                        others += n;
                    }
                }
            }
            if (all > others) {
                m.put(JobState.succeeded, all - others);
            }
            return m;
        });
    }

    @Override
    public List<JobRow> claimCandidates(long now, int limit, Collection<String> openSlots) {
        StringBuilder q = new StringBuilder("SELECT " + JOB_COLUMNS
                + " FROM " + dialect.claimFrom() + " WHERE state = 'queued' AND run_after <= ?");
        List<Object> args = new ArrayList<>();
        args.add(now);
        if (openSlots.isEmpty()) {
            q.append(" AND slot IS NULL");
        } else {
            q.append(" AND (slot IS NULL OR slot IN (")
                    .append(openSlots.stream().map(s -> "?").collect(Collectors.joining(","))).append("))");
            args.addAll(openSlots);
        }
        q.append(" ORDER BY priority DESC, run_after, id LIMIT ?").append(dialect.claimLockSuffix());
        args.add(limit);
        return queryJobs(q.toString(), args.toArray());
    }

    @Override
    public Map<String, Integer> runningBySlot(Collection<String> slotsToLock) {
        return sql(() -> {
            if (dialect.slotLockSql() != null) {
                PreparedStatement lock = prep(dialect.slotLockSql());
                for (String slot : new java.util.TreeSet<>(slotsToLock)) { // one order everywhere: no deadlock
                    lock.setLong(1, slotLockKey(slot));
                    lock.execute();
                }
            }
            Map<String, Integer> m = new HashMap<>();
            PreparedStatement ps = prep(
                    "SELECT slot, COUNT(*) FROM jobs WHERE state = 'running' AND slot IS NOT NULL GROUP BY slot");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    m.put(rs.getString(1), rs.getInt(2));
                }
            }
            return m;
        });
    }

    @Override
    public void markClaimed(List<JobRow> claimed) {
        if (claimed.isEmpty()) {
            return;
        }
        sql(() -> {
            PreparedStatement ps = prep("UPDATE jobs SET state = 'running', lease_owner = ?, "
                    + "lease_expires_at = ?, attempts = ?, claims = ?, started_at = ?, updated_at = ?, "
                    + "cancel_requested = ?, result = NULL, error_code = NULL, error_message = NULL "
                    + "WHERE id = ? AND " + stateFence(java.util.EnumSet.of(JobState.queued)));
            java.sql.Array queued = stateFenceValue(ps, java.util.EnumSet.of(JobState.queued));
            for (JobRow r : claimed) {
                ps.setString(1, r.leaseOwner());
                setLong(ps, 2, r.leaseExpiresAt());
                ps.setInt(3, r.attempts());
                ps.setLong(4, r.claims());
                setLong(ps, 5, r.startedAt());
                ps.setLong(6, r.updatedAt());
                ps.setBoolean(7, false);
                ps.setString(8, r.id());
                bindStateFence(ps, 9, queued);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int n : counts) {
                if (n == 0) {
                    throw new StoreException(new SQLException("claimed row was no longer queued"));
                }
            }
            return null;
        });
    }

    private boolean postgres() {
        return "postgresql".equals(dialect.name());
    }

    private static final java.util.Comparator<JobRow> CLAIM_ORDER = java.util.Comparator.comparingInt(JobRow::priority)
            .reversed().thenComparingLong(JobRow::runAfter).thenComparing(JobRow::id);

    @Override
    public List<JobRow> claimUnslotted(long now, int limit, String owner, long leaseUntil, String stopKey) {
        return sql(() -> {
            genericPlans();
            PreparedStatement ps = prep(claimUnslottedSql());
            bindClaimUnslotted(ps, 1, now, limit, owner, leaseUntil, stopKey);
            List<JobRow> out = new ArrayList<>(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(readJob(rs));
                }
            }
            out.sort(CLAIM_ORDER);
            return out;
        });
    }

    /** {@link #claimUnslotted}'s statement: the same SET as markClaimed with JobRow.claimed's values. */
    private static String claimUnslottedSql(Dialect dialect) {
        // on PostgreSQL ARRAY(…) makes the locking subquery an init plan, run exactly once
        String pick = "SELECT id FROM " + dialect.claimFrom() + " WHERE state = 'queued' AND run_after <= ? AND slot IS NULL "
                + "AND NOT EXISTS (SELECT 1 FROM settings WHERE key = ? AND value = 'on') "
                + "ORDER BY priority DESC, run_after, id LIMIT ?" + dialect.claimLockSuffix();
        return "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, "
                + "attempts = attempts + 1, claims = claims + 1, started_at = ?, updated_at = ?, "
                + "cancel_requested = FALSE, result = NULL, error_code = NULL, error_message = NULL "
                + "WHERE id " + (dialect == Dialect.POSTGRES ? "= ANY(ARRAY(" + pick + "))" : "IN (" + pick + ")")
                + " AND state = 'queued' RETURNING " + JOB_COLUMNS;
    }

    private static final String CLAIM_UNSLOTTED_SQLITE = claimUnslottedSql(Dialect.SQLITE);
    private static final String CLAIM_UNSLOTTED_POSTGRES = claimUnslottedSql(Dialect.POSTGRES);

    private String claimUnslottedSql() {
        return postgres() ? CLAIM_UNSLOTTED_POSTGRES : CLAIM_UNSLOTTED_SQLITE;
    }

    /** Binds {@link #claimUnslottedSql}'s seven parameters from {@code first}. */
    private static void bindClaimUnslotted(PreparedStatement ps, int first, long now, int limit, String owner,
                                           long leaseUntil, String stopKey) throws SQLException {
        ps.setString(first, owner);
        ps.setLong(first + 1, leaseUntil);
        ps.setLong(first + 2, now);
        ps.setLong(first + 3, now);
        ps.setLong(first + 4, now);
        ps.setString(first + 5, stopKey);
        ps.setInt(first + 6, limit);
    }

    /**
     * PostgreSQL: the outcomes' update ({@link #UPDATE_JOBS_AT_ONCE}) and the claim as two
     * data-modifying parts of one statement, sent with the {@code SET LOCAL} of {@link #genericPlans}
     * in one round trip. Both parts see the jobs as they were before the statement, so the claim
     * cannot take a job an outcome requeues, and no row is written by both. The answer is the claimed
     * rows, then the id of every outcome row written.
     */
    @Override
    public CompletedAndClaimed completeRunningAndClaimUnslotted(List<JobRow> rows, long[] expectedClaims, long now,
                                                                int limit, String owner, long leaseUntil, String stopKey) {
        Map<String, Integer> at = postgres() ? indexById(rows) : null;
        if (at == null) {
            return Tx.super.completeRunningAndClaimUnslotted(rows, expectedClaims, now, limit, owner, leaseUntil, stopKey);
        }
        return sql(() -> {
            PreparedStatement ps = prep(COMPLETE_AND_CLAIM_POSTGRES);
            int next = bindUpdateJobsAtOnce(ps, rows, java.util.EnumSet.of(JobState.running), expectedClaims);
            bindClaimUnslotted(ps, next, now, limit, owner, leaseUntil, stopKey);
            genericPlans = true;
            boolean[] written = new boolean[rows.size()];
            List<JobRow> claimed = new ArrayList<>(limit);
            try (ResultSet rs = rowsOf(ps)) {
                while (rs.next()) {
                    if (rs.getBoolean(JOB_COLUMN_COUNT + 1)) {
                        written[at.get(rs.getString(1))] = true;
                    } else {
                        claimed.add(readJob(rs));
                    }
                }
            }
            claimed.sort(CLAIM_ORDER);
            return new CompletedAndClaimed(written, claimed);
        });
    }

    @Override
    public List<LeaseView> heartbeat(String owner, Collection<String> ids, long leaseUntil, long now) {
        return sql(() -> {
            if (!ids.isEmpty() && postgres()) {
                // one statement, and it never waits for a row lock: a row another transaction holds is
                // being completed, claimed or cancelled by it (a dispatcher turn of this node, another
                // node's reaper, an operator), and waiting for it could close a cycle with a turn that
                // waits for a row this heartbeat renewed. Its lease is renewed by the next heartbeat.
                PreparedStatement extend = prep(HEARTBEAT_POSTGRES);
                extend.setLong(1, leaseUntil);
                extend.setArray(2, extend.getConnection().createArrayOf("text", ids.toArray()));
                extend.setString(3, owner);
                extend.executeUpdate();
            } else if (!ids.isEmpty()) {
                PreparedStatement extend = prep("UPDATE jobs SET lease_expires_at = ? "
                        + "WHERE id = ? AND lease_owner = ? AND " + stateFence(java.util.EnumSet.of(JobState.running)));
                java.sql.Array running = stateFenceValue(extend, java.util.EnumSet.of(JobState.running));
                for (String id : ids) {
                    extend.setLong(1, leaseUntil);
                    extend.setString(2, id);
                    extend.setString(3, owner);
                    bindStateFence(extend, 4, running);
                    extend.addBatch();
                }
                extend.executeBatch();
            }
            List<LeaseView> out = new ArrayList<>();
            PreparedStatement held = prep("SELECT id, claims, cancel_requested FROM jobs "
                    + "WHERE lease_owner = ? AND state = 'running'");
            held.setString(1, owner);
            try (ResultSet rs = held.executeQuery()) {
                while (rs.next()) {
                    out.add(new LeaseView(rs.getString(1), rs.getLong(2), rs.getBoolean(3)));
                }
            }
            return out;
        });
    }

    /** PostgreSQL's lease renewal: the rows of {@code ids} still running for the owner that no transaction holds. */
    private static final String HEARTBEAT_POSTGRES = "UPDATE jobs SET lease_expires_at = ? WHERE id = ANY(ARRAY("
            + "SELECT id FROM jobs WHERE id = ANY(?) AND lease_owner = ? AND state = 'running' FOR UPDATE SKIP LOCKED))";

    @Override
    public boolean updateJob(JobRow r, Set<JobState> expectedStates, long expectedClaims) {
        return sql(() -> {
            PreparedStatement ps = prep(UPDATE_JOB_SET + stateFence(expectedStates));
            bindUpdate(ps, r, expectedClaims);
            bindStateFence(ps, 18, stateFenceValue(ps, expectedStates));
            return ps.executeUpdate() == 1;
        });
    }

    private static final String UPDATE_JOB_SET = "UPDATE jobs SET state = ?, priority = ?, run_after = ?, "
            + "attempts = ?, max_attempts = ?, claims = ?, result = ?, error_code = ?, error_message = ?, "
            + "lease_owner = ?, lease_expires_at = ?, cancel_requested = ?, updated_at = ?, started_at = ?, "
            + "finished_at = ? WHERE id = ? AND claims = ? AND ";

    /**
     * The expected-state fence of an update by id. On PostgreSQL it is an array parameter: with the
     * states written in, the generic plan of the prepared statement preferred an index on
     * {@code state} (the partial running index, or (state, id)) over the primary key, and
     * such an index holds an entry for every row version that was ever in that state until vacuum
     * removes it, so each update walked thousands of dead entries during a drain. With a parameter
     * the only usable index is the primary key's.
     */
    private String stateFence(Set<JobState> states) {
        return postgres() ? "state = ANY(?)"
                : "state IN (" + states.stream().map(s -> "'" + s.name() + "'").collect(Collectors.joining(",")) + ")";
    }

    /** The value {@link #stateFence} binds (null where the states are written in): made once per statement, not per row. */
    private java.sql.Array stateFenceValue(PreparedStatement ps, Set<JobState> states) throws SQLException {
        return postgres() ? ps.getConnection().createArrayOf("text", states.stream().map(Enum::name).toArray()) : null;
    }

    private static void bindStateFence(PreparedStatement ps, int index, java.sql.Array fence) throws SQLException {
        if (fence != null) {
            ps.setArray(index, fence);
        }
    }

    private static void bindUpdate(PreparedStatement ps, JobRow r, long expectedClaims) throws SQLException {
        ps.setString(1, r.state().name());
        ps.setInt(2, r.priority());
        ps.setLong(3, r.runAfter());
        ps.setInt(4, r.attempts());
        ps.setInt(5, r.maxAttempts());
        ps.setLong(6, r.claims());
        ps.setString(7, r.result());
        ps.setString(8, r.errorCode());
        ps.setString(9, r.errorMessage());
        ps.setString(10, r.leaseOwner());
        setLong(ps, 11, r.leaseExpiresAt());
        ps.setBoolean(12, r.cancelRequested());
        ps.setLong(13, r.updatedAt());
        setLong(ps, 14, r.startedAt());
        setLong(ps, 15, r.finishedAt());
        ps.setString(16, r.id());
        ps.setLong(17, expectedClaims);
    }

    @Override
    public boolean[] updateJobs(List<JobRow> rows, Set<JobState> expectedStates, long[] expectedClaims) {
        if (rows.isEmpty()) {
            return new boolean[0];
        }
        return postgres() && rows.size() > 1 ? updateJobsAtOnce(rows, expectedStates, expectedClaims)
                : updateJobsOneByOne(rows, expectedStates, expectedClaims);
    }

    /** {@link #updateJobs} as a batch of single-row updates. */
    private boolean[] updateJobsOneByOne(List<JobRow> rows, Set<JobState> expectedStates, long[] expectedClaims) {
        boolean[] written = new boolean[rows.size()];
        return sql(() -> {
            PreparedStatement ps = prep(UPDATE_JOB_SET + stateFence(expectedStates));
            java.sql.Array fence = stateFenceValue(ps, expectedStates);
            for (int i = 0; i < rows.size(); i++) {
                bindUpdate(ps, rows.get(i), expectedClaims[i]);
                bindStateFence(ps, 18, fence);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == Statement.SUCCESS_NO_INFO) {
                    throw new StoreException(new SQLException("the driver did not report which jobs were updated"));
                }
                written[i] = counts[i] == 1;
            }
            return written;
        });
    }

    /**
     * PostgreSQL: every row of {@link #updateJobs} in one statement, the new values as arrays joined
     * to the rows by id. A batch of single-row updates costs PostgreSQL a statement each (executor
     * start and end, with the table's eight indexes opened and closed every time): in a drain's turn
     * that was as much again as the updates themselves. The fence is the same as the single-row
     * update's (claims, and the states as an array parameter, so the only index for the join is
     * the primary key). Rows whose id repeats in one call cannot be told apart in the statement's
     * answer: they go through the batch.
     */
    private boolean[] updateJobsAtOnce(List<JobRow> rows, Set<JobState> expectedStates, long[] expectedClaims) {
        Map<String, Integer> at = indexById(rows);
        if (at == null) {
            return updateJobsOneByOne(rows, expectedStates, expectedClaims);
        }
        return sql(() -> {
            genericPlans();
            PreparedStatement ps = prep(UPDATE_JOBS_AT_ONCE);
            bindUpdateJobsAtOnce(ps, rows, expectedStates, expectedClaims);
            boolean[] written = new boolean[rows.size()];
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    written[at.get(rs.getString(1))] = true;
                }
            }
            return written;
        });
    }

    /** Runs {@code ps} and returns its query's rows, past the counts of the statements before it (a {@code SET}). */
    private static ResultSet rowsOf(PreparedStatement ps) throws SQLException {
        boolean rows = ps.execute();
        while (!rows) {
            if (ps.getUpdateCount() == -1) {
                throw new SQLException("the statement returned no rows");
            }
            rows = ps.getMoreResults();
        }
        return ps.getResultSet();
    }

    /** Each row's position by id; null when an id repeats (the statement's answer could not tell them apart). */
    private static Map<String, Integer> indexById(List<JobRow> rows) {
        Map<String, Integer> at = new HashMap<>(rows.size() * 2);
        for (int i = 0; i < rows.size(); i++) {
            if (at.put(rows.get(i).id(), i) != null) {
                return null;
            }
        }
        return at;
    }

    /** Binds {@link #UPDATE_JOBS_AT_ONCE}'s arrays and state fence from the first parameter; returns the next parameter's index. */
    private int bindUpdateJobsAtOnce(PreparedStatement ps, List<JobRow> rows, Set<JobState> expectedStates,
                                     long[] expectedClaims) throws SQLException {
        int n = rows.size();
        String[] id = new String[n], state = new String[n], result = new String[n], errorCode = new String[n],
                errorMessage = new String[n], leaseOwner = new String[n];
        Integer[] priority = new Integer[n], attempts = new Integer[n], maxAttempts = new Integer[n];
        Long[] runAfter = new Long[n], claims = new Long[n], leaseExpiresAt = new Long[n], updatedAt = new Long[n],
                startedAt = new Long[n], finishedAt = new Long[n], expected = new Long[n];
        Boolean[] cancelRequested = new Boolean[n];
        for (int i = 0; i < n; i++) {
            JobRow r = rows.get(i);
            id[i] = r.id();
            state[i] = r.state().name();
            priority[i] = r.priority();
            runAfter[i] = r.runAfter();
            attempts[i] = r.attempts();
            maxAttempts[i] = r.maxAttempts();
            claims[i] = r.claims();
            result[i] = r.result();
            errorCode[i] = r.errorCode();
            errorMessage[i] = r.errorMessage();
            leaseOwner[i] = r.leaseOwner();
            leaseExpiresAt[i] = r.leaseExpiresAt();
            cancelRequested[i] = r.cancelRequested();
            updatedAt[i] = r.updatedAt();
            startedAt[i] = r.startedAt();
            finishedAt[i] = r.finishedAt();
            expected[i] = expectedClaims[i];
        }
        java.sql.Connection c = ps.getConnection();
        Object[][] columns = {id, state, priority, runAfter, attempts, maxAttempts, claims, result, errorCode,
                errorMessage, leaseOwner, leaseExpiresAt, cancelRequested, updatedAt, startedAt, finishedAt, expected};
        for (int k = 0; k < columns.length; k++) {
            ps.setArray(k + 1, c.createArrayOf(AT_ONCE_TYPES[k], columns[k]));
        }
        ps.setArray(columns.length + 1, stateFenceValue(ps, expectedStates));
        return columns.length + 2;
    }

    /** The element types of {@link #UPDATE_JOBS_AT_ONCE}'s arrays, in order. */
    private static final String[] AT_ONCE_TYPES = {"text", "text", "int4", "int8", "int4", "int4", "int8", "text", "text",
            "text", "text", "int8", "bool", "int8", "int8", "int8", "int8"};

    private static final String UPDATE_JOBS_AT_ONCE = "UPDATE jobs j SET state = v.state, priority = v.priority, "
            + "run_after = v.run_after, attempts = v.attempts, max_attempts = v.max_attempts, claims = v.claims, "
            + "result = v.result, error_code = v.error_code, error_message = v.error_message, "
            + "lease_owner = v.lease_owner, lease_expires_at = v.lease_expires_at, "
            + "cancel_requested = v.cancel_requested, updated_at = v.updated_at, started_at = v.started_at, "
            + "finished_at = v.finished_at "
            + "FROM unnest(?::text[], ?::text[], ?::int4[], ?::int8[], ?::int4[], ?::int4[], ?::int8[], ?::text[], "
            + "?::text[], ?::text[], ?::text[], ?::int8[], ?::bool[], ?::int8[], ?::int8[], ?::int8[], ?::int8[]) "
            + "AS v(id, state, priority, run_after, attempts, max_attempts, claims, result, error_code, error_message, "
            + "lease_owner, lease_expires_at, cancel_requested, updated_at, started_at, finished_at, expected_claims) "
            + "WHERE j.id = v.id AND j.claims = v.expected_claims AND j.state = ANY(?) RETURNING j.id";

    /** {@link #completeRunningAndClaimUnslotted}'s statement, after the {@code SET LOCAL} of {@link #genericPlans}. */
    private static final String COMPLETE_AND_CLAIM_POSTGRES = SET_GENERIC_PLANS + "; WITH done AS (" + UPDATE_JOBS_AT_ONCE
            + "), claimed AS (" + CLAIM_UNSLOTTED_POSTGRES + ") SELECT " + JOB_COLUMNS + ", FALSE FROM claimed "
            + "UNION ALL SELECT id" + ", NULL".repeat(JOB_COLUMN_COUNT - 1) + ", TRUE FROM done";

    @Override
    public List<JobRow> expiredLeases(long now, int limit) {
        return queryJobs("SELECT " + JOB_COLUMNS + " FROM " + dialect.expiredFrom() + " WHERE state = 'running' AND lease_expires_at < ? "
                + "ORDER BY lease_expires_at LIMIT ?" + dialect.claimLockSuffix(), now, limit);
    }

    private List<JobRow> queryJobs(String query, Object... args) {
        return sql(() -> {
            PreparedStatement ps = prep(query);
            bind(ps, args);
            List<JobRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(readJob(rs));
                }
            }
            return out;
        });
    }

    private static JobRow readJob(ResultSet rs) throws SQLException {
        return new JobRow(rs.getString(1), rs.getString(2), rs.getString(3), JobState.valueOf(rs.getString(4)),
                rs.getInt(5), rs.getLong(6), rs.getInt(7), rs.getInt(8), rs.getLong(9), rs.getBoolean(10),
                rs.getString(11), rs.getString(12), rs.getString(13), rs.getString(14), rs.getString(15),
                rs.getString(16), rs.getString(17), rs.getString(18), getLong(rs, 19), rs.getBoolean(20),
                rs.getLong(21), rs.getLong(22), getLong(rs, 23), getLong(rs, 24));
    }

    // ------------------------------------------------------------------ node registry

    @Override
    public void putWorker(WorkerRow w) {
        sql(() -> {
            PreparedStatement ps = prep("INSERT INTO workers (id, node, pid, concurrency, started_at, heartbeat_at, stopped_at) "
                    + "VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, "
                    + "stopped_at = excluded.stopped_at");
            ps.setString(1, w.id());
            ps.setString(2, w.node());
            ps.setLong(3, w.pid());
            ps.setInt(4, w.concurrency());
            ps.setLong(5, w.startedAt());
            ps.setLong(6, w.heartbeatAt());
            setLong(ps, 7, w.stoppedAt());
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public List<WorkerRow> workers() {
        return sql(() -> {
            List<WorkerRow> out = new ArrayList<>();
            PreparedStatement ps = prep("SELECT id, node, pid, concurrency, started_at, heartbeat_at, stopped_at FROM workers "
                    + "ORDER BY heartbeat_at DESC, id");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new WorkerRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getInt(4), rs.getLong(5),
                            rs.getLong(6), getLong(rs, 7)));
                }
            }
            return out;
        });
    }

    @Override
    public Map<String, Integer> runningByOwner() {
        return sql(() -> {
            Map<String, Integer> m = new HashMap<>();
            PreparedStatement ps = prep("SELECT lease_owner, COUNT(*) FROM jobs WHERE state = 'running' GROUP BY lease_owner");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    m.put(rs.getString(1), rs.getInt(2));
                }
            }
            return m;
        });
    }

    // ------------------------------------------------------------------ schedules

    private static final String SCHEDULE_COLUMNS = "name, cron, spec, enabled, allow_overlap, catch_up, next_fire_at, "
            + "last_fire_at, last_job_id, created_at, updated_at";

    @Override
    public void putSchedule(ScheduleRow r) {
        sql(() -> {
            PreparedStatement ps = prep("INSERT INTO schedules (" + SCHEDULE_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                    + "ON CONFLICT(name) DO UPDATE SET cron = excluded.cron, spec = excluded.spec, enabled = excluded.enabled, "
                    + "allow_overlap = excluded.allow_overlap, catch_up = excluded.catch_up, next_fire_at = excluded.next_fire_at, "
                    + "last_fire_at = excluded.last_fire_at, last_job_id = excluded.last_job_id, updated_at = excluded.updated_at");
            ps.setString(1, r.name());
            ps.setString(2, r.cron());
            ps.setString(3, r.spec());
            ps.setBoolean(4, r.enabled());
            ps.setBoolean(5, r.allowOverlap());
            ps.setString(6, r.catchUp());
            setLong(ps, 7, r.nextFireAt());
            setLong(ps, 8, r.lastFireAt());
            ps.setString(9, r.lastJobId());
            ps.setLong(10, r.createdAt());
            ps.setLong(11, r.updatedAt());
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public Optional<ScheduleRow> findSchedule(String name) {
        return querySchedules("SELECT " + SCHEDULE_COLUMNS + " FROM schedules WHERE name = ?", name).stream().findFirst();
    }

    @Override
    public List<ScheduleRow> schedules() {
        return querySchedules("SELECT " + SCHEDULE_COLUMNS + " FROM schedules ORDER BY name");
    }

    @Override
    public boolean deleteSchedule(String name) {
        return sql(() -> {
            PreparedStatement ps = prep("DELETE FROM schedules WHERE name = ?");
            ps.setString(1, name);
            return ps.executeUpdate() == 1;
        });
    }

    @Override
    public List<ScheduleRow> dueSchedules(long now, int limit) {
        return querySchedules(dialect.dueSchedulesSql(), now, limit);
    }

    private List<ScheduleRow> querySchedules(String query, Object... args) {
        return sql(() -> {
            PreparedStatement ps = prep(query);
            bind(ps, args);
            List<ScheduleRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ScheduleRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                            rs.getBoolean(5), rs.getString(6), getLong(rs, 7), getLong(rs, 8), rs.getString(9),
                            rs.getLong(10), rs.getLong(11)));
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ evidence files

    @Override
    public void putEvidenceFile(String jobId, String name, byte[] content, long now) {
        sql(() -> {
            PreparedStatement ps = prep("INSERT INTO evidence_files (job_id, name, content, updated_at) VALUES (?,?,?,?) "
                    + "ON CONFLICT(job_id, name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at");
            ps.setString(1, jobId);
            ps.setString(2, name);
            ps.setBytes(3, content);
            ps.setLong(4, now);
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public Map<String, byte[]> evidenceFiles(String jobId) {
        return sql(() -> {
            Map<String, byte[]> out = new java.util.TreeMap<>();
            PreparedStatement ps = prep("SELECT name, content FROM evidence_files WHERE job_id = ?");
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getBytes(2));
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ settings

    @Override
    public boolean reserveSpend(String scope, String day, long nano, long capNano) {
        if (capNano >= 0 && nano > capNano) {
            return false; // over the cap on its own, whatever is spent (and no row is created for it)
        }
        return sql(() -> {
            // one statement: a first reservation creates the row (within the cap, checked above); a
            // later one adds to it only while spent + reserved stays within the cap
            PreparedStatement up = prep("INSERT INTO model_spend(scope, day, reserved_nano) VALUES (?, ?, ?) "
                    + "ON CONFLICT(scope, day) DO UPDATE SET reserved_nano = model_spend.reserved_nano + excluded.reserved_nano "
                    + "WHERE ? < 0 OR model_spend.spent_nano + model_spend.reserved_nano + excluded.reserved_nano <= ?");
            up.setString(1, scope);
            up.setString(2, day);
            up.setLong(3, nano);
            up.setLong(4, capNano);
            up.setLong(5, capNano);
            return up.executeUpdate() == 1;
        });
    }

    @Override
    public void settleSpend(String scope, String day, long reservedNano, long spentNano, long tokens) {
        sql(() -> {
            PreparedStatement up = prep("UPDATE model_spend SET reserved_nano = reserved_nano - ?, spent_nano = spent_nano + ?, "
                    + "tokens = tokens + ?, calls = calls + 1 WHERE scope = ? AND day = ?");
            up.setLong(1, reservedNano);
            up.setLong(2, spentNano);
            up.setLong(3, tokens);
            up.setString(4, scope);
            up.setString(5, day);
            if (up.executeUpdate() != 1) {
                throw new IllegalStateException("no spend row for " + scope + " on '" + day + "' to settle");
            }
            return null;
        });
    }

    private static final String SPEND_COLUMNS = "scope, day, reserved_nano, spent_nano, tokens, calls";

    @Override
    public Optional<SpendRow> spend(String scope, String day) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT " + SPEND_COLUMNS + " FROM model_spend WHERE scope = ? AND day = ?");
            ps.setString(1, scope);
            ps.setString(2, day);
            List<SpendRow> rows = spendRows(ps);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        });
    }

    @Override
    public List<SpendRow> spendOn(String day) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT " + SPEND_COLUMNS + " FROM model_spend WHERE day = ? ORDER BY scope");
            ps.setString(1, day);
            return spendRows(ps);
        });
    }

    @Override
    public List<SpendRow> spendDays(String scope, int limit) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT " + SPEND_COLUMNS + " FROM model_spend WHERE scope = ? ORDER BY day DESC LIMIT ?");
            ps.setString(1, scope);
            ps.setInt(2, limit);
            return spendRows(ps);
        });
    }

    @Override
    public List<Map.Entry<Long, JobState>> finishedSince(long since) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT finished_at, state FROM jobs WHERE finished_at >= ?");
            ps.setLong(1, since);
            List<Map.Entry<Long, JobState>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Map.entry(rs.getLong(1), JobState.parse(rs.getString(2))));
                }
            }
            return out;
        });
    }

    private static List<SpendRow> spendRows(PreparedStatement ps) throws SQLException {
        List<SpendRow> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new SpendRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6)));
            }
        }
        return out;
    }

    private static final String TOKEN_COLUMNS = "name, token_hash, fingerprint, usd_per_day_nano, routes, created_at, revoked_at";

    @Override
    public void insertGatewayToken(GatewayTokenRow r) {
        sql(() -> {
            PreparedStatement ps = prep("INSERT INTO gateway_tokens(" + TOKEN_COLUMNS + ") VALUES (?,?,?,?,?,?,?)");
            ps.setString(1, r.name());
            ps.setString(2, r.tokenHash());
            ps.setString(3, r.fingerprint());
            ps.setLong(4, r.usdPerDayNano());
            ps.setString(5, r.routes());
            ps.setLong(6, r.createdAt());
            if (r.revokedAt() == null) {
                ps.setNull(7, Types.BIGINT);
            } else {
                ps.setLong(7, r.revokedAt());
            }
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public Optional<GatewayTokenRow> gatewayTokenByHash(String tokenHash) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT " + TOKEN_COLUMNS + " FROM gateway_tokens WHERE token_hash = ?");
            ps.setString(1, tokenHash);
            List<GatewayTokenRow> rows = tokenRows(ps);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        });
    }

    @Override
    public List<GatewayTokenRow> gatewayTokens() {
        return sql(() -> tokenRows(prep("SELECT " + TOKEN_COLUMNS + " FROM gateway_tokens ORDER BY name")));
    }

    private static List<GatewayTokenRow> tokenRows(PreparedStatement ps) throws SQLException {
        List<GatewayTokenRow> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long revokedAt = rs.getLong(7);
                Long revoked = rs.wasNull() ? null : revokedAt;
                out.add(new GatewayTokenRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                        rs.getLong(6), revoked));
            }
        }
        return out;
    }

    @Override
    public boolean revokeGatewayToken(String name, long now) {
        return sql(() -> {
            PreparedStatement ps = prep("UPDATE gateway_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL");
            ps.setLong(1, now);
            ps.setString(2, name);
            return ps.executeUpdate() == 1;
        });
    }

    @Override
    public Optional<String> setting(String key) {
        return sql(() -> {
            PreparedStatement ps = prep("SELECT value FROM settings WHERE key = ?");
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        });
    }

    @Override
    public void putSetting(String key, String value) {
        sql(() -> {
            PreparedStatement ps = prep(dialect.upsertSettingSql());
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
            return null;
        });
    }

    // ------------------------------------------------------------------ ledger

    @Override
    public Optional<LedgerHead> lockLedgerHead(String chain) {
        return sql(() -> {
            Optional<LedgerHead> head = selectHead(chain);
            if (head.isEmpty()) {
                // a new chain: create its head row first, so concurrent first appenders (other
                // processes of the same node) queue on the row lock instead of colliding on seq 1
                PreparedStatement ps = prep(dialect.createHeadSql());
                ps.setString(1, chain);
                ps.setString(2, "0".repeat(64));
                ps.executeUpdate();
                head = selectHead(chain).filter(h -> h.seq() > 0);
            }
            return head;
        });
    }

    private Optional<LedgerHead> selectHead(String chain) throws SQLException {
        PreparedStatement ps = prep("SELECT chain, seq, hash FROM ledger_heads WHERE chain = ?" + dialect.headLockSuffix());
        ps.setString(1, chain);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(new LedgerHead(rs.getString(1), rs.getLong(2), rs.getString(3))) : Optional.empty();
        }
    }

    @Override
    public void insertLedgerEntries(List<LedgerRow> rows) {
        sql(() -> {
            ledger.insert(rows);
            return null;
        });
    }

    @Override
    public void putLedgerHead(LedgerHead h) {
        sql(() -> {
            PreparedStatement ps = prep(dialect.upsertHeadSql());
            ps.setString(1, h.chain());
            ps.setLong(2, h.seq());
            ps.setString(3, h.hash());
            ps.executeUpdate();
            return null;
        });
    }

    @Override
    public boolean appendLedgerIfHead(LedgerHead expected, List<LedgerRow> rows, LedgerHead next) {
        return sql(() -> ledger.appendIfHead(expected, rows, next));
    }

    @Override
    public List<LedgerHead> ledgerHeads() {
        return sql(() -> {
            List<LedgerHead> out = new ArrayList<>();
            PreparedStatement ps = prep("SELECT chain, seq, hash FROM ledger_heads ORDER BY chain");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new LedgerHead(rs.getString(1), rs.getLong(2), rs.getString(3)));
                }
            }
            return out;
        });
    }

    @Override
    public List<String> ledgerChains() {
        return sql(ledger::chains);
    }

    @Override
    public List<LedgerRow> ledgerPage(String chain, long afterSeq, int limit) {
        return sql(() -> ledger.page(chain, afterSeq, limit));
    }

    @Override
    public List<LedgerRow> ledgerByCorrId(String corrId) {
        return sql(() -> ledger.byCorrId(corrId));
    }

    @Override
    public IndexPass indexLedgerCorrIds(int maxBlocksPerChain) {
        return sql(() -> ledger.indexCorrIds(maxBlocksPerChain));
    }

    @Override
    public List<LedgerRow> ledgerTail(int limit) {
        List<LedgerRow> rows = sql(() -> ledger.tailNewestFirst(limit));
        java.util.Collections.reverse(rows);
        return rows;
    }

    // ------------------------------------------------------------------ helpers

    static long slotLockKey(String slot) {
        return advisoryLockKey("warden-slot:" + slot);
    }

    /** A PostgreSQL advisory lock key for {@code name}: the first 64 bits of its SHA-256. */
    static long advisoryLockKey(String name) {
        return Long.parseUnsignedLong(dev.warden.common.Ids.sha256Hex(name).substring(0, 16), 16);
    }

    static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Integer n) {
                ps.setInt(i + 1, n);
            } else if (a instanceof Long n) {
                ps.setLong(i + 1, n);
            } else if (a instanceof Boolean b) {
                ps.setBoolean(i + 1, b);
            } else {
                ps.setString(i + 1, (String) a);
            }
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }

    private static Long getLong(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : v;
    }
}
