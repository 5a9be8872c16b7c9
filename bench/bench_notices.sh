#!/bin/sh
# Notices per second: a throw-away store with N queued acknowledgments
# (BENCH_NOTICES, default 2000; N small generated complaints ingested with
# `intake ingest`, not timed) drained by `intake outbox drain` (timed: the
# process from start to exit) into the SMTP harness of the tests
# (tests/harness/smtp.py: aiosmtpd on 127.0.0.1, STARTTLS + AUTH), once as
# the tests run it (an fsync per message) and once with --no-fsync; the
# server must have received exactly N messages each time. As a reference,
# the same N messages sent to each harness alone by curl (libcurl, as the
# drain uses it, minus the store) over one STARTTLS + AUTH session: about
# the most that harness takes, so that a drain at 80 % of it or more is
# labelled harness-bound. Target: 200 notices/s.
# Prints table rows (see bench/run.sh). CORPUS_DIR is not used: the
# notices are generated here.
# Usage: bench/bench_notices.sh CORPUS_DIR BUILD_DIR
set -eu
build=$2
top=$(cd "$(dirname "$0")/.." && pwd)
INTAKE=${INTAKE:-$build/intake}
n=${BENCH_NOTICES:-2000}
target=200
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/intake-bench-notices.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "bench_notices: $*" >&2; exit 1; }
command -v curl >/dev/null || fail "curl (the reference client) is not installed"

# smtp_start DIR [ARGS]: one harness with STARTTLS and AUTH; waits for its port.
smtp_start() {
	d=$1
	shift
	mkdir -p "$d"
	$PY "$top/tests/harness/smtp.py" "$d" --tls --user ts@broker.example.cn \
		--password bench-secret "$@" >"$d/stderr" 2>&1 &
	pids="$pids $!"
	i=0
	while [ ! -s "$d/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$d/port" ] || fail "the SMTP harness did not start: $(cat "$d/stderr")"
}
delivered() { find "$1/Maildir/new" "$1/Maildir/cur" -type f | grep -c . || true; }

# --- the store: N complaints from N addresses, each with its acknowledgment
$PY - "$tmp/mails" "$n" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
for i in range(n):
    with open(os.path.join(out, "m%06d.eml" % i), "w", encoding="utf-8") as f:
        f.write("From: =?UTF-8?B?546L6Iqz?= <bench%d@example.org>\n"
                "To: ts@broker.example.cn\n"
                "Subject: =?UTF-8?B?5oqV6K+J77ya5omL57ut6LS5?= %d\n"
                "Date: Mon, 23 Nov 2026 12:00:00 +0800\n"
                "Message-ID: <bench.%d@example.org>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n"
                "我是客户王芳，资金账号 3100%08d。\n"
                "第 %d 封投诉：营业部多收了手续费，请核实并退还。\n" % (i, i, i, i, i))
PY
mkdir -p "$tmp/conf"
printf 'bench-secret\n' >"$tmp/conf/smtp.pass"
chmod 600 "$tmp/conf/smtp.pass"
write_conf() { # smtp-dir
	cat >"$tmp/conf/intake.conf" <<EOF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[smtp]
url = smtp://127.0.0.1:$(cat "$1/port")
user = ts@broker.example.cn
password_file = smtp.pass
from = 客户投诉中心 <ts@broker.example.cn>
tls_ca_file = $1/cert.pem
[notices]
templates = $top/config/templates
language = zh
EOF
}
cfg="$tmp/conf/intake.conf"
smtp_start "$tmp/smtp-fsync"
smtp_start "$tmp/smtp-nofsync" --no-fsync
write_conf "$tmp/smtp-fsync"
find "$tmp/mails" -name '*.eml' | sort | xargs "$INTAKE" -c "$cfg" ingest >"$tmp/ingest.out" 2>"$tmp/ingest.err" ||
	fail "intake ingest failed: $(tail -n 3 "$tmp/ingest.err")"
created=$(grep -c ': created ' "$tmp/ingest.out" || true)
pending=$("$INTAKE" -c "$cfg" outbox --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["pending"])')
[ "$created" -eq "$n" ] && [ "$pending" -eq "$n" ] ||
	fail "expected $n drafts and $n pending notices, got $created and $pending"
cp -a "$tmp/var" "$tmp/var.queued"   # no intake process is running: a consistent copy

