#!/bin/sh
# make check-valgrind: the whole suite with every program under valgrind's
# memcheck: the cmocka binaries directly, and each intake process the
# integration scripts start (tools/valgrind-intake, one log per process).
# Passes when no process reported a memory error or a definite leak. The
# scripts' own TAP results are printed too; timing checks (a draft within
# 2 s, SIGTERM within 5 s) and peak-RSS bounds are expected to miss under
# valgrind's 20-50x slowdown and its own memory, and do not decide the
# result.
# Usage: tests/valgrind.sh BUILD_DIR
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/$build/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs"   # some scripts run intake as another user (nobody)
VALGRIND=1 VG_LOGS="$logs" VG_INTAKE="$top/$build/intake" INTAKE_RUN="$top/tools/valgrind-intake" \
	sh "$top/tests/run.sh" "$build" | tee "$top/$build/valgrind-tests.log"
procs=$(ls "$logs" | grep -c '^vg\.')
# a log with anything but valgrind's own warnings is an error report
bad=""
for f in "$logs"/vg.*.log; do
	[ -e "$f" ] || continue
	grep -v '^==[0-9]*== Warning:' "$f" | grep -q . && bad="$bad $f"
done
nbad=$(echo $bad | wc -w)
echo "valgrind: $procs intake processes, $nbad with a memory error or definite leak"
for f in $bad; do echo "== $f"; head -40 "$f"; done
[ "$nbad" -eq 0 ]
