#!/bin/sh
# Fault tests of the daemon (`intake run`), each fault made real, never
# faked: the IMAP server killed in the middle of a pass and started again;
# the SMTP server down while acknowledgments are due, then back on the same
# port; the disk full (the store on a small tmpfs filled to the last byte),
# then space freed; the database read in a loop (`intake drafts`) and written
# by `intake ingest` while the daemon ingests; a drop folder the daemon may
# not read (intake run as nobody). Each: a clear error while the fault lasts,
# nothing lost, and the work resumes by itself once the fault is gone.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
# ONLY="3 5" runs only those parts (when looking into one).
. tests/integration/lib_fault.sh
fault_init faults
t_start=$(now_ms)

if ! dovecot_start "$tmp/dovecot"; then nok "a private Dovecot starts"; fault_done; exit 1; fi
for u in alice bob carol; do printf '%s-secret\n' $u >"$tmp/$u.pass"; chmod 600 "$tmp/$u.pass"; done

# conf NAME USER [EXTRA-SECTIONS on stdin]: a configuration in $tmp/NAME/conf
# (the store in $STORE_PATH and $SPOOL_PATH when set).
conf() {
	mkdir -p "$tmp/$1/conf"
	{
		cat <<EOF
[store]
path = ${STORE_PATH:-../var/intake.db}
spool = ${SPOOL_PATH:-../var/spool}
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[imap main]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = $2
password_file = $tmp/$2.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
poll_interval = 1s
EOF
		cat
	} >"$tmp/$1/conf/intake.conf"
	echo "$tmp/$1/conf/intake.conf"
}
status_field() { # conf expr over the "imap main" row as s
	"$INTAKE" -c "$1" status --json 2>/dev/null |
		jq_py "[s for s in d['sources'] if s['section'] == 'imap main'][0]$2"
}
inbox_empty() { [ "$(maildir_count "$1")" = 0 ]; }
state_is() { [ "$(status_field "$1" "['state']")" = "$2" ]; }
ncomplaints() { db "$1" "SELECT count(*) FROM complaints" 2>/dev/null || echo 0; }
expect_drafts() { grep -c ' draft$' "$1/manifest"; }
at_least() { [ "$(ncomplaints "$1")" -ge "$2" ]; }
exactly() { [ "$(ncomplaints "$1")" -eq "$2" ]; }

part() { [ -z "${ONLY:-}" ] || case " $ONLY " in *" $1 "*) true;; *) false;; esac; }

# ==== 1. IMAP server down mid-pass, 2. SMTP down, both back ==================
if part 1; then
smtp_up "$tmp/smtp" || { nok "the SMTP server starts" "$(cat "$tmp/smtp/stderr")"; fault_done; exit 1; }
sport=$(cat "$tmp/smtp/port")
smtp_down "$tmp/smtp"
A=$(conf a alice <<EOF
[smtp]
url = smtp://127.0.0.1:$sport
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
timeout = 10s
connect_timeout = 3s
[notices]
templates = $top/config/templates
language = zh
max_acks_per_day = 0
retry = 2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s
drain_interval = 2s
print_dir = ../var/print
EOF
)
dbA=$tmp/a/var/intake.db
GEN_PAD=100000 gen_mails "$tmp/m1" 400 31 fa
gen_mails "$tmp/m2" 20 32 fb
mails_to_inbox alice "$tmp/m1"
n1=$(expect_drafts "$tmp/m1")
want=$(( n1 + $(expect_drafts "$tmp/m2") ))
daemon_start "$A" "$tmp/a.log"
# the server dies as soon as the first drafts are stored, in the middle of the pass
$PY - "$dbA" <<'PY'
import os, sqlite3, sys, time
end = time.time() + 30
while time.time() < end:
    try:
        if os.path.exists(sys.argv[1]):
            c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=1)
            if c.execute("SELECT count(*) FROM complaints").fetchone()[0] >= 5:
                break
            c.close()
    except sqlite3.Error:
        pass
    time.sleep(0.01)
PY
dovecot_crash
down_at=$(ncomplaints "$dbA")
if [ "$down_at" -gt 0 ] && [ "$down_at" -lt "$n1" ]; then
	ok "the IMAP server dies in the middle of a pass ($down_at of $n1 drafts stored)"
