#!/usr/bin/python3
"""Drop-to-draft latency of `intake run` for text PDFs (bench/bench_drop.sh).

usage: drop_latency.py INTAKE WORKDIR FILES SEED [SETTLE]

Makes WORKDIR/intake.conf (one [dropdir letters] section, channel letter,
store and folders under WORKDIR; settle_time = SETTLE when given, else the
default), starts `INTAKE -c WORKDIR/intake.conf run`, drops one warm-up
file (not counted), then FILES text PDFs one after the other: each is
written and fsync'd in WORKDIR/staging (same file system) and renamed into
the drop folder. The latency is from just before the rename to the first
poll (every 10 ms, sqlite3 on the store, read only) that sees its draft
committed. Every file is a different seeded letter (bench/ocr_pages.py),
with a text layer that pdftotext reads (tests/corpus/scans/make_scans.py's
text-pdf). The next file is dropped once the last one was archived.
At the end the drafts are checked (`intake drafts --json`: FILES + 1, the
log saying pdftotext) and the daemon is stopped with SIGTERM.
Prints: "latencies_ms<TAB>L1 L2 ..." and "peak_rss_kb<TAB>N" (VmHWM).
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ocr_pages  # noqa: E402  (also puts make_scans on the path)
import make_scans  # noqa: E402

TOP = os.path.abspath(os.path.join(HERE, ".."))


def config(work, settle):
    for d in ("drop/letters", "staging", "var"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    conf = os.path.join(work, "intake.conf")
    with open(conf, "w") as f:
        f.write("[store]\npath = var/intake.db\nspool = var/spool\n"
                "[calendar]\nfile = %s/config/calendar/cn.conf\ntimezone = Asia/Shanghai\n"
                "[notices]\ntemplates = %s/config/templates\nlanguage = zh\nprint_dir = var/print\n"
                "[dropdir letters]\npath = drop/letters\nchannel = letter\n"
                "archive = var/archive/letters\nfailed = var/failed/letters\n" % (TOP, TOP))
        if settle:
            f.write("settle_time = %s\n" % settle)
    return conf


def drafts(db):
    try:
        return db.execute("SELECT count(*) FROM complaints").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or busy
        return -1


def drop(work, db, name, data, timeout=30.0):
    """Drops one file; returns the latency in seconds."""
    before = max(0, drafts(db))
    staged = os.path.join(work, "staging", name)
    target = os.path.join(work, "drop", "letters", name)
    with open(staged, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    t0 = time.monotonic()
    os.rename(staged, target)
    while drafts(db) <= before:
        if time.monotonic() - t0 > timeout:
            raise SystemExit("drop_latency: no draft for %s after %.0f s" % (name, timeout))
        time.sleep(0.010)
    t1 = time.monotonic()
    while os.path.exists(target) and time.monotonic() - t1 < timeout:
        time.sleep(0.010)
    return t1 - t0


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    intake, work, n, seed = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    settle = sys.argv[5] if len(sys.argv) == 6 else ""
    conf = config(work, settle)
    rng = random.Random(seed)
    files = []
    for i in range(n + 1):
        lines, _ = ocr_pages.letter(rng)
        files.append(("%s_%03d.pdf" % ("warmup" if i == 0 else "letter", i),
                      make_scans.text_pdf([lines])))
    log = open(os.path.join(work, "daemon.log"), "w")
    daemon = subprocess.Popen([intake, "-c", conf, "run"], stdout=log, stderr=subprocess.STDOUT)
    try:
        dbpath = os.path.join(work, "var", "intake.db")
        t = time.monotonic()
        while not os.path.exists(dbpath) and time.monotonic() - t < 10 and daemon.poll() is None:
            time.sleep(0.01)
        db = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 1000")
        lat = []
        for i, (name, data) in enumerate(files):
            if daemon.poll() is not None:
                raise SystemExit("drop_latency: the daemon exited (%s)" % daemon.returncode)
            s = drop(work, db, name, data)
            if i:
                lat.append(s)
            time.sleep(rng.uniform(0.05, 0.25))
        with open("/proc/%d/status" % daemon.pid) as f:
            hwm = [l.split()[1] for l in f if l.startswith("VmHWM:")][0]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            rc = daemon.wait()
        log.close()
    out = subprocess.run([intake, "-c", conf, "drafts", "--json"], capture_output=True, text=True, check=True)
    got = len(json.loads(out.stdout)["drafts"])
    text_path = open(os.path.join(work, "daemon.log"), encoding="utf-8", errors="replace").read().count("(pdftotext,")
    if got != n + 1 or text_path != n + 1 or rc != 0:
        raise SystemExit("drop_latency: %d drafts, %d read by pdftotext (expected %d), daemon exit %s; see %s"
                         % (got, text_path, n + 1, rc, os.path.join(work, "daemon.log")))
    print("latencies_ms\t%s" % " ".join("%.1f" % (1000 * s) for s in lat))
    print("peak_rss_kb\t%s" % hwm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
