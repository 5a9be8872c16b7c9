#!/bin/sh
# The outbox drainer never holds up the daemon: with the SMTP server
# accepting connections and then saying nothing (a stand-in for a hung
# server, tests/harness/smtp_hang.py: a real server cannot be made to hang
# on demand), a letter dropped meanwhile becomes a draft at once, SIGTERM
# still ends the daemon within 5 s, and the notice in hand is neither lost
# nor marked sent.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
. tests/integration/lib_fault.sh
fault_init drainer

# the hung server: accepts, reads, never answers
$PY "$top/tests/harness/smtp_hang.py" "$tmp/hang" >"$tmp/hang.log" 2>&1 &
fault_track $!
wait_for 10 test -s "$tmp/hang/port" || { nok "the hung SMTP stand-in starts" "$(cat "$tmp/hang.log")"; fault_done; exit 1; }
port=$(cat "$tmp/hang/port")
mkdir -p "$tmp/conf" "$tmp/drop"
cat >"$tmp/conf/intake.conf" <<EOF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[smtp]
url = smtp://127.0.0.1:$port
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
timeout = 60s
connect_timeout = 30s
[notices]
templates = $top/config/templates
language = zh
print_dir = ../var/print
[dropdir letters]
path = ../drop
channel = letter
archive = ../var/archive
failed = ../var/failed
settle_time = 200ms
rescan_interval = 1
EOF
cfg=$tmp/conf/intake.conf
dbf=$tmp/var/intake.db
cat >"$tmp/first.eml" <<'EOF'
From: 张伟 <zhang.wei@example.net>
To: ts@broker.example.cn
Subject: =?UTF-8?B?5oqV6K+J?=
Date: Mon, 23 Nov 2026 10:00:00 +0800
Message-ID: <drainer-1@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

我是客户张伟，资金账号 310012345678，营业部多收手续费。
EOF
"$INTAKE" -c "$cfg" ingest "$tmp/first.eml" >"$tmp/ingest.out" 2>&1
check "an acknowledgment waits in the outbox" \
	test "$(db "$dbf" "SELECT count(*) FROM outbox WHERE state = 'pending'")" = 1

"$INTAKE" -c "$cfg" run >"$tmp/run.log" 2>&1 &
pid=$!
fault_track $pid
if wait_for 10 grep -q . "$tmp/hang/connections"; then ok "the daemon's drainer is connected to the hung server"
else nok "the drainer connects" "$(tail -5 "$tmp/run.log")"; fi
sleep 1
printf '投诉信\n我是客户李娜，资金账号 310087654321，营业部未按约定办理销户。\n李娜 lina@example.org\n' >"$tmp/letter.tmp"
t0=$(now_ms)
mv "$tmp/letter.tmp" "$tmp/drop/letter.txt"
if wait_for 10 sh -c "[ \$(sqlite3 -readonly '$dbf' 'SELECT count(*) FROM complaints') = 2 ]"; then
	ms=$(($(now_ms) - t0))
	if [ "$ms" -lt $((3000 * fault_scale)) ]; then ok "a letter dropped while the drainer waits on the server is a draft in $ms ms"
	else nok "the letter waited for the drainer ($ms ms)"; fi
else nok "the letter becomes a draft while the drainer waits" "$(tail -5 "$tmp/run.log")"; fi
t0=$(now_ms)
kill -TERM $pid
wait $pid; rc=$?
fault_untrack $pid
ms=$(($(now_ms) - t0))
check "SIGTERM while a notice is in hand: exit status 0" test "$rc" = 0
if [ "$ms" -lt 5000 ]; then ok "... within 5 s ($ms ms), the exchange with the hung server abandoned"
else nok "SIGTERM took $ms ms" "$(tail -5 "$tmp/run.log")"; fi
check "the notice in hand is not marked sent, nor failed for good: it waits for the next try" \
	test "$(db "$dbf" "SELECT count(*) FROM outbox WHERE recipient = 'zhang.wei@example.net' AND state = 'pending'")" = 1
fault_done
