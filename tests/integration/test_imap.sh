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

tmp=$(mktemp -d /tmp/intake-imap.XXXXXX)
daemon_pid=""
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	dovecot_stop
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

echo "1..$n"
