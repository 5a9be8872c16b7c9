#!/bin/sh
# Integration test of the IMAP poller against a real Dovecot (tests/harness/
# dovecot.sh): what a user checks with `intake drafts/status --json` and in
# the mailbox itself. TAP output. Run by tests/run.sh with $INTAKE set and
# the repository as the current folder.
set -u
top=$(pwd)
INTAKE=${INTAKE:-$top/build/intake}
data=$top/tests/integration/data/imap
. "$top/tests/harness/dovecot.sh"
. "$top/tests/harness/idp.sh"

tmp=$(mktemp -d /tmp/intake-imap.XXXXXX)
daemon_pid=""
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	dovecot_stop
	idp_stop
	rm -rf "$tmp"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT INT TERM

n=0
ok() { # status description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
check() { # description command...
	d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$d"; else ok 1 "$d"; fi
}
# Evaluates a Python expression over the JSON on stdin (as d); prints it.
jq_py() {
	/usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
ndrafts() { "$INTAKE" -c "$1" drafts --json | jq_py 'len(d["drafts"])'; }
status_of() { # config section expr
	"$INTAKE" -c "$1" status --json |
		jq_py "[s for s in d['sources'] if s['section'] == '$2'][0]$3"
}
count_mail() { # user [folder]
	md=$(dovecot_maildir "$1" "${2:-}")
	ls "$md/new" "$md/cur" 2>/dev/null | grep -c "^[0-9]"
}
deliver() { # user template n epoch [folder]
	sed "s/@@N@@/$3/g" "$data/$2" >"$tmp/msg.eml"
	dovecot_deliver "$1" "$tmp/msg.eml" "$4" "${5:-}"
}
secret() { # file password mode
	printf '%s\n' "$2" >"$1"
	chmod "$3" "$1"
}
# A configuration: conf NAME, then its [imap] sections on stdin.
conf() {
	mkdir -p "$tmp/$1"
	{
		printf '[store]\npath = var/intake.db\nspool = var/spool\n'
		printf '[calendar]\nfile = %s/config/calendar/cn.conf\n' "$top"
		cat
	} >"$tmp/$1/intake.conf"
	echo "$tmp/$1/intake.conf"
}
imap_url() { echo "imap://127.0.0.1:$DOVECOT_PORT/INBOX"; }
run_once() { # config log
	"$INTAKE" -c "$1" run --once 2>"$2"
}

if ! dovecot_start "$tmp/dovecot"; then
	echo "not ok 1 - a private Dovecot starts"
	exit 1
fi
secret "$tmp/alice.pass" alice-secret 600
secret "$tmp/bob.pass" bob-secret 600
secret "$tmp/carol.pass" not-her-password 600
secret "$tmp/open.pass" alice-secret 644

# --- move mode: N messages become N drafts, moved to Processed -------------
A=$(conf move <<EOF
[imap main]
url = $(imap_url)
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
EOF
)
# INTERNALDATEs: 2025-12-01 09:00, 10:00, 11:00 +08:00 (not the Date headers)
deliver alice complaint-utf8.eml 1 1764550800
deliver alice complaint-gbk.eml 2 1764554400
deliver alice complaint-html.eml 3 1764558000
run_once "$A" "$tmp/run1.log"
ok $? "run --once over 3 new messages exits 0"
check "3 messages give 3 drafts" test "$(ndrafts "$A")" = 3
check "the 3 messages are moved to Processed" test "$(count_mail alice Processed)" = 3
seen_in() { # user folder: messages there marked \Seen (maildir cur/ names with S in their flags)
	ls "$(dovecot_maildir "$1" "$2")/cur" 2>/dev/null | grep -c ':2,[A-Z]*S'
}
check "... and marked read (\\Seen) there, like flagged ones: nothing unread in Processed" \
	test "$(seen_in alice Processed)" = 3
check "the INBOX is empty after the move" test "$(count_mail alice)" = 0
run_once "$A" "$tmp/run2.log"
ok $? "a second run --once exits 0"
check "a second run creates no draft" test "$(ndrafts "$A")" = 3
got=$("$INTAKE" -c "$A" drafts --json | jq_py 'sorted(x["received_at"] for x in d["drafts"])')
check "received_at is the server's INTERNALDATE, not the Date header" test \
	"$got" = "['2025-12-01T09:00:00+08:00', '2025-12-01T10:00:00+08:00', '2025-12-01T11:00:00+08:00']"
subj=$("$INTAKE" -c "$A" drafts --json | jq_py '"|".join(sorted(x["subject"] for x in d["drafts"]))')
check "the GBK subject split in two encoded words is whole" \
	sh -c "echo '$subj' | grep -q '关于账户的投诉'"
st=$("$INTAKE" -c "$A" status --json | jq_py \
	'[(s["state"], s["ingested"], s["last_uid"], s["backlog"], s["uidvalidity"] is not None) for s in d["sources"]]')
check "status shows state ok, 3 ingested, last UID 3, no backlog, a UIDVALIDITY" \
	test "$st" = "[('ok', 3, 3, 0, True)]"

# --- UIDVALIDITY change: the folder recreated with the same messages --------
uv1=$(status_of "$A" "imap main" '["uidvalidity"]')
dovecot_adm move -u alice INBOX mailbox Processed all
dovecot_adm mailbox update -u alice --uid-validity $((uv1 + 1000)) INBOX
run_once "$A" "$tmp/run3.log"
ok $? "run --once after a UIDVALIDITY change exits 0"
check "a UIDVALIDITY change creates no duplicate draft" test "$(ndrafts "$A")" = 3
check "status shows the new UIDVALIDITY" test "$(status_of "$A" "imap main" '["uidvalidity"]')" = $((uv1 + 1000))
check "the rescanned messages are moved again" test "$(count_mail alice)" = 0
check "the log names the UIDVALIDITY change" grep -q "UIDVALIDITY changed" "$tmp/run3.log"

# --- flag mode: messages stay, with \Seen and $IntakeProcessed ---------------
F=$(conf flag <<EOF
[imap flagged]
url = $(imap_url)
user = bob
password_file = $tmp/bob.pass
tls_ca_file = $DOVECOT_CA
after = flag
EOF
)
deliver bob complaint-utf8.eml 11 1764637200
deliver bob complaint-gbk.eml 12 1764640800
run_once "$F" "$tmp/run4.log"
ok $? "flag mode: run --once exits 0"
check "flag mode: 2 messages give 2 drafts" test "$(ndrafts "$F")" = 2
check "flag mode: the messages stay in the INBOX" test "$(count_mail bob)" = 2
flags=$(dovecot_adm fetch -u bob flags mailbox INBOX all | grep -c 'IntakeProcessed')
check "flag mode: both carry the keyword \$IntakeProcessed" test "$flags" = 2
run_once "$F" "$tmp/run5.log"
check "flag mode: a second run creates no draft" test "$(ndrafts "$F")" = 2

# --- a wrong password stops that mailbox only -------------------------------
W=$(conf wrong <<EOF
[imap carol]
url = $(imap_url)
user = carol
password_file = $tmp/carol.pass
tls_ca_file = $DOVECOT_CA
[imap main]
url = $(imap_url)
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
EOF
)
deliver alice complaint-html.eml 21 1764723600
deliver carol complaint-utf8.eml 22 1764723600
run_once "$W" "$tmp/run6.log"
rc=$?
check "a failed login makes run --once exit 1" test "$rc" = 1
check "status shows state auth_failed for that mailbox" test "$(status_of "$W" "imap carol" '["state"]')" = auth_failed
err=$(status_of "$W" "imap carol" '["last_error"]')
check "its last_error names the login and the server's answer" \
	sh -c "echo '$err' | grep -q 'login as carol refused' && echo '$err' | grep -qi 'authentication failed'"
check "the other mailbox is still ingested" test "$(ndrafts "$W")" = 1
check "the failed mailbox's message stays on the server" test "$(count_mail carol)" = 1

# --- a password file others can read is refused ------------------------------
O=$(conf open <<EOF
[imap main]
url = $(imap_url)
user = alice
password_file = $tmp/open.pass
tls_ca_file = $DOVECOT_CA
EOF
)
"$INTAKE" -c "$O" run --once 2>"$tmp/run7.log"
check "password_file with mode 0644: exit 2" test $? = 2
check "... with a clear configuration error" grep -q "password_file.*mode 0600 or stricter.*0644" "$tmp/run7.log"

# --- over-size message: left on the server with a clear status --------------
S=$(conf size <<EOF
[imap main]
url = $(imap_url)
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
max_message_size = 4k
EOF
)
{ sed 's/@@N@@/31/g' "$data/complaint-utf8.eml"; head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 76; } >"$tmp/big.eml"
dovecot_deliver alice "$tmp/big.eml" 1764810000
deliver alice complaint-gbk.eml 32 1764810000
run_once "$S" "$tmp/run8.log"
check "over-size: the small message is ingested" test "$(ndrafts "$S")" = 1
check "over-size: the big one stays in the INBOX" test "$(count_mail alice)" = 1
check "over-size: status state oversize" test "$(status_of "$S" "imap main" '["state"]')" = oversize
check "over-size: status says why and how to fix it" \
	sh -c "$INTAKE -c $S status | grep -q 'over max_message_size'"
check "over-size: the log names the UID" grep -q "uid [0-9]*: .* over max_message_size" "$tmp/run8.log"
check "over-size: counted in the backlog" test "$(status_of "$S" "imap main" '["backlog"]')" = 1

# --- TLS: a certificate not trusted is refused --------------------------------
T=$(conf tls <<EOF
[imap main]
url = $(imap_url)
user = alice
password_file = $tmp/alice.pass
EOF
)
run_once "$T" "$tmp/run9.log"
check "untrusted certificate: exit 1" test $? = 1
check "untrusted certificate: status error names the certificate" \
	sh -c "$INTAKE -c $T status --json | grep -qi 'certificate'"

# --- imaps:// works too --------------------------------------------------------
I=$(conf imaps <<EOF
[imap main]
url = imaps://127.0.0.1:$DOVECOT_SPORT/INBOX
user = bob
password_file = $tmp/bob.pass
tls_ca_file = $DOVECOT_CA
after = move:Done
EOF
)
deliver bob complaint-html.eml 41 1764810000
run_once "$I" "$tmp/run10.log"
check "imaps://: 3 drafts (2 kept flagged, 1 new), moved to Done" \
	test "$(ndrafts "$I"):$(count_mail bob Done)" = "3:3"

# --- server down ---------------------------------------------------------------
D=$(conf down <<EOF
[imap main]
url = imap://127.0.0.1:$(dovecot__free_port)/INBOX
user = alice
password_file = $tmp/alice.pass
EOF
)
run_once "$D" "$tmp/run11.log"
check "server down: exit 1" test $? = 1
check "server down: status state error" test "$(status_of "$D" "imap main" '["state"]')" = error
check "server down: last_error says the connection failed" \
	sh -c "$INTAKE -c $D status --json | grep -qi 'connect'"

# --- daemon: new mail picked up while running; SIGTERM exits within 5 s ----------
R=$(conf daemon <<EOF
[imap main]
url = $(imap_url)
user = carol
password_file = $tmp/carol-ok.pass
tls_ca_file = $DOVECOT_CA
poll_interval = 1s
EOF
)
secret "$tmp/carol-ok.pass" carol-secret 600
"$INTAKE" -c "$R" run 2>"$tmp/daemon.log" &
daemon_pid=$!
deliver carol complaint-gbk.eml 51 1764810000
i=0
while [ "$(ndrafts "$R" 2>/dev/null)" != 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "daemon: messages delivered while it runs become drafts" test "$(ndrafts "$R")" = 2
# SIGHUP: the configuration is read again; a mailbox added there is polled.
cat >>"$R" <<EOF
[imap added]
url = $(imap_url)
user = bob
password_file = $tmp/bob.pass
tls_ca_file = $DOVECOT_CA
poll_interval = 1s
EOF
deliver bob complaint-utf8.eml 52 1764810000
kill -HUP "$daemon_pid"
i=0
while [ "$(ndrafts "$R" 2>/dev/null)" != 3 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
got=$(ndrafts "$R")
check "daemon: SIGHUP reloads the configuration and polls the added mailbox ($got drafts)" \
	test "$(ndrafts "$R")" = 3
check "daemon: the reload is logged" grep -q "reloaded" "$tmp/daemon.log"

# The server killed in the middle of a backlog, then started again. The
# backlog is written straight into the Maildir (each file renamed into new/,
# as a delivery agent does) so that it is big enough to be cut in the middle.
md=$(dovecot_maildir carol)
/usr/bin/python3 - "$data" "$md" <<'PY2'
import os, sys
data, md = sys.argv[1], sys.argv[2]
tpl = [open(os.path.join(data, f), 'rb').read()
       for f in ('complaint-utf8.eml', 'complaint-gbk.eml', 'complaint-html.eml')]
for i in range(100, 3100):
    name = '1764810000.M%dP%d.backlog' % (i, os.getpid())
    tmp = os.path.join(md, 'tmp', name)
    with open(tmp, 'wb') as f:
        f.write(tpl[i % 3].replace(b'@@N@@', b'%d' % i))
    os.utime(tmp, (1764810000, 1764810000))
    os.chown(tmp, 65534, 65534)
    os.rename(tmp, os.path.join(md, 'new', name))
PY2
i=0
while [ "$(ndrafts "$R" 2>/dev/null)" -lt 40 ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
dovecot_stop
mid=$(ndrafts "$R")
sleep 1
dovecot_restart
i=0
while [ "$(ndrafts "$R" 2>/dev/null)" != 3003 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
check "server killed in the middle ($mid of 3003 stored): after its restart all 3003 are drafts, none twice" \
	test "$(ndrafts "$R")" = 3003 -a "$mid" -lt 3003
i=0
while [ "$(count_mail carol)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "... and the INBOX is empty: every stored message was moved" test "$(count_mail carol)" = 0
check "... the outage was logged with the next attempt" grep -q "next in" "$tmp/daemon.log"

t0=$(date +%s%N)
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
t1=$(date +%s%N)
daemon_pid=""
check "daemon: SIGTERM exits with status 0" test "$rc" = 0
check "daemon: ... within 5 s" test $(((t1 - t0) / 1000000)) -lt 5000

# --- IDLE: with a long poll interval, a new message is a draft within 2 s ------
I=$(conf idle <<EOF
[intake]
log_level = debug
[imap main]
url = $(imap_url)
user = bob
password_file = $tmp/bob.pass
tls_ca_file = $DOVECOT_CA
poll_interval = 10m
EOF
)
"$INTAKE" -c "$I" run 2>"$tmp/idle.log" &
daemon_pid=$!
i=0
while ! grep -qs "waiting in IDLE" "$tmp/idle.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "IDLE: after its first pass the daemon waits in IDLE" grep -q "waiting in IDLE" "$tmp/idle.log"
before=$(ndrafts "$I")
t0=$(date +%s%N)
deliver bob complaint-utf8.eml 61 1764810000
i=0
while [ "$(ndrafts "$I" 2>/dev/null)" = "$before" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "IDLE: a message delivered is a draft within 2 s, not at the 10 min poll (${ms} ms)" \
	test "$(ndrafts "$I")" = $((before + 1)) -a "$ms" -lt 2000
t0=$(date +%s%N)
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
t1=$(date +%s%N)
daemon_pid=""
check "IDLE: SIGTERM leaves IDLE and exits with 0 within 5 s" \
	test "$rc" = 0 -a $(((t1 - t0) / 1000000)) -lt 5000

# --- TLS: a trusted certificate issued for another name is refused ------------
# Two more Dovecots on alice's Maildirs (tests/harness/dovecot.sh), each with a
# certificate issued by a CA given as tls_ca_file: one for mail.other.example
# only, one for localhost only. Neither has IP:127.0.0.1. Only 127.0.0.1 is
# dialled: `localhost` must resolve to loopback addresses only.
hostname_refused() { # label config log
	run_once "$2" "$3"
	check "$1: run --once exits 1" test $? = 1
	check "$1: no draft is created" test "$(ndrafts "$2")" = 0
	check "$1: status shows the mailbox in error" test "$(status_of "$2" "imap main" '["state"]')" = error
	err=$(status_of "$2" "imap main" '["last_error"]')
	check "$1: last_error says the certificate does not match the host name ($err)" \
		sh -c "echo \"\$1\" | grep -q 'no alternative certificate subject name matches target host name .127\.0\.0\.1.'" \
		- "$err"
	check "$1: the message stays in the INBOX" test "$(count_mail alice)" = 1
}
alt_conf() { # name url: alice's mailbox on the second Dovecot, its CA trusted
	conf "$1" <<EOF
[imap main]
url = $2
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_ALT_CA
after = move:Processed
EOF
}
dovecot_adm mailbox create -u alice Parked
dovecot_adm move -u alice Parked mailbox INBOX all   # the over-size mail, out of the way
deliver alice complaint-utf8.eml 71 1764810000
other_log=""
if dovecot_start_alt other DNS:mail.other.example; then
	other_log=$DOVECOT_ALT_DIR/dovecot.log
	H=$(alt_conf hostname "imaps://127.0.0.1:$DOVECOT_ALT_SPORT/INBOX")
	hostname_refused "certificate for mail.other.example, imaps://127.0.0.1" "$H" "$tmp/run12.log"
	HS=$(alt_conf hostname-starttls "imap://127.0.0.1:$DOVECOT_ALT_PORT/INBOX")
	hostname_refused "certificate for mail.other.example, STARTTLS to 127.0.0.1" "$HS" "$tmp/run13.log"
else
	ok 1 "a Dovecot with a certificate for mail.other.example starts"
fi
loopback=$(/usr/bin/python3 -c 'import socket
a = {x[4][0] for x in socket.getaddrinfo("localhost", 1, type=socket.SOCK_STREAM)}
print("yes" if a and a <= {"127.0.0.1", "::1"} else "no: %s" % sorted(a))')
if [ "$loopback" != yes ]; then
	echo "ok $((n + 1)) - # SKIP localhost does not resolve to loopback only ($loopback)"
	n=$((n + 1))
elif dovecot_start_alt localhost DNS:localhost; then
	HL=$(alt_conf hostname-ip "imaps://127.0.0.1:$DOVECOT_ALT_SPORT/INBOX")
	hostname_refused "certificate for localhost only, imaps://127.0.0.1" "$HL" "$tmp/run14.log"
	HN=$(alt_conf hostname-name "imaps://localhost:$DOVECOT_ALT_SPORT/INBOX")
	run_once "$HN" "$tmp/run15.log"
	ok $? "certificate for localhost only, imaps://localhost: run --once exits 0"
	st=$("$INTAKE" -c "$HN" status --json | jq_py '[(s["state"], s["ingested"], s["last_error"]) for s in d["sources"]]')
	check "... 1 draft, moved out of the INBOX, status ok without error ($st)" \
		test "$(ndrafts "$HN"):$(count_mail alice):$st" = "1:0:[('ok', 1, None)]"
else
	ok 1 "a Dovecot with a certificate for localhost starts"
fi
dovecot_stop_alt   # both at once; their logs are complete
[ -n "$other_log" ] && check "certificate for mail.other.example: the password was never sent (no login in its log)" \
	sh -c "grep -q 'Disconnected' '$other_log' && ! grep -q 'Login: user=' '$other_log'"

# --- messages written straight into a Maildir (as a delivery agent does) ------
deliver_many() { # user template first last
	/usr/bin/python3 - "$data/$2" "$(dovecot_maildir "$1")" "$3" "$4" <<'PY3'
import os, sys
tpl = open(sys.argv[1], 'rb').read()
md, first, last = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(first, last + 1):
    name = '1764810000.M%dP%d.many' % (i, os.getpid())
    tmp = os.path.join(md, 'tmp', name)
    with open(tmp, 'wb') as f:
        f.write(tpl.replace(b'@@N@@', b'%d' % i))
    os.utime(tmp, (1764810000, 1764810000))
    os.chown(tmp, 65534, 65534)
    os.rename(tmp, os.path.join(md, 'new', name))
PY3
}
# The Message-IDs of a folder's messages that occur more than once.
doubled_ids() { # user folder
	md=$(dovecot_maildir "$1" "$2")
	cat "$md"/new/* "$md"/cur/* 2>/dev/null | grep -i '^Message-ID:' | sort | uniq -d
}
# IMAP commands a user's sessions sent (Dovecot's rawlog, *.in files).
rawlog_cmds() { # dir user
	cat "$1/$2"/*.in 2>/dev/null | sed -n 's/^[0-9.]* [A-Za-z0-9]* //p'
}

# --- no MOVE: UID COPY, \Deleted and UID EXPUNGE -------------------------------
# A Dovecot that does not advertise MOVE (imap_capability, the rest as
# Dovecot 2.3 offers it; it would still obey a MOVE, so what intake sends is
# read from the rawlog of each session).
rawlog=$DOVECOT_DIR/rawlog
mkdir -p "$rawlog/alice" "$rawlog/bob" "$rawlog/carol"
chown -R nobody:nogroup "$rawlog"
nomove_port=""
if dovecot_start_with nomove <<EOF
imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT UIDPLUS CHILDREN NAMESPACE UNSELECT LIST-EXTENDED ESEARCH LITERAL+
protocol imap {
  rawlog_dir = $rawlog/%u
}
EOF
then
	nomove_port=$DOVECOT_ALT_PORT
fi
check "a Dovecot without MOVE in its CAPABILITY starts" test -n "$nomove_port"
M=$(conf nomove <<EOF
[imap main]
url = imap://127.0.0.1:$nomove_port/INBOX
user = carol
password_file = $tmp/carol-ok.pass
tls_ca_file = $DOVECOT_CA
after = move:Handled
EOF
)
before_inbox=$(count_mail carol)
deliver_many carol complaint-utf8.eml 5001 5250
run_once "$M" "$tmp/run16.log"
ok $? "no MOVE: run --once over 250 messages exits 0"
check "no MOVE: 250 messages give 250 drafts" test "$(ndrafts "$M")" = 250
check "no MOVE: all 250 are in the processed folder" test "$(count_mail carol Handled)" = 250
check "no MOVE: the INBOX is back to what it held before ($before_inbox)" \
	test "$(count_mail carol)" = "$before_inbox"
check "no MOVE: no message is twice in the processed folder" test -z "$(doubled_ids carol Handled)"
cmds=$(rawlog_cmds "$rawlog" carol)
check "no MOVE: intake sent UID COPY, UID STORE +FLAGS.SILENT (\\Deleted) and UID EXPUNGE" \
	sh -c 'echo "$1" | grep -q "^UID COPY " && echo "$1" | grep -q "^UID STORE .*Deleted" &&
		echo "$1" | grep -q "^UID EXPUNGE "' - "$cmds"
check "no MOVE: ... and never UID MOVE" sh -c '! echo "$1" | grep -qi "MOVE "' - "$cmds"
check "no MOVE: the log says why" grep -q "does not offer MOVE" "$tmp/run16.log"
run_once "$M" "$tmp/run17.log"
ok $? "no MOVE: a second run --once exits 0"
check "no MOVE: a second run creates no draft and moves nothing twice" \
	test "$(ndrafts "$M"):$(count_mail carol Handled):$(count_mail carol)" = "250:250:$before_inbox"

# --- idle = false: polling only, no IDLE connection -----------------------------
# Two mailboxes on the Dovecot above (it offers IDLE): carol's with idle =
# false, bob's with the default. Only bob's sessions may send IDLE.
P=$(conf poll-only <<EOF
[intake]
log_level = debug
[imap polled]
url = imap://127.0.0.1:$nomove_port/INBOX
user = carol
password_file = $tmp/carol-ok.pass
tls_ca_file = $DOVECOT_CA
poll_interval = 1s
idle = false
[imap watched]
url = imap://127.0.0.1:$nomove_port/INBOX
user = bob
password_file = $tmp/bob.pass
tls_ca_file = $DOVECOT_CA
after = flag
poll_interval = 10m
EOF
)
rm -f "$rawlog"/carol/* "$rawlog"/bob/*
"$INTAKE" -c "$P" run 2>"$tmp/poll.log" &
daemon_pid=$!
i=0
while ! grep -qs "imap watched.*waiting in IDLE" "$tmp/poll.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
before=$(ndrafts "$P")
deliver carol complaint-gbk.eml 5301 1764810000
i=0
while [ "$(ndrafts "$P" 2>/dev/null)" = "$before" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "idle = false: a message delivered is still a draft, by polling" test "$(ndrafts "$P")" = $((before + 1))
sleep 1.5   # another poll of carol's
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
check "idle = false: SIGTERM exits with status 0" test "$rc" = 0
check "idle = false: the log says the mailbox is polled only" \
	grep -q "imap polled.*idle = false: polling only, every 1 s" "$tmp/poll.log"
check "idle = false: that mailbox never waits in IDLE" sh -c "! grep -q 'imap polled.*IDLE' '$tmp/poll.log'"
check "idle = false: carol's sessions sent SELECT but never IDLE (rawlog)" \
	sh -c 'echo "$1" | grep -q "^SELECT " && ! echo "$1" | grep -q "^IDLE"' - "$(rawlog_cmds "$rawlog" carol)"
check "idle = true (the default): bob's did send IDLE (rawlog)" \
	sh -c 'echo "$1" | grep -q "^IDLE"' - "$(rawlog_cmds "$rawlog" bob)"
dovecot_stop_alt nomove

# --- XOAUTH2 / OAUTHBEARER: a bearer token checked by an identity provider -----
# Dovecot's oauth2 passdb asks a stand-in for the identity provider
# (tests/harness/idp_standin.py) whether the token is good; it accepts one
# token for alice and refuses every other.
token_a=token-a-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
token_b=token-b-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
oauth_port=""
oauth_dir=""
if idp_start "$tmp/idp"; then
	idp_allow "$token_a" alice
	printf 'tokeninfo_url = %s\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n' \
		"$IDP_URL" >"$tmp/idp/dovecot-oauth2.conf.ext"
	if dovecot_start_with oauth2 <<EOF
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $tmp/idp/dovecot-oauth2.conf.ext
}
EOF
	then
		oauth_port=$DOVECOT_ALT_PORT
		oauth_dir=$DOVECOT_ALT_DIR
	fi
fi
check "an identity provider stand-in and a Dovecot with the oauth2 passdb start" test -n "$oauth_port"
secret "$tmp/alice.token" "$token_a" 600
X=$(conf xoauth2 <<EOF
[imap main]
url = imap://127.0.0.1:$oauth_port/INBOX
user = alice
oauth2_token_file = $tmp/alice.token
tls_ca_file = $DOVECOT_CA
after = move:ByToken
EOF
)
deliver alice complaint-utf8.eml 6001 1764810000
deliver alice complaint-html.eml 6002 1764810000
run_once "$X" "$tmp/run18.log"
ok $? "XOAUTH2: with the right token in a 0600 file, run --once exits 0"
check "XOAUTH2: 2 messages give 2 drafts, moved out of the INBOX" \
	test "$(ndrafts "$X"):$(count_mail alice ByToken):$(count_mail alice)" = "2:2:0"
check "XOAUTH2: Dovecot logged alice in by a bearer token (XOAUTH2 or OAUTHBEARER)" \
	grep -Eq "Login: user=<alice>, method=(XOAUTH2|OAUTHBEARER)" "$oauth_dir/dovecot.log"
check "XOAUTH2: ... which the identity provider accepted" grep -q "^GET /tokeninfo 200 alice" "$IDP_LOG"
secret "$tmp/alice.token" "token-wrong-$token_a" 600
deliver alice complaint-gbk.eml 6003 1764810000
run_once "$X" "$tmp/run19.log"
check "XOAUTH2: with a wrong token, run --once exits 1" test $? = 1
check "XOAUTH2: ... the identity provider refused it" grep -q "^GET /tokeninfo 401 refused" "$IDP_LOG"
check "XOAUTH2: ... status shows auth_failed" test "$(status_of "$X" "imap main" '["state"]')" = auth_failed
err=$(status_of "$X" "imap main" '["last_error"]')
check "XOAUTH2: ... its last_error names the login and the server's answer ($err)" \
	sh -c 'echo "$1" | grep -q "login as alice refused" && echo "$1" | grep -q "AUTHENTICATIONFAILED"' - "$err"
check "XOAUTH2: ... the message stays in the INBOX" test "$(ndrafts "$X"):$(count_mail alice)" = "2:1"
secret "$tmp/alice.token" "$token_a" 600
run_once "$X" "$tmp/run20.log"
ok $? "XOAUTH2: the right token written back: run --once exits 0"
check "XOAUTH2: ... the waiting message is a draft, status ok" \
	test "$(ndrafts "$X"):$(count_mail alice):$(status_of "$X" "imap main" '["state"]')" = "3:0:ok"

# The daemon: the token is replaced (the provider now accepts only the new
# one) while it runs, and the server drops every connection. The next logins,
# the poller's and the IDLE watcher's, read the new token: the provider is
# never asked about the old one again.
secret "$tmp/alice.token" "$token_a" 600
XD=$(conf xoauth2-daemon <<EOF
[intake]
log_level = debug
[imap main]
url = imap://127.0.0.1:$oauth_port/INBOX
user = alice
oauth2_token_file = $tmp/alice.token
tls_ca_file = $DOVECOT_CA
after = move:ByToken
poll_interval = 1s
EOF
)
"$INTAKE" -c "$XD" run 2>"$tmp/xoauth2-daemon.log" &
daemon_pid=$!
i=0
while ! grep -qs "waiting in IDLE" "$tmp/xoauth2-daemon.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "XOAUTH2 daemon: logged in with the token, it waits in IDLE" grep -q "waiting in IDLE" "$tmp/xoauth2-daemon.log"
idp_allow "$token_b" alice
secret "$tmp/alice.token" "$token_b" 600
refused_before=$(grep -c "401 refused" "$IDP_LOG")
doveadm -c "$oauth_dir/dovecot.conf" kick alice >/dev/null 2>&1
deliver alice complaint-utf8.eml 6004 1764810000
i=0
while [ "$(ndrafts "$XD" 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "XOAUTH2 daemon: after the token is replaced and the connections dropped, new mail is a draft" \
	test "$(ndrafts "$XD")" = 1
i=0
while [ "$(grep -c "waiting in IDLE" "$tmp/xoauth2-daemon.log")" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "XOAUTH2 daemon: ... IDLE is back" test "$(grep -c "waiting in IDLE" "$tmp/xoauth2-daemon.log")" -ge 2
check "XOAUTH2 daemon: ... and no login tried the old token" \
	test "$(grep -c "401 refused" "$IDP_LOG")" = "$refused_before"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
check "XOAUTH2 daemon: SIGTERM exits with status 0" test "$rc" = 0

secret "$tmp/alice-open.token" "$token_b" 644
XO=$(conf xoauth2-open <<EOF
[imap main]
url = imap://127.0.0.1:$oauth_port/INBOX
user = alice
oauth2_token_file = $tmp/alice-open.token
tls_ca_file = $DOVECOT_CA
EOF
)
"$INTAKE" -c "$XO" run --once 2>"$tmp/run21.log"
check "oauth2_token_file with mode 0644: exit 2" test $? = 2
check "... with a clear configuration error" \
	grep -q "oauth2_token_file.*mode 0600 or stricter.*0644" "$tmp/run21.log"
dovecot_stop_alt oauth2
idp_stop

echo "1..$n"
