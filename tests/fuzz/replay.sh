#!/bin/sh
# Replays each fuzz target's corpus (tests/fuzz/corpus/NAME for fuzz_NAME,
# plus any crash reproducers in tests/fuzz/crashes/NAME) under ASan/UBSan,
# one TAP line per target, ending with "N passed, N failed".
# Usage: tests/fuzz/replay.sh FUZZ_BIN_DIR
set -u
bin=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
for t in "$bin"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t" | sed 's/^fuzz_//')
	dirs=""
	for d in "$top/tests/fuzz/corpus/$name" "$top/tests/fuzz/crashes/$name"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	n=$(find $dirs -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "not ok - fuzz_$name: no corpus in tests/fuzz/corpus/$name"
		fail=$((fail + 1))
		continue
	fi
	# -runs=0 with directories executes every file once and exits.
	if "$t" -runs=0 $dirs >"$bin/$name.replay.log" 2>&1; then
		echo "ok - fuzz_$name: $n inputs replayed clean"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz_$name: see $bin/$name.replay.log"
		tail -30 "$bin/$name.replay.log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
