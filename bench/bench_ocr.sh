#!/bin/sh
# OCR of scanned letters: intake's path next to ocrmypdf, on the
# same pages in the same run. Prints table rows (see bench/run.sh).
#
# Input: BENCH_OCR_PAGES pages (default 20; BENCH_OCR_SEED), one Chinese
# complaint letter each with its account numbers, rendered by
# bench/ocr_pages.py (tests/corpus/scans/make_scans.py's code) at 300 dpi
# greyscale, skewed 0.3-1.0 degrees, speckled, as ONE image-only PDF; made
# once under BUILD_DIR/bench/ocr/ and kept (same seed, same bytes).
#
# intake: `intake parse --json --channel letter scan.pdf`, what the drop
# folder runs on a scan: pdfinfo, pdftotext, pdftoppm -r 200 -gray, tesseract
# -l chi_sim --dpi 200 (a page with few ideographs read again with
# chi_sim+eng), the pages split over up to one tesseract per core
# ([limits] ocr_jobs), OMP_THREAD_LIMIT=1. [limits] ocr_pages is raised to
# the page count.
# ocrmypdf: -l $BENCH_OCR_LANG (default chi_sim+eng: what a deployment that
# reads both Chinese and English letters configures; chi_sim alone is
# intake's first pass) --sidecar OUT.txt --output-type pdf (no PDF/A
# conversion) --optimize 0 --fast-web-view 999999 (no linearisation), its
# default renderer and thresholding, OMP_THREAD_LIMIT=1 as intake; once with
# --jobs 1 and once with --jobs $(nproc): the target is judged against the
# latter, the same cores intake uses.
# Scores: character error rate of the whole document against the known text
# (NFKC, blanks removed, as tests/corpus/scans/measure.py), and the known
# account numbers found as a whole digit run in the text (for intake also:
# in its extracted "accounts").
# Usage: bench/bench_ocr.sh CORPUS_DIR BUILD_DIR   (CORPUS_DIR is not used)
# shellcheck disable=SC2086,SC2154 # "seconds rss" is split on purpose; o1_s... are set by eval
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$2" && pwd)
py=/usr/bin/python3
pages=${BENCH_OCR_PAGES:-20}
seed=${BENCH_OCR_SEED:-20261202}
cores=$(nproc)
lang=${BENCH_OCR_LANG:-chi_sim+eng}
work="$build/bench/ocr"
in="$work/in-$pages-$seed"
mkdir -p "$work"
if [ ! -f "$in/scan.pdf" ]; then
	echo "bench_ocr: rendering $pages pages (seed $seed) into $in" >&2
	$py "$top/bench/ocr_pages.py" gen "$in" "$pages" "$seed"
fi
conf="$work/intake.conf"
limit=$pages; [ "$limit" -le 1000 ] || limit=1000
cat >"$conf" <<EOF
[store]
path = var/intake.db
spool = var/spool
[calendar]
file = $top/config/calendar/cn.conf
[limits]
ocr_pages = $limit
ocr_seconds = 3600
EOF
# timed NAME COMMAND...: runs it, prints "seconds peak_rss_kb"
timed() {
	name=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" ||
		{ echo "bench_ocr: $name failed: $(tail -n 3 "$work/$name.err")" >&2; return 1; }
	tail -n 1 "$work/$name.time"
}
echo "bench_ocr: intake parse ($pages pages)" >&2
t=$(timed intake "$build/intake" -c "$conf" parse --json --channel letter "$in/scan.pdf") || exit 1
set -- $t; i_s=$1 i_r=$2
cp "$work/intake.out" "$work/intake.json"
specs="intake=intake:$work/intake.json"
jobs_list=1
[ "$cores" -gt 1 ] && jobs_list="1 $cores"
have_ocrmypdf=no
if command -v ocrmypdf >/dev/null 2>&1; then
	have_ocrmypdf=yes
	for j in $jobs_list; do
		echo "bench_ocr: ocrmypdf --jobs $j ($pages pages)" >&2
		t=$(timed "ocrmypdf$j" env OMP_THREAD_LIMIT=1 ocrmypdf -q -l "$lang" \
			--sidecar "$work/ocrmypdf$j.txt" --output-type pdf --optimize 0 \
			--fast-web-view 999999 --jobs "$j" "$in/scan.pdf" "$work/ocrmypdf$j.pdf") || exit 1
		set -- $t; eval "o${j}_s=$1 o${j}_r=$2"
		rm -f "$work/ocrmypdf$j.pdf"
		specs="$specs ocrmypdf$j=text:$work/ocrmypdf$j.txt"
	done
fi
# shellcheck disable=SC2086
$py "$top/bench/ocr_pages.py" score "$in/truth.json" $specs >"$work/scores"
score() { awk -F'\t' -v l="$1" -v f="$2" '$1 == l { print $f }' "$work/scores"; }
row() { # label seconds rss_kb
	awk -v l="$1" -v s="$2" -v r="$3" -v n="$pages" \
		'BEGIN { printf "row\t%s\t%.1f p/min\t%.2f s/page\t%.0f MB\n", l, 60 * n / s, s / n, r / 1024 }'
}
pct() { awk -v c="$1" 'BEGIN { printf "%.2f%%", 100 * c }'; }
i_cer=$(score intake 2) acc_n=$(score intake 4)
row "OCR intake parse, $pages pp, $cores cores: CER $(pct "$i_cer"), acct $(score intake 3)/$acc_n" "$i_s" "$i_r"
if [ "$have_ocrmypdf" = no ]; then
	echo "row	  ocrmypdf: not installed (tools/deps.sh installs it)"
	exit 0
fi
o_cer=$(score ocrmypdf1 2)
for j in $jobs_list; do
	eval "s=\$o${j}_s r=\$o${j}_r"
	row "  ocrmypdf --jobs $j: CER $(pct "$(score "ocrmypdf$j" 2)"), acct $(score "ocrmypdf$j" 3)/$acc_n" "$s" "$r"
done
oN_s=$o1_s
[ "$cores" -gt 1 ] && eval "oN_s=\$o${cores}_s"
awk -v i="$i_s" -v a="$o1_s" -v b="$oN_s" -v n="$cores" -v ic="$i_cer" -v oc="$o_cer" \
	-v ia="$(score intake 3)" -v ie="$(score intake 5)" -v oa="$(score ocrmypdf1 3)" -v t="$acc_n" 'BEGIN {
	printf "ratio\tOCR intake %.2fx ocrmypdf --jobs 1 pages/min (%.2fx --jobs %d); CER intake %.2f%% vs ocrmypdf %.2f%%;" \
		" accounts exact intake %d/%d in text, %d/%d extracted, ocrmypdf %d/%d\n", a / i, b / i, n, 100 * ic, 100 * oc, ia, t, ie, t, oa, t
	fast = b / i >= 2; good = ic <= oc
	printf "ratio\tOCR target (>= 2x ocrmypdf pages/min at equal or lower CER, same cores): %s\n", \
		fast && good ? "met" : !fast && !good ? "missed (speed and CER)" : !fast ? "missed (speed)" : "missed (CER)"
}'
echo "ratio	OCR ocrmypdf $(ocrmypdf --version 2>/dev/null) flags: -l $lang --sidecar --output-type pdf --optimize 0 --fast-web-view 999999, OMP_THREAD_LIMIT=1"