else nok "the IMAP server died mid-pass ($down_at of $n1 drafts stored)"; fi
if wait_for 20 state_is "$A" error; then
	err=$(status_field "$A" "['last_error']")
	case $err in
	*onnect*|*closed*|*reset*|*ecv*|*end*|*reading\ failed*) ok "while it is down, intake status says error: $err";;
	*) nok "the error names the lost connection" "$err";;
	esac
else nok "intake status shows state error while the server is down" "$("$INTAKE" -c "$A" status 2>&1)"; fi
if wait_for 15 grep -q "imap main.*attempt [0-9]* failed, next in" "$tmp/a.log"; then
	ok "the daemon logs the failure and when it tries again"
else nok "the log names the failure and the next try" "$(tail -5 "$tmp/a.log")"; fi
check "the daemon keeps running while the server is down" kill -0 "$daemon_pid"
mails_to_inbox alice "$tmp/m2"   # delivered while the IMAP server is down
dovecot_restart || nok "Dovecot starts again"
if wait_for 60 exactly "$dbA" "$want"; then
	ok "once the server is back the daemon resumes by itself: $want drafts"
else nok "resumes after the IMAP server is back ($(ncomplaints "$dbA") of $want drafts)" "$(tail -5 "$tmp/a.log")"; fi
db "$dbA" "SELECT message_id FROM sources GROUP BY message_id HAVING count(*) > 1" >"$tmp/dup"
check "no message was stored twice" test ! -s "$tmp/dup"
wait_for 10 inbox_empty alice
check "the INBOX is empty and Processed holds all 420" test "$(maildir_count alice):$(maildir_count alice Processed)" = "0:420"
wait_for 10 state_is "$A" ok
check "intake status is ok again" test "$(status_field "$A" "['state']")" = ok

# SMTP has been down all along: the acknowledgments wait, none is lost.
# (the daemon drains the outbox every drain_interval, 2 s here)
smtp_tried() { [ "$(db "$dbA" "SELECT count(*) FROM outbox WHERE last_error LIKE '%onnect%'")" -gt 0 ]; }
wait_for 45 smtp_tried
nsent=$(db "$dbA" "SELECT count(*) FROM outbox WHERE state = 'sent'")
nwait=$(db "$dbA" "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind = 'acknowledgment'")
nerr=$(db "$dbA" "SELECT count(*) FROM outbox WHERE last_error LIKE '%onnect%'")
if [ "$nsent" = 0 ] && [ "$nwait" = "$want" ] && [ "$nerr" -gt 0 ]; then
	ok "SMTP down: all $want acknowledgments wait (pending), the outbox shows the connection error"
else nok "SMTP down: acknowledgments wait ($nsent sent, $nwait pending of $want, $nerr with a connection error)" \
	"$("$INTAKE" -c "$A" outbox 2>&1 | head -5)"; fi
check "SMTP down: no acknowledgment failed for good" test "$(db "$dbA" "SELECT count(*) FROM outbox WHERE state = 'failed'")" = 0
smtp_up "$tmp/smtp" "$sport" || nok "the SMTP server starts again on port $sport" "$(tail -3 "$tmp/smtp/stderr")"
t0=$(now_ms)
if wait_for 75 sh -c "[ \$(sqlite3 -readonly '$dbA' \"SELECT count(*) FROM outbox WHERE state = 'sent'\") = $want ]"; then
	ok "SMTP back: the daemon sends all $want acknowledgments by itself ($(( ($(now_ms) - t0) / 1000 )) s)"
else nok "SMTP back: acknowledgments sent ($(db "$dbA" "SELECT count(*) FROM outbox WHERE state = 'sent'") of $want)" "$(tail -5 "$tmp/a.log")"; fi
db "$dbA" "SELECT message_id FROM outbox WHERE state = 'sent'" | sort >"$tmp/sent.ids"
smtp_ids "$tmp/smtp" | sort >"$tmp/got.ids"
if cmp -s "$tmp/sent.ids" "$tmp/got.ids"; then ok "each acknowledgment arrived exactly once"
else nok "each acknowledgment exactly once" "$(diff "$tmp/sent.ids" "$tmp/got.ids" | head -8)"; fi
daemon_term; rc=$?
check "SIGTERM after the faults: exit 0" test $rc = 0
fi

