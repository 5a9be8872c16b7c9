#!/bin/sh
# Runs every test of one build: the cmocka binaries under BUILD/tests and the
# integration scripts tests/integration/test_*.sh, all reporting TAP, and
# ends with one line "N passed, N failed". Exit status 1 if anything failed
# or a test program died without reporting.
# Usage: tests/run.sh BUILD_DIR     (VALGRIND=1 runs the binaries under valgrind;
#        INTAKE_RUN=PROGRAM runs the integration scripts with it as intake)
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
log="$top/$build/test-logs"
mkdir -p "$log"
pass=0 fail=0 skipped=0

# Counts the TAP lines of one program's output file; a program that exited
# non-zero without a "not ok" line counts as one failure.
count() { # name file status [seconds]
	# a skipped check ("ok N - ... # SKIP why") is not a pass: counted apart
	k=$(grep -c '^ok .*# SKIP' "$2")
	p=$(($(grep -c '^ok ' "$2") - k))
	skipped=$((skipped + k))
	f=$(grep -c '^not ok ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $1 exited with status $3" >>"$2"; fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $1 reported no test" >>"$2"; fi
	pass=$((pass + p)) fail=$((fail + f))
	[ "$f" -eq 0 ] && s="ok" || s="FAILED"
	printf '%-44s %3d passed %3d failed  %-6s %4ss%s\n' "$1" "$p" "$f" "$s" "${4:-?}" \
		"$([ "$k" -eq 0 ] || echo "  ($k skipped)")"
	[ "$f" -eq 0 ] || grep '^not ok\|^#' "$2" | head -40 | sed 's/^/    /'
}

vg=""
[ "${VALGRIND:-0}" = 1 ] && vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
for t in $(find "$top/$build/tests" -type f -name 'test_*' -perm -u+x | sort); do
	name=${t#"$top/$build/tests/"}
	out="$log/$(echo "$name" | tr / _).tap"
	t0=$(date +%s)
	(cd "$top" && CMOCKA_MESSAGE_OUTPUT=TAP INTAKE_BUILD="$top/$build" timeout 600 $vg "$t") >"$out" 2>&1
	count "$name" "$out" $? $(($(date +%s) - t0))
done
for t in $(ls "$top"/tests/integration/test_*.sh 2>/dev/null | sort); do
	name=integration/$(basename "$t")
	out="$log/$(basename "$t" .sh).tap"
	t0=$(date +%s)
	(cd "$top" && INTAKE="${INTAKE_RUN:-$top/$build/intake}" INTAKE_BUILD="$top/$build" timeout 900 sh "$t") >"$out" 2>&1
	count "$name" "$out" $? $(($(date +%s) - t0))
done
[ "$skipped" -eq 0 ] || echo "$skipped skipped (not counted as passed; see the lines with # SKIP)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
