#!/bin/sh
# make fuzz: runs every libFuzzer target for SECONDS (default 600), growing
# its corpus in build-fuzz/corpus/NAME seeded from tests/fuzz/corpus/NAME.
# New interesting inputs are merged back into tests/fuzz/corpus/NAME; a
# crash leaves its reproducer in tests/fuzz/crashes/NAME (replayed by make test
# once the bug is fixed and the file is kept).
# Usage: tests/fuzz/explore.sh FUZZ_BIN_DIR SECONDS
set -u
bin=$1 secs=${2:-600}
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0
for t in "$bin"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t" | sed 's/^fuzz_//')
	work="$bin/corpus/$name" crashes="$top/tests/fuzz/crashes/$name"
	mkdir -p "$work" "$crashes" "$top/tests/fuzz/corpus/$name"
	echo "fuzz_$name: $secs s"
	"$t" -max_total_time="$secs" -artifact_prefix="$crashes/" -max_len=65536 \
		"$work" "$top/tests/fuzz/corpus/$name" >"$bin/$name.fuzz.log" 2>&1 || status=1
	"$t" -merge=1 "$top/tests/fuzz/corpus/$name" "$work" >/dev/null 2>&1
	rmdir "$crashes" 2>/dev/null
	tail -3 "$bin/$name.fuzz.log"
done
exit $status
