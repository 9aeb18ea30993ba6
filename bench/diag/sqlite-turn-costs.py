#!/usr/bin/env python3
"""Where a SQLite drain's turn spends its time on the database side, Warden's schema against the floor's.

Builds a fresh SQLite file (WAL, synchronous=NORMAL, as Warden's store) with Warden's real
migrations (warden-app/src/main/resources/db/{sqlite,common}, applied in version order) or with the
floor's two tables (bench RawJdbcFloor + MinimalLedger), fills it with 50,000 queued noop jobs and
their enqueue entries, then drains it in turns of the dispatcher's shape: BEGIN IMMEDIATE; the last
turn's completions (Warden's single-row UPDATE, the floor's); a claim of 512 (Warden's statement,
RETURNING its 24 columns); one ledger row per completion and per claim (Warden's table and head, the
floor's table); COMMIT. Prints microseconds per job for each part. Only the database's work is
timed (Python's sqlite3 binds and fetches in C); sealing, the JDBC driver and Warden's Java are not
in it. Variants change Warden's schema or statement before the drain, to price one thing each.

usage: python3 bench/diag/sqlite-turn-costs.py [VARIANT ...]   (default: floor base)
  floor       the floor's tables and statements (with the minimal ledger's rows)
  base        Warden's schema and statements as they are
  nocorr      without the ledger's corr_id index (ledger_corr)
  retid       the claim returns only the id instead of the 24 columns
  nolease     without jobs_running_lease
  nopartials  without the four outcome indexes (jobs_failed, _escalated, _cancelled, _dead)
  narrow      completions set only what a success changes (state, result, updated_at, finished_at)
"""
import glob
import json
import os
import re
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'warden-app', 'src', 'main', 'resources', 'db')
JOBS = 50_000
BATCH = 512
SPEC = json.dumps({"kind": "noop", "budgets": {"wall_time_s": 60, "tool_calls": 0, "output_bytes": 1000}})
ENTRY = ('{"actor":"host:1234:ab","chain":"host","component":"worker","corr_id":"job-01JXXXXXXXXXXXXXXXXXXXXXXX",'
         '"details":{"attempt":1,"claim":1,"lease_expires_at":"2026-11-23T05:00:00.000Z","lease_owner":"host:1234:ab"},'
         '"event":"job.claimed","hash":"' + 'a' * 64 + '","prev_hash":"' + 'b' * 64 + '","schema":"warden.event.v1",'
         '"seq":1,"severity":"info","ts":"2026-11-23T05:00:00.000Z"}')  # ~440 B, as Warden's and the floor's entries
JOB_COLUMNS = ('id, kind, project, state, priority, run_after, attempts, max_attempts, claims, retry_on_lease_loss, '
               'idempotency_key, slot, spec, labels, result, error_code, error_message, lease_owner, lease_expires_at, '
               'cancel_requested, created_at, updated_at, started_at, finished_at')
VARIANTS = ('floor', 'base', 'nocorr', 'retid', 'nolease', 'nopartials', 'narrow')


def migrations():
    files = glob.glob(os.path.join(ROOT, 'sqlite', '*.sql')) + glob.glob(os.path.join(ROOT, 'common', '*.sql'))
    return sorted(files, key=lambda f: int(re.match(r'V(\d+)__', os.path.basename(f)).group(1)))


def job_id(i):
    return 'job-01JAB%021d' % i  # ULID-shaped, in enqueue order