# drain SMTP_DIR: the timed drain of the N notices; prints "seconds rss_kb bytes".
drain() {
	rm -rf "${tmp:?}/var"
	cp -a "$tmp/var.queued" "$tmp/var"
	write_conf "$1"
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o "$tmp/time.out" "$INTAKE" -c "$cfg" outbox drain \
		>"$tmp/drain.out" 2>"$tmp/drain.err" || fail "intake outbox drain failed: $(tail -n 3 "$tmp/drain.err")"
	t1=$(date +%s.%N)
	grep -q "^outbox: $n sent, 0 to retry, 0 failed" "$tmp/drain.out" ||
		fail "the drain did not send $n: $(cat "$tmp/drain.out") $(tail -n 3 "$tmp/drain.err")"
	got=$(delivered "$1")
	[ "$got" -eq "$n" ] || fail "$1 received $got messages, expected $n"
	bytes=$(find "$1/Maildir/new" -type f -printf '%s\n' | awk '{ b += $1 } END { print b }')
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }') $(tail -n 1 "$tmp/time.out") $bytes"
}
# reference SMTP_DIR MESSAGES_DIR: the same messages sent by curl (libcurl, as
# intake's drain uses it, without the store) over one STARTTLS + AUTH
# session; prints "seconds rss_kb".
reference() {
	{
		printf 'mail-from = "ts@broker.example.cn"\nmail-rcpt = "bench@example.org"\n'
		printf 'user = "ts@broker.example.cn:bench-secret"\nssl-reqd\ncacert = "%s"\n' "$1/cert.pem"
		find "$2" -type f | sort | while read -r f; do
			printf 'url = "smtp://127.0.0.1:%s"\nupload-file = "%s"\n' "$(cat "$1/port")" "$f"
		done
	} >"$tmp/curl.cfg"
	c0=$(wc -l <"$1/connections")
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o "$tmp/time.out" curl -sS -K "$tmp/curl.cfg" >"$tmp/ref.out" 2>"$tmp/ref.err" ||
		fail "reference: curl failed: $(tail -n 3 "$tmp/ref.err")"
	t1=$(date +%s.%N)
	got=$(delivered "$1")
	[ "$got" -eq $((2 * n)) ] || fail "$1 received $got messages, expected $((2 * n))"
	[ $(($(wc -l <"$1/connections") - c0)) -eq 1 ] || fail "reference: curl did not keep one session"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }') $(tail -n 1 "$tmp/time.out")"
}

# (each result is assigned first: a failure inside $(...) stops the script)
out=$(drain "$tmp/smtp-fsync"); set -- $out; d_s=$1 d_r=$2 d_b=$3
out=$(drain "$tmp/smtp-nofsync"); set -- $out; q_s=$1 q_r=$2 q_b=$3
mkdir -p "$tmp/sent"
find "$tmp/smtp-fsync/Maildir/new" -type f -exec cp -t "$tmp/sent" {} +   # what intake sent
out=$(reference "$tmp/smtp-fsync" "$tmp/sent"); set -- $out; rd_s=$1 rd_r=$2
out=$(reference "$tmp/smtp-nofsync" "$tmp/sent"); set -- $out; rq_s=$1 rq_r=$2

# bound DRAIN_S REF_S: the label's note when the drain runs at 80 % or more of
# what the harness alone takes.
bound() { awk -v d="$1" -v r="$2" 'BEGIN { if (r / d >= 0.8) printf ", harness-bound" }'; }
row() { # label seconds rss_kb bytes
	awk -v l="$1" -v s="$2" -v r="$3" -v b="$4" -v n="$n" \
		'BEGIN { printf "row\t%s\t%.0f msg/s\t%.2f MB/s\t%.0f MB\n", l, n / s, b / s / 1048576, r / 1024 }'
}
row "notices: outbox drain -> aiosmtpd TLS+AUTH ($n)$(bound "$d_s" "$rd_s")" "$d_s" "$d_r" "$d_b"
row "notices: outbox drain -> aiosmtpd --no-fsync$(bound "$q_s" "$rq_s")" "$q_s" "$q_r" "$q_b"
row "  curl alone -> aiosmtpd TLS+AUTH (reference)" "$rd_s" "$rd_r" "$d_b"
row "  curl alone -> aiosmtpd --no-fsync (reference)" "$rq_s" "$rq_r" "$q_b"
awk -v n="$n" -v t="$target" -v d="$d_s" -v q="$q_s" -v rd="$rd_s" -v rq="$rq_s" 'BEGIN {
	printf "ratio\tnotices %.1fx the %d/s target (%.1fx with --no-fsync); the drain runs at %.0f%% of what the harness alone takes (%.0f%% --no-fsync)\n",
		n / d / t, t, n / q / t, 100 * rd / d, 100 * rq / q }'
