#!/bin/sh
# Parse + extract + classify of the generated corpus by intake, next to a bare
# GMime parse-and-walk and Python's email package over the same files, in
# the same run. Prints table rows (see bench/run.sh).
# Usage: bench/bench_parse.sh CORPUS_DIR BUILD_DIR
set -eu
corpus=$1 build=$2
files=$(ls "$corpus"/*.eml | wc -l)
mb=$(du -sm "$corpus" | cut -f1)
# one run of a command over every file: prints "seconds peak_rss_kb"
measure() {
	/usr/bin/time -f "%M" -o "$build/bench/time.out" "$@" "$corpus"/*.eml >"$build/bench/run.out"
	s=$(sed -n 's/.*bytes, \([0-9.]*\) seconds/\1/p' "$build/bench/run.out")
	echo "$s $(tail -n 1 "$build/bench/time.out")"
}
row() { # label seconds rss_kb
	awk -v l="$1" -v s="$2" -v r="$3" -v n="$files" -v mb="$mb" \
		'BEGIN { printf "row\t%s\t%.0f msg/s\t%.1f MB/s\t%.0f MB\n", l, n / s, mb / s, r / 1024 }'
}
# every file read once first: whichever ran first would pay the disk reads
cat "$corpus"/*.eml >/dev/null
set -- $(measure "$build/bench/bench_parse"); i_s=$1 i_r=$2
set -- $(measure "$build/bench/gmime_walk"); g_s=$1 g_r=$2
set -- $(measure /usr/bin/python3 "$(dirname "$0")/py_walk.py"); p_s=$1 p_r=$2
row "intake parse+extract+classify ($files mails, $mb MB)" "$i_s" "$i_r"
row "  bare GMime parse+walk (reference)" "$g_s" "$g_r"
row "  Python email parse+walk (reference)" "$p_s" "$p_r"
awk -v a="$i_s" -v b="$g_s" -v c="$p_s" 'BEGIN { printf "ratio\tintake vs bare GMime %.2fx, vs Python %.1fx (above 1: faster)\n", b / a, c / a }'
