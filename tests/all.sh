#!/bin/sh
# make test: the optimised build's tests, the same tests under ASan/UBSan, and
# the fuzz corpora replayed through the libFuzzer targets. Ends with one
# line "N passed, N failed" summing all three.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
pass=0 fail=0
tally() { # file
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	[ -n "$p" ] || { p=0; f=1; echo "($1: no summary line: the step failed)"; }
	pass=$((pass + p)) fail=$((fail + f))
}
mkdir -p build
echo "== tests (build)"
sh tests/run.sh build | tee build/all-build.log
tally build/all-build.log
echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
ASAN_OPTIONS=detect_leaks=1 make --no-print-directory -s check-asan 2>&1 | tee build/all-asan.log
tally build/all-asan.log
echo "== fuzz corpora replayed (build-fuzz)"
make --no-print-directory -s fuzz-replay 2>&1 | tee build/all-fuzz.log
tally build/all-fuzz.log
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
