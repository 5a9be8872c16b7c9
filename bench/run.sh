#!/bin/sh
# make bench: every benchmark in one run on one seeded corpus, printed as one
# table. Each bench/bench_*.sh prints rows "row<TAB>what<TAB>figures..." and
# "ratio<TAB>text" lines; this script collects them.
# BENCH_MAILS (default 10000) and BENCH_SEED choose the corpus.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
n=${BENCH_MAILS:-10000}
seed=${BENCH_SEED:-20261202}
corpus="$top/var/bench/corpus-$n-$seed"
cd "$top"
make --no-print-directory -s bench-build
if [ ! -d "$corpus" ]; then
	echo "bench: generating $n mails (seed $seed) into $corpus" >&2
	/usr/bin/python3 bench/gen_corpus.py "$corpus.tmp" "$n" "$seed"
	mv "$corpus.tmp" "$corpus"
fi
out="$build/bench/rows"
: >"$out"
for b in bench/bench_*.sh; do
	echo "bench: $b" >&2
	sh "$b" "$corpus" "$build" >>"$out" || echo "row	$(basename "$b") FAILED" >>"$out"
done
echo "bench: bench/imap_backlog.sh ($n mails)" >&2
sh bench/imap_backlog.sh "$build" "$n" >"$build/bench/imap.out" 2>"$build/bench/imap.err" || true
grep -q '^ratio' "$build/bench/imap.out" ||
	echo "IMAP backlog FAILED: $(tail -n 3 "$build/bench/imap.err")" >>"$build/bench/imap.out"
echo
echo "intake benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), corpus $n mails seed $seed"
printf '%-58s %12s %12s %10s\n' "what" "rate" "throughput" "peak RSS"
grep '^row' "$out" | while IFS='	' read -r _ what a b c; do
	printf '%-58s %12s %12s %10s\n' "$what" "$a" "$b" "$c"
done
grep '^ratio' "$out" | cut -f2- | sed 's/^/  /'
echo
echo "IMAP backlog (bench/imap_backlog.sh):"
sed 's/^/  /' "$build/bench/imap.out"
