#!/usr/bin/env python3
"""Benchmark of the subscriber mapping's writes alone (not a test, not run by make check; doc/store.md "The
mapping's journal"). SQLite as the gateway sets it up (WAL, synchronous normal, 64 MiB cache), a dialog row per
new subscriber, DIALOGS_PER_COMMIT rows per transaction, and the pseudonym -> MSISDN mapping written three ways:
  none      no mapping (the reference of the ratios)
  upsert    the upsert into subscriber_map in the dialog's transaction (osmo-uigw before schema 11)
  journal   appended to subscriber_new in the dialog's transaction, then merged sorted, HOLD rows at a time,
            2,048 per transaction, and deleted from the journal (schema 11, store_mapping.c)
Each runs REPEATS times (interleaved); it prints the CPU time per dialog over the last tenth of the subscribers
(the mapping at its largest), the median of the repeats and its ratio to none.
Usage: contrib/bench/mapping.py [SUBSCRIBERS (600000)] [REPEATS (3)] [DIALOGS_PER_COMMIT (15)] [HOLD (30000)]
Python's sqlite3 module on the system's libsqlite3; a temporary folder, removed at the end."""
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

total = int(sys.argv[1]) if len(sys.argv) > 1 else 600000
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
per = int(sys.argv[3]) if len(sys.argv) > 3 else 15
hold = int(sys.argv[4]) if len(sys.argv) > 4 else 30000
UPSERT = ('INSERT INTO subscriber_map (pseudonym, msisdn, first_seen, last_seen) VALUES (?, ?, ?, ?)'
          ' ON CONFLICT (pseudonym) DO UPDATE SET msisdn = excluded.msisdn,'
          ' last_seen = max(coalesce(last_seen, 0), excluded.last_seen)')


def run(mode, path):
    db = sqlite3.connect(path, isolation_level=None)
    for p in ('journal_mode = WAL', 'synchronous = NORMAL', 'cache_size = -65536'):
        db.execute('PRAGMA ' + p)
    db.execute('CREATE TABLE dialog (id INTEGER PRIMARY KEY, campaign TEXT, subscriber TEXT, channel TEXT,'
               ' started INTEGER, ended INTEGER, outcome TEXT, steps INTEGER)')
    db.execute('CREATE INDEX dialog_campaign ON dialog (campaign, outcome)')
    db.execute('CREATE TABLE subscriber_map (pseudonym TEXT PRIMARY KEY, msisdn TEXT, first_seen INTEGER,'
               ' last_seen INTEGER)')
    db.execute('CREATE INDEX subscriber_map_last_seen ON subscriber_map (last_seen)')
    db.execute('CREATE TABLE subscriber_new (pseudonym TEXT NOT NULL, msisdn TEXT, time INTEGER)')
    held, n, last_tenth = [], 0, total - total // 10
    t_tenth = None
    while n < total:
        if n >= last_tenth and t_tenth is None:
            t_tenth = time.process_time()
        db.execute('BEGIN IMMEDIATE')
        for _ in range(per):
            p = os.urandom(16).hex()
            db.execute('INSERT INTO dialog (campaign, subscriber, channel, started, ended, outcome, steps)'
                       ' VALUES (?, ?, ?, ?, ?, ?, ?)', ('bench', p, 'smpp', n, n, 'completed', 2))
            row = (p, '4917%08d' % n, n)
            if mode == 'upsert':
                db.execute(UPSERT, (p, row[1], n, n))
            elif mode == 'journal':
                db.execute('INSERT INTO subscriber_new (pseudonym, msisdn, time) VALUES (?, ?, ?)', row)
                held.append((row, db.execute('SELECT last_insert_rowid()').fetchone()[0]))
            n += 1
        db.execute('COMMIT')
        if mode == 'journal' and len(held) >= hold:
            upto = held[-1][1]
            rows = sorted(r for r, _ in held)
            held = []
            for i in range(0, len(rows), 2048):
                db.execute('BEGIN IMMEDIATE')
                for p, m, t in rows[i:i + 2048]:
                    db.execute(UPSERT, (p, m, t, t))
                if i + 2048 >= len(rows):
                    db.execute('DELETE FROM subscriber_new WHERE rowid <= ?', (upto,))
                db.execute('COMMIT')
    cpu = time.process_time() - t_tenth
    db.close()
    return cpu * 1e6 / (total - last_tenth)


def main():
    tmp = tempfile.mkdtemp(prefix='uigw-mapbench.')
    res = {m: [] for m in ('none', 'upsert', 'journal')}
    try:
        for r in range(repeats):
            for m in res:
                path = os.path.join(tmp, '%s-%d.db' % (m, r))
                res[m].append(run(m, path))
                for s in ('', '-wal', '-shm'):
                    if os.path.exists(path + s):
                        os.unlink(path + s)
                print('  %s run %d: %.1f us CPU per dialog' % (m, r + 1, res[m][-1]), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ref = statistics.median(res['none'])
    print('sqlite %s, %d new subscribers, %d dialogs per commit, journal merged %d at a time; CPU per dialog over the'
          ' last %d, median of %d:' % (sqlite3.sqlite_version, total, per, hold, total // 10, repeats))
    for m, v in res.items():
        print('RESULT %-8s %6.1f us  (%.2f x none; the mapping alone %.1f us)'
              % (m, statistics.median(v), statistics.median(v) / ref, statistics.median(v) - ref))


if __name__ == '__main__':
    main()