def open_db(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute('PRAGMA journal_mode=WAL')
    c.execute('PRAGMA synchronous=NORMAL')
    return c


def fill_warden(c, variant):
    for f in migrations():
        with open(f) as sql:
            c.executescript(sql.read())
    if variant == 'nocorr':
        c.execute('DROP INDEX ledger_corr')
    if variant == 'nolease':
        c.execute('DROP INDEX jobs_running_lease')
    if variant == 'nopartials':
        for n in ('jobs_failed', 'jobs_escalated', 'jobs_cancelled', 'jobs_dead'):
            c.execute('DROP INDEX ' + n)
    c.execute("INSERT INTO ledger_heads (chain, seq, hash) VALUES ('host', ?, ?)", (JOBS, 'c' * 64))
    c.execute('BEGIN')
    c.executemany('INSERT INTO jobs (id, kind, project, state, priority, run_after, attempts, max_attempts, claims, '
                  'retry_on_lease_loss, idempotency_key, slot, spec, labels, created_at, updated_at) '
                  'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
                  [(job_id(i), 'noop', 'default', 'queued', 0, 1000, 0, 3, 0, 1, None, None, SPEC, '{}', 1000, 1000)
                   for i in range(JOBS)])
    c.executemany('INSERT INTO ledger (chain, seq, ts, event, corr_id, entry) VALUES (?,?,?,?,?,?)',
                  [('host', i + 1, 1000, 'job.enqueued', job_id(i), ENTRY) for i in range(JOBS)])
    c.execute('COMMIT')


def fill_floor(c):
    c.execute('CREATE TABLE floor_jobs (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, state SMALLINT NOT NULL, '
              'created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT)')
    c.execute('CREATE INDEX floor_claim ON floor_jobs (id) WHERE state = 0')
    c.execute('CREATE TABLE floor_ledger (seq INTEGER PRIMARY KEY, job BIGINT NOT NULL, entry TEXT NOT NULL)')
    c.execute('BEGIN')
    c.executemany('INSERT INTO floor_jobs (payload, state, created_at) VALUES (?, 0, 1000)', [(SPEC,) for _ in range(JOBS)])
    c.executemany('INSERT INTO floor_ledger (seq, job, entry) VALUES (?,?,?)', [(i + 1, i + 1, ENTRY) for i in range(JOBS)])
    c.execute('COMMIT')


def complete(c, floor, ids, variant):
    if floor:
        c.executemany('UPDATE floor_jobs SET state = 2, finished_at = ? WHERE id = ? AND state = 1', [(2000, i) for i in ids])
    elif variant == 'narrow':
        c.executemany("UPDATE jobs SET state = ?, result = ?, updated_at = ?, finished_at = ? "
                      "WHERE id = ? AND claims = ? AND state IN ('running')", [('succeeded', '{}', 2000, 2000, i, 1) for i in ids])
    else:
        c.executemany("UPDATE jobs SET state = ?, priority = ?, run_after = ?, attempts = ?, max_attempts = ?, claims = ?, "
                      "result = ?, error_code = ?, error_message = ?, lease_owner = ?, lease_expires_at = ?, "
                      "cancel_requested = ?, updated_at = ?, started_at = ?, finished_at = ? "
                      "WHERE id = ? AND claims = ? AND state IN ('running')",
                      [('succeeded', 0, 1000, 1, 3, 1, '{}', None, None, 'host:1234:ab', 61000, 0, 2000, 1500, 2000, i, 1)
                       for i in ids])


def claim(c, floor, variant):
    if floor:
        sql = ('UPDATE floor_jobs SET state = 1, started_at = ? WHERE id IN '
               '(SELECT id FROM floor_jobs WHERE state = 0 ORDER BY id LIMIT ?) RETURNING id')
        return [r[0] for r in c.execute(sql, (1500, BATCH)).fetchall()]
    sql = ("UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, "
           "claims = claims + 1, started_at = ?, updated_at = ?, cancel_requested = FALSE, result = NULL, "
           "error_code = NULL, error_message = NULL WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' "
           "AND run_after <= ? AND slot IS NULL AND NOT EXISTS (SELECT 1 FROM settings WHERE key = ? AND value = 'on') "
           "ORDER BY priority DESC, run_after, id LIMIT ?) AND state = 'queued' RETURNING "
           + ('id' if variant == 'retid' else JOB_COLUMNS))
    return [r[0] for r in c.execute(sql, ('host:1234:ab', 61000, 1500, 1500, 1500, 'stop', BATCH)).fetchall()]


def append(c, floor, entries):
    if floor:
        c.executemany('INSERT INTO floor_ledger (seq, job, entry) VALUES (?,?,?)', [(s, i, ENTRY) for i, s in entries])
    else:
        c.executemany('INSERT INTO ledger (chain, seq, ts, event, corr_id, entry) VALUES (?,?,?,?,?,?)',
                      [('host', s, 2000, 'job.claimed', i, ENTRY) for i, s in entries])
        c.execute("UPDATE ledger_heads SET seq = ?, hash = ? WHERE chain = 'host'", (entries[-1][1], 'c' * 64))


def run(variant, path):
    floor = variant == 'floor'
    c = open_db(path)
    fill_floor(c) if floor else fill_warden(c, variant)
    spent = {'claim': 0.0, 'complete': 0.0, 'ledger': 0.0, 'commit': 0.0}
    seq, last, done = JOBS, [], 0
    while done < JOBS:
        t0 = time.perf_counter()
        c.execute('BEGIN IMMEDIATE')
        complete(c, floor, last, variant)
        t1 = time.perf_counter()
        ids = claim(c, floor, variant)
        t2 = time.perf_counter()
        entries = []
        for i in last + ids:
            seq += 1
            entries.append((i, seq))
        if entries:
            append(c, floor, entries)
        t3 = time.perf_counter()
        c.execute('COMMIT')
        t4 = time.perf_counter()
        spent['complete'] += t1 - t0
        spent['claim'] += t2 - t1
        spent['ledger'] += t3 - t2
        spent['commit'] += t4 - t3
        done += len(last)
        last = ids
    c.close()
    per = {k: v / JOBS * 1e6 for k, v in spent.items()}
    print('%-10s %5.1f us/job: %s' % (variant, sum(per.values()), ', '.join('%s %.1f' % kv for kv in per.items())))


def main():
    variants = sys.argv[1:] or ['floor', 'base']
    for v in variants:
        if v not in VARIANTS:
            sys.exit('unknown variant %r (one of %s)' % (v, ', '.join(VARIANTS)))
    print('SQLite %s; %d jobs, claims of %d; microseconds per job in each part of the turns' % (sqlite3.sqlite_version, JOBS, BATCH))
    with tempfile.TemporaryDirectory(prefix='warden-turn-costs-') as d:
        for n, v in enumerate(variants):
            run(v, os.path.join(d, '%d-%s.db' % (n, v)))


if __name__ == '__main__':
    main()
