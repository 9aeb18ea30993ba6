package dev.warden.store;

/** The few SQL differences between the engines; everything else is shared in {@link JdbcTx}. */
public record Dialect(String name, String beginWriteSql, String claimLockSuffix, String headLockSuffix, String upsertSettingSql,
                      String upsertHeadSql, String labelEqualsSql, String claimFrom, String expiredFrom,
                      String slotLockSql) {
    /** Due enabled schedules, oldest due first; locked where the engine has row locks. */
    public String dueSchedulesSql() {
        String enabled = name.equals("sqlite") ? "enabled = 1" : "enabled";
        return "SELECT name, cron, spec, enabled, allow_overlap, catch_up, next_fire_at, last_fire_at, last_job_id, "
                + "created_at, updated_at FROM schedules WHERE " + enabled + " AND next_fire_at <= ? "
                + "ORDER BY next_fire_at LIMIT ?" + claimLockSuffix;
    }

    /** Creates a chain's head row at seq 0 unless it exists (same SQL on both engines). */
    public String createHeadSql() {
        return "INSERT INTO ledger_heads(chain, seq, hash) VALUES (?, 0, ?) ON CONFLICT(chain) DO NOTHING";
    }


    public static final Dialect SQLITE = new Dialect("sqlite", "BEGIN IMMEDIATE", "", "",
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            "INSERT INTO ledger_heads(chain, seq, hash) VALUES (?, ?, ?) ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            "json_extract(labels, '$.\"' || ? || '\"') = ?",
            // the partial claim index returns queued rows in claim order without a sort (SQLite's
            // planner preferred an index on state and sorted every queued row)
            "jobs INDEXED BY jobs_claim", "jobs INDEXED BY jobs_running_lease",
            // SQLite's single writer already serializes claims
            null);

    public static final Dialect POSTGRES = new Dialect("postgresql", "BEGIN", " FOR UPDATE SKIP LOCKED", " FOR UPDATE",
            SQLITE.upsertSettingSql, SQLITE.upsertHeadSql, "(labels::jsonb ->> ?) = ?", "jobs", "jobs",
            // claims that count a slot's running jobs must not interleave across nodes
            "SELECT pg_advisory_xact_lock(?)");
}