# ==== 3. disk full ============================================================
# The store (database, spool, archive) on a 6 MB tmpfs; the daemon runs, the
# disk fills up, mail and letters arrive; then space is freed.
small=$tmp/small
mkdir -p "$small"
if ! part 3; then :
elif mount -t tmpfs -o size=6m,mode=0755 tmpfs "$small" 2>"$tmp/mount.err"; then
	fault_mounted "$small"
	mkdir -p "$tmp/c/drop"
	B=$(STORE_PATH=$small/intake.db SPOOL_PATH=$small/spool conf c bob <<EOF
[dropdir letters]
path = ../drop
channel = letter
archive = $small/archive
failed = $small/failed
settle_time = 1
rescan_interval = 2
EOF
)
	dbB=$small/intake.db
	gen_mails "$tmp/m3" 20 33 fc
	gen_letters "$tmp/l3" 2 33
	daemon_start "$B" "$tmp/c.log"
	wait_for 10 test -f "$dbB"
	sleep 1
	dd if=/dev/zero of="$small/filler" bs=16k 2>/dev/null
	free=$(df --output=avail -B1 "$small" | tail -1 | tr -d ' ')
	[ "$free" -lt 32768 ] && ok "the tmpfs holding the store fills up while the daemon runs ($free bytes free)" ||
		nok "tmpfs full" "$free bytes free"
	mails_to_inbox bob "$tmp/m3"
	cp "$tmp/l3"/scan*.pdf "$tmp/c/drop/"
	if wait_for 20 grep -q "No space left on device\|disk is full" "$tmp/c.log"; then
		ok "disk full: the log says so: $(grep -m1 "No space left on device\|disk is full" "$tmp/c.log" | cut -c1-220)"
	else nok "disk full: a clear error in the log (No space left on device)" "$(grep -v '^$' "$tmp/c.log" | tail -5)"; fi
	sleep 2
	# what an operator runs: it must not say all is well
	serr=$("$INTAKE" -c "$B" status 2>&1)
	case $serr in
	*"No space left"*|*"disk is full"*) ok "disk full: intake status shows it: $(echo "$serr" | grep -m1 'space\|full' | cut -c1-200)";;
	*) nok "disk full: intake status names the full disk (not 'ok' while nothing can be stored)" "$serr";;
	esac
	check "disk full: the mail stays on the server (20 in the INBOX)" test "$(maildir_count bob)" = 20
	check "disk full: the letters stay in the drop folder" test "$(ls "$tmp/c/drop" | grep -c 'pdf$')" = 2
	check "disk full: the daemon keeps running" kill -0 "$daemon_pid"
	rm -f "$small/filler"
	wantB=$(( $(expect_drafts "$tmp/m3") + 2 ))
	if wait_for 60 exactly "$dbB" "$wantB"; then
		ok "space freed: the daemon resumes by itself ($wantB drafts)"
	else nok "space freed: resumes ($(ncomplaints "$dbB") of $wantB drafts)" "$(grep -v '^$' "$tmp/c.log" | tail -5)"; fi
	wait_for 10 sh -c "[ -z \"\$(ls '$tmp/c/drop')\" ]"
	wait_for 10 inbox_empty bob
	check "space freed: the INBOX and the drop folder are empty" test "$(maildir_count bob):$(ls "$tmp/c/drop" | wc -l)" = "0:0"
	daemon_term
	check "after the disk was full: PRAGMA integrity_check = ok" test "$(sqlite3 "$dbB" 'PRAGMA integrity_check')" = ok
	"$INTAKE" -c "$B" verify >"$tmp/c.verify" 2>&1
	check "after the disk was full: intake verify finds every original intact" grep -q "^22 original(s) intact, 0 damaged" "$tmp/c.verify"
	dups=$(db "$dbB" "SELECT count(message_id) - count(DISTINCT message_id) FROM sources")
	check "after the disk was full: no source stored twice" test "$dups" = 0
	# run --once on a full disk with a mail waiting: exit 1, the mail stays
	gen_mails "$tmp/m3b" 1 38 fh
	mails_to_inbox bob "$tmp/m3b"
	dd if=/dev/zero of="$small/filler" bs=16k 2>/dev/null
	"$INTAKE" -c "$B" run --once >"$tmp/c.full" 2>&1; rc=$?
	if [ $rc -eq 1 ] && grep -qi "No space left\|disk is full" "$tmp/c.full" && [ "$(maildir_count bob)" = 1 ]; then
		ok "run --once on a full disk: exit 1 naming the full disk, the mail stays on the server"
	else nok "run --once on a full disk: exit 1 with a clear error, the mail kept (exit $rc, $(maildir_count bob) in the INBOX)" "$(tail -3 "$tmp/c.full")"; fi
	rm -f "$small/filler"
	"$INTAKE" -c "$B" run --once >"$tmp/c.after" 2>&1; rc=$?
	check "... and once space is freed, run --once takes it (exit 0, $((wantB + 1)) drafts)" test "$rc:$(ncomplaints "$dbB")" = "0:$((wantB + 1))"
