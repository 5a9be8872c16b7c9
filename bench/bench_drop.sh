#!/bin/sh
# Drop-to-draft latency of a text PDF (target: under 0.5 s): a real
# `intake run` daemon with one [dropdir letters] section (channel letter,
# store and folders in BUILD_DIR/bench/drop/, thrown away at each run);
# BENCH_DROP_FILES (default 20) different seeded one-page letters with a text
# layer are renamed into the folder one after the other and the time until
# each draft is committed is measured (bench/drop_latency.py: sqlite3 on the
# store every 10 ms), with the default settle_time: the figure users get.
# Prints table rows (see bench/run.sh).
# Usage: bench/bench_drop.sh CORPUS_DIR BUILD_DIR   (CORPUS_DIR is not used)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$2" && pwd)
py=/usr/bin/python3
files=${BENCH_DROP_FILES:-20}
seed=${BENCH_DROP_SEED:-20261202}
work="$build/bench/drop"
# settle_time values: "" is the default (2 s)
for settle in ""; do
	dir="$work/settle-${settle:-default}"
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "bench_drop: $files text PDFs, settle_time ${settle:-default (2s)}" >&2
	$py "$top/bench/drop_latency.py" "$build/intake" "$dir" "$files" "$seed" $settle >"$dir/result" ||
		{ echo "bench_drop: failed, see $dir/daemon.log" >&2; exit 1; }
done
$py - "$work" "$files" <<'EOF'
import statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
res = {}
for name, settle_s in (("default", 2.0),):
    d = dict(l.rstrip("\n").split("\t", 1) for l in open("%s/settle-%s/result" % (work, name)))
    lat = [float(x) / 1000 for x in d["latencies_ms"].split()]
    res[name] = (statistics.median(lat), max(lat), int(d["peak_rss_kb"]), settle_s, lat)
def row(label, r):
    print("row\t%s\tmed %.3f s\tmax %.3f s\t%.0f MB" % (label, r[0], r[1], r[2] / 1024))
row("drop-to-draft, text PDF renamed in, %d files, settle_time 2s (default)" % n, res["default"])
med, mx = res["default"][0], res["default"][1]
# A file renamed into the folder is complete: it is taken at once, so
# settle_time does not add to this latency (it still guards files written
# in place, taken settle_time after their last close).
print("ratio\tdrop-to-draft median %.3f s, max %.3f s: %s the 0.5 s target (%.0fx under it)"
      % (med, mx, "within" if mx < 0.5 else "misses", 0.5 / med))
EOF