else
	skip "disk full (tmpfs)" "mount -t tmpfs is not possible here: $(head -c 200 "$tmp/mount.err")"
fi

# ==== 4. the database busy: readers and a second writer while ingesting ========
if part 4; then
C=$(conf d carol <<EOF
[notices]
templates = $top/config/templates
language = zh
max_acks_per_day = 0
print_dir = ../var/print
EOF
)
dbC=$tmp/d/var/intake.db
gen_mails "$tmp/m4" 300 34 fd
gen_mails "$tmp/m5" 15 35 fe
"$INTAKE" -c "$C" drafts >/dev/null 2>&1
mails_to_inbox carol "$tmp/m4"
wantC=$(( $(expect_drafts "$tmp/m4") + $(expect_drafts "$tmp/m5") ))
: >"$tmp/readers.err"
# a reader holding a read transaction open for 3 s at a time
$PY - "$dbC" >"$tmp/longread.out" 2>&1 <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, isolation_level=None, timeout=30)
for i in range(4):
    con.execute("BEGIN")
    con.execute("SELECT count(*) FROM complaints").fetchone()
    time.sleep(3)
    con.execute("COMMIT")
print("long reader done")
PY
lr=$!
fault_track $lr
daemon_start "$C" "$tmp/d.log"
reads=0 rfail=0
( i=0; while [ $i -lt 15 ]; do "$INTAKE" -c "$C" ingest "$(ls "$tmp"/m5/*.eml | sed -n "$((i + 1))p")" >>"$tmp/writer.out" 2>&1 || echo "ingest $i: exit $?" >>"$tmp/writer.fail"; i=$((i + 1)); done ) &
wr=$!
fault_track $wr
t_end=$(( $(now_ms) + 60000 ))
while [ "$(ncomplaints "$dbC")" -lt "$wantC" ] && [ "$(now_ms)" -lt $t_end ]; do
	if "$INTAKE" -c "$C" drafts --json >"$tmp/r.json" 2>>"$tmp/readers.err" && jq -e '.drafts' "$tmp/r.json" >/dev/null; then
		reads=$((reads + 1))
	else rfail=$((rfail + 1)); fi
done
wait $wr; fault_untrack $wr
wait $lr; fault_untrack $lr
if exactly "$dbC" "$wantC"; then ok "database busy: all $wantC drafts, from the daemon and from 15 intake ingest beside it"
else nok "database busy: drafts ($(ncomplaints "$dbC") of $wantC)" "$(tail -5 "$tmp/d.log")"; fi
[ "$reads" -ge 10 ] && [ "$rfail" = 0 ] && ok "database busy: intake drafts --json succeeded $reads times in a loop while ingesting, never failed" ||
	nok "intake drafts in a loop: $reads ok, $rfail failed" "$(head -5 "$tmp/readers.err")"
check "database busy: every intake ingest beside the daemon exited 0" test ! -s "$tmp/writer.fail"
locked=$(cat "$tmp/d.log" "$tmp/readers.err" "$tmp/writer.out" "$tmp/longread.out" | grep -ci "database is locked\|SQLITE_BUSY\|database.*busy")
check "database busy: no 'database is locked' anywhere" test "$locked" = 0
check "database busy: the long reader finished" grep -q "long reader done" "$tmp/longread.out"
daemon_term
fi

# ==== 5. a drop folder the daemon may not read ===================================
# root reads anything: this daemon runs as nobody, its folders owned by nobody.
if part 5; then
E=$(conf e alice <<EOF
[dropdir letters]
path = ../drop
channel = letter
archive = ../var/archive
failed = ../var/failed
settle_time = 1
rescan_interval = 2
EOF
)
sed -i "s|^password_file = .*|password_file = $tmp/e/alice.pass|; s|^after = .*|after = move:ProcessedE|" "$E"
cp "$tmp/alice.pass" "$tmp/e/alice.pass"
mkdir -p "$tmp/e/drop" "$tmp/e/var"
gen_letters "$tmp/l5" 3 55
cp "$tmp/l5/scan000.pdf" "$tmp/e/drop/"
touch -d '10 seconds ago' "$tmp/e/drop/scan000.pdf"
chown -R nobody:nogroup "$tmp/e"
chmod 000 "$tmp/e/drop"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody_daemon() { # log (setpriv execs intake: $! is the daemon itself)
	setpriv --reuid=65534 --regid=65534 --clear-groups "$INTAKE" -c "$E" run 2>>"$1" &
	daemon_pid=$!
	fault_track $daemon_pid
}
dbE=$tmp/e/var/intake.db
as_nobody "$INTAKE" -c "$E" run --once >"$tmp/e.once" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "drop.*Permission denied\|Permission denied.*drop" "$tmp/e.once"; then
	ok "unreadable drop folder: run --once exits 1 naming the folder and 'Permission denied'"
else nok "unreadable drop folder: run --once exit 1 with a clear error (got $rc)" "$(tail -5 "$tmp/e.once")"; fi
# 5a. unreadable when the daemon starts
gen_mails "$tmp/m6" 5 36 ff
gen_mails "$tmp/m7" 5 37 fg
mails_to_inbox alice "$tmp/m6"
n6=$(expect_drafts "$tmp/m6")
n7=$(expect_drafts "$tmp/m7")
nobody_daemon "$tmp/e.log"
sleep 3
check "drop folder unreadable at start: the daemon keeps running" kill -0 "$daemon_pid"
if wait_for 15 exactly "$dbE" "$n6"; then
	ok "drop folder unreadable at start: the mailbox is still ingested ($n6 drafts)"
else nok "drop folder unreadable at start: the other sources go on ($(ncomplaints "$dbE") drafts)" "$(tail -3 "$tmp/e.log")"; fi
check "drop folder unreadable at start: the log names the folder and 'Permission denied'" grep -q "drop.*Permission denied" "$tmp/e.log"
check "drop folder unreadable at start: the file is still there" test -f "$tmp/e/drop/scan000.pdf"
chmod 755 "$tmp/e/drop"
if wait_for 20 exactly "$dbE" $((n6 + 1)); then
	ok "drop folder unreadable at start: permission given back, the letter becomes a draft without a restart"
else nok "drop folder unreadable at start: the letter is taken once readable" "$(tail -3 "$tmp/e.log")"; fi
daemon_term
# 5b. the permission taken away while the daemon runs
chmod 755 "$tmp/e/drop"
: >"$tmp/e2.log"
nobody_daemon "$tmp/e2.log"
wait_for 15 test ! -e "$tmp/e/drop/scan000.pdf"
sleep 1
base=$(ncomplaints "$dbE")
chmod 000 "$tmp/e/drop"
cp "$tmp/l5/scan001.pdf" "$tmp/e/drop/" && chown nobody:nogroup "$tmp/e/drop/scan001.pdf"
mails_to_inbox alice "$tmp/m7"
if wait_for 15 grep -q "drop.*Permission denied" "$tmp/e2.log"; then
	ok "permission taken away while running: the log says the folder cannot be read"
else nok "permission taken away while running: a clear error in the log" "$(tail -3 "$tmp/e2.log")"; fi
check "permission taken away while running: the daemon keeps running" kill -0 "$daemon_pid"
if wait_for 15 exactly "$dbE" $((base + n7)); then ok "permission taken away while running: the mailbox goes on ($n7 new drafts)"
else nok "permission taken away while running: the mailbox goes on" "$(tail -3 "$tmp/e2.log")"; fi
check "permission taken away while running: the file waits in the folder" test -f "$tmp/e/drop/scan001.pdf"
chmod 755 "$tmp/e/drop"
if wait_for 20 exactly "$dbE" $((base + n7 + 1)); then
	ok "permission taken away while running: the file is taken once the permission is back"
else nok "permission back: the file is taken" "$(tail -3 "$tmp/e2.log")"; fi
daemon_term
fi

diag "total $(( ($(now_ms) - t_start) / 1000 )) s"
fault_done
