#!/bin/sh
# Notices end to end through the binary and a real SMTP server (aiosmtpd,
# tests/harness/smtp.py) on 127.0.0.1 with STARTTLS and AUTH, delivering into
# a Maildir served by a private Dovecot (tests/harness/dovecot.sh: bob's
# INBOX gets every notice, whatever its recipient): the acknowledgment of an
# ingested mail (reference, charset, times, headers, masking) exactly once
# and the non-acceptance notice with its reason are read back over IMAPS;
# the other checks read the Maildir's files. No notice to machine mail,
# MAILER-DAEMON, our own address or noreply; the daily cap; a temporary
# failure (the harness's fake-451 and fake-drop modes: fakes of a fault,
# named so) retried until delivered once, or failed after the last try and
# requeued by hand; the drainer killed between sending and marking (the
# harness's hold-reply mode, a delay injected into a real delivery): a
# second copy carries the same Message-ID, the outbox says sent once; header
# injection through the subject; one connection for several notices;
# STARTTLS required by default; an unknown template placeholder refused at
# start.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
set -u
INTAKE=${INTAKE:-build/intake}
PY=/usr/bin/python3
top=$(pwd)
data="$top/tests/integration/data/notify"
. "$top/tests/harness/dovecot.sh"
tmp=$(mktemp -d /tmp/intake-notify.XXXXXX)
smtp_pids=""
cleanup() {
	for p in $smtp_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	dovecot_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# smtp_start DIR [ARGS]: starts the harness, waits for its port file.
smtp_start() {
	dir=$1; shift
	mkdir -p "$dir"
	$PY "$top/tests/harness/smtp.py" "$dir" "$@" >"$dir/stderr" 2>&1 &
	smtp_pids="$smtp_pids $!"
	i=0
	while [ ! -s "$dir/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$dir/port" ] || { echo "Bail out! SMTP harness did not start: $(cat "$dir/stderr")"; exit 1; }
}

# mails DIR TO EXPR: evaluates EXPR over `ms`, the messages in DIR's Maildir
# sent to TO (each an email.message.EmailMessage with .raw the bytes);
# exits 0 when true, else prints what it saw.
mails() {
	$PY - "$1/Maildir" "$2" "$3" <<'PY'
import email, mailbox, sys
from email import policy
box, to, expr = sys.argv[1:4]
ms = []
for key, msg in mailbox.Maildir(box, factory=None, create=False).iteritems():
    raw = msg.as_bytes()
    m = email.message_from_bytes(raw, policy=policy.default)
    if to == "*" or m["To"] == to:
        m.raw = raw
        m.text = m.get_content() if not m.is_multipart() else ""
        ms.append(m)
ok = eval(expr)
if not ok:
    for m in ms:
        print("--- To: %s Subject: %s" % (m["To"], m["Subject"]))
        print(m.raw.decode("utf-8", "replace")[:1500])
    print("(%d message(s) to %s)" % (len(ms), to))
sys.exit(0 if ok else 1)
PY
}

# imap TO EXPR: like mails, but the messages are read back over IMAPS (the
# certificate checked) from the Dovecot serving the harness's Maildir:
# bob's INBOX, EXAMINEd (read-only). Each m also has .uid and .charset (the
# server's BODYSTRUCTURE: type and charset of the body, e.g. text/plain
# utf-8); search(KEY, VALUE) is a UID SEARCH on the server (VALUE quoted, or
# sent as a UTF-8 literal with CHARSET UTF-8) and returns the UIDs found.
imap() {
	$PY - "$DOVECOT_SPORT" "$DOVECOT_CA" "$1" "$2" <<'PY'
import email, imaplib, re, ssl, sys
from email import policy
port, ca, to, expr = sys.argv[1:5]
box = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ssl.create_default_context(cafile=ca))
box.login("bob", "bob-secret")
box.select("INBOX", readonly=True)
def search(key, value):
    args = []
    if value.isascii():
        key += ' "%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    else:
        box.literal = value.encode()
        args = ["CHARSET", "UTF-8"]
    typ, data = box.uid("SEARCH", *args, key)
    assert typ == "OK", data
    return [int(u) for u in data[0].split()]
def fetch(items):
    typ, data = box.uid("FETCH", "1:*", "(UID %s)" % items)
    assert typ == "OK", data
    return [d for d in data if d is not None and d != b")"]
structure = {}
for d in fetch("BODYSTRUCTURE"):
    line = d.decode("utf-8", "replace")
    uid = int(re.search(r"UID (\d+)", line).group(1))
    t = re.search(r'BODYSTRUCTURE \("([^"]*)" "([^"]*)" \("charset" "([^"]*)"\)', line, re.I)
    structure[uid] = ("%s/%s %s" % t.groups()).lower() if t else line
ms = []
for d in fetch("BODY.PEEK[]"):
    uid = int(re.search(rb"UID (\d+)", d[0]).group(1))
    raw = d[1]
    m = email.message_from_bytes(raw, policy=policy.default)
    if to == "*" or m["To"] == to:
        m.raw, m.uid, m.charset = raw, uid, structure.get(uid)
        m.text = m.get_content() if not m.is_multipart() else ""
        ms.append(m)
ok = eval(expr)
if not ok:
    for m in ms:
        print("--- UID %s (%s) To: %s Subject: %s" % (m.uid, m.charset, m["To"], m["Subject"]))
        print(m.raw.decode("utf-8", "replace")[:1500])
    print("(%d message(s) to %s over IMAP)" % (len(ms), to))
box.logout()
sys.exit(0 if ok else 1)
PY
}

# json FILE EXPR: evaluates EXPR over the JSON document `d` in FILE.
json() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

# row REF KIND EXPR: true when the complaint has a notice of KIND and EXPR
# holds for it (`r`, a row of intake outbox --json).
row() { # ref kind expr
	"$INTAKE" -c "$cfg" outbox --json >"$tmp/outbox.json" 2>"$tmp/outbox.err" &&
	json "$tmp/outbox.json" "[r for r in d['notices'] if r['ref'] == '$1' and r['kind'] == '$2'] and all(($3) for r in d['notices'] if r['ref'] == '$1' and r['kind'] == '$2')"
}
show_row() {
	"$INTAKE" -c "$cfg" outbox --json 2>&1 | head -c 1500
}

ingest() { # file -> prints the reference
	"$INTAKE" -c "$cfg" ingest "$1" 2>>"$tmp/ingest.err" | sed -n 's/.*created \([A-Z]*[0-9]*-[0-9]*\).*/\1/p'
}
drain() { "$INTAKE" -c "$cfg" outbox drain >>"$tmp/drain.out" 2>>"$tmp/drain.err"; }
mode() { echo "$1" >"$smtp/mode"; }
variant() { # from n -> a file
	sed -e "s/@FROM@/$1/g" -e "s/@N@/$2/g" "$data/variant.eml.in" >"$tmp/variant-$2.eml"
	echo "$tmp/variant-$2.eml"
}

dovecot_start "$tmp/dovecot" || { echo "Bail out! Dovecot did not start"; exit 1; }
smtp="$tmp/smtp"
smtp_start "$smtp" --tls --user ts@broker.example.cn --password 'harness-secret' \
	--maildir "$(dovecot_maildir bob)"
port=$(cat "$smtp/port")
mkdir -p "$tmp/conf/calendar"
cp "$top/config/calendar/cn.conf" "$tmp/conf/calendar/cn.conf"
echo 'harness-secret' >"$tmp/conf/smtp.pass"
chmod 600 "$tmp/conf/smtp.pass"   # a password file others can read is refused
write_conf() { # file url extra-smtp-lines
	cat >"$1" <<EOF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = calendar/cn.conf
timezone = Asia/Shanghai
[smtp]
url = $2
user = ts@broker.example.cn
password_file = smtp.pass
from = 客户投诉中心 <ts@broker.example.cn>
tls_ca_file = $smtp/cert.pem
timeout = 20s
connect_timeout = 5s
$3
[notices]
templates = $top/config/templates
language = zh
retry = 3s,3s
max_acks_per_day = 3
print_dir = ../var/print
EOF
}
cfg="$tmp/conf/intake.conf"
write_conf "$cfg" "smtp://127.0.0.1:$port" ""

# --- the acknowledgment of a real-looking complaint
ref=$(ingest "$data/complaint.eml")
if [ -n "$ref" ] && row "$ref" acknowledgment "r['state'] == 'pending' and r['attempts'] == 0"; then
	ok "ingest: the draft $ref and its acknowledgment are stored together, pending"
else nok "ingest queues an acknowledgment" "ref=$ref" "$(cat "$tmp/ingest.err")" "$(show_row)"; fi
drain
if imap zhang.wei@example.net "len(ms) == 1"; then
	ok "drain: the acknowledgment arrives exactly once, read back over IMAP from Dovecot"
else nok "acknowledgment delivered once (IMAP)" "$(cat "$tmp/drain.err")"; fi
"$INTAKE" -c "$cfg" show --json "$ref" >"$tmp/show.json"
expect=$($PY - "$tmp/show.json" <<'PY'
import json, sys, datetime
d = json.load(open(sys.argv[1]))
f = lambda s: datetime.datetime.fromisoformat(s).strftime("%Y年%m月%d日 %H:%M")
print(f(d["received_at"]) + "|" + f(d["acceptance_due"]))
PY
)
recv=${expect%%|*} due=${expect#*|}
if imap zhang.wei@example.net "'[$ref]' in ms[0]['Subject'] and '关于资金账户冻结的投诉' in ms[0]['Subject'] and b'=?' in ms[0].raw.split(b'\r\n\r\n')[0] and search('SUBJECT', '关于资金账户冻结的投诉') == [ms[0].uid] and search('SUBJECT', '[$ref]') == [ms[0].uid]"; then
	ok "acknowledgment: the decoded subject carries [$ref] (UTF-8 encoded-words on the wire; Dovecot's SUBJECT search finds it by the reference and by the Chinese title)"
else nok "acknowledgment subject (IMAP)"; fi
if imap zhang.wei@example.net "ms[0].charset == 'text/plain utf-8' and '$recv' in ms[0].text and '$due' in ms[0].text and '张伟' in ms[0].text"; then
	ok "acknowledgment: text/plain charset utf-8 (Dovecot's BODYSTRUCTURE); the body gives the received time ($recv) and the acceptance due date ($due)"
else nok "acknowledgment charset and body times ($recv, $due) (IMAP)"; fi
if imap zhang.wei@example.net "ms[0]['Auto-Submitted'] == 'auto-replied' and ms[0]['In-Reply-To'] == '<20261123101500.4711@mail.example.net>' and ms[0]['References'] == '<20261123101500.4711@mail.example.net>' and ms[0]['From'].addresses[0].addr_spec == 'ts@broker.example.cn' and ms[0]['From'].addresses[0].display_name == '客户投诉中心' and search('HEADER Auto-Submitted', 'auto-replied') == [ms[0].uid] and search('HEADER In-Reply-To', '<20261123101500.4711@mail.example.net>') == [ms[0].uid]"; then
	ok "acknowledgment: Auto-Submitted: auto-replied, In-Reply-To and References = the complaint's Message-ID, From from the configuration (IMAP)"
else nok "acknowledgment headers (IMAP)"; fi
msgid=$($PY -c "import json; d=json.load(open('$tmp/outbox.json')); print([r['message_id'] for r in d['notices'] if r['ref']=='$ref'][0])")
if imap zhang.wei@example.net "ms[0]['Message-ID'] == '$msgid' and search('HEADER Message-ID', '$msgid') == [ms[0].uid]"; then
	ok "acknowledgment: its Message-ID is the one fixed when the row was written (IMAP)"
else nok "Message-ID fixed at creation ($msgid) (IMAP)"; fi
if imap zhang.wei@example.net "b'310012345678' not in ms[0].raw and '310012345678' not in ms[0].text and '********5678' in ms[0].text"; then
	ok "acknowledgment: the account number is masked (********5678), the full number nowhere in the mail (IMAP)"
else nok "account masked (IMAP)"; fi
drain
if imap zhang.wei@example.net "len(ms) == 1" && row "$ref" acknowledgment "r['state'] == 'sent' and r['attempts'] == 1 and r['sent_at']"; then
	ok "a second drain sends nothing again: sent once, attempts 1"
else nok "no second copy" "$(show_row)"; fi

# --- decisions
"$INTAKE" -c "$cfg" reject "$ref" --reason not_customer --by tester >"$tmp/reject.out" 2>&1
drain
"$INTAKE" -c "$cfg" outbox --json >"$tmp/outbox.json"
nmid=$($PY -c "import json; d=json.load(open('$tmp/outbox.json')); print([r['message_id'] for r in d['notices'] if r['ref']=='$ref' and r['kind']=='non_acceptance'][0])" 2>/dev/null)
if [ -n "$nmid" ] && imap zhang.wei@example.net "len(ms) == 2 and [m for m in ms if m['Message-ID'] == '$nmid'] and all('[$ref]' in m['Subject'] and '不予受理' in m['Subject'] and m.charset == 'text/plain utf-8' and '经核实，投诉人并非本公司客户。' in m.text and '仲裁' in m.text and '诉讼' in m.text and m['Auto-Submitted'] == 'auto-replied' and m['In-Reply-To'] == '<20261123101500.4711@mail.example.net>' for m in ms if m['Message-ID'] == '$nmid') and search('HEADER Message-ID', '$nmid') and search('SUBJECT', '不予受理') == [m.uid for m in ms if m['Message-ID'] == '$nmid']"; then
	ok "reject --reason not_customer: the non-acceptance notice arrives (IMAP) with [$ref], utf-8, its reason text, the remedies, Auto-Submitted and In-Reply-To"
else nok "non-acceptance notice (IMAP)" "nmid=$nmid" "$(cat "$tmp/reject.out" "$tmp/drain.err")"; fi
r2=$(ingest "$(variant accepted@example.org 90)")
"$INTAKE" -c "$cfg" accept "$r2" --by tester >/dev/null 2>&1
if row "$r2" acknowledgment "True" && ! row "$r2" acceptance "True"; then
	ok "accept without send_acceptance queues no acceptance notice"
else nok "no acceptance notice by default" "$(show_row)"; fi
drain
cfga="$tmp/conf/accept.conf"
sed 's/^max_acks_per_day = 3/max_acks_per_day = 3\nsend_acceptance = yes/' "$cfg" >"$cfga"
r3=$(ingest "$(variant accepted2@example.org 91)")
"$INTAKE" -c "$cfga" accept "$r3" --by tester >/dev/null 2>&1
"$INTAKE" -c "$cfga" outbox drain >>"$tmp/drain.out" 2>>"$tmp/drain.err"
if mails "$smtp" accepted2@example.org "len(ms) == 2 and any('受理通知' in m['Subject'] and '[$r3]' in m['Subject'] and '前作出处理决定' in m.text for m in ms)"; then
	ok "with send_acceptance = yes, accept sends the acceptance notice with the handling deadline"
else nok "acceptance notice" "$(show_row)"; fi

# --- no notice to machines, ourselves, noreply
"$INTAKE" -c "$cfg" outbox --json >"$tmp/outbox.json"
before=$($PY -c "import json; print(len(json.load(open('$tmp/outbox.json'))['notices']))")
for f in auto_reply mailer_daemon own_address; do
	"$INTAKE" -c "$cfg" ingest "$data/$f.eml" >"$tmp/$f.out" 2>&1
done
"$INTAKE" -c "$cfg" outbox --json >"$tmp/outbox.json"
if grep -q "not a complaint: auto_reply" "$tmp/auto_reply.out" && grep -q "not a complaint: bounce" "$tmp/mailer_daemon.out" &&
	grep -q "not a complaint: own_notice" "$tmp/own_address.out" &&
	json "$tmp/outbox.json" "len(d['notices']) == $before"; then
	ok "an auto-reply, a bounce from MAILER-DAEMON and our own notice looped back get no notice"
else nok "machine mail gets no notice" "$(cat "$tmp/auto_reply.out" "$tmp/mailer_daemon.out" "$tmp/own_address.out")"; fi
rn=$(ingest "$data/noreply.eml")
"$INTAKE" -c "$cfg" outbox --json >"$tmp/outbox.json"
if [ -n "$rn" ] && json "$tmp/outbox.json" "len(d['notices']) == $before and not [r for r in d['notices'] if r['ref'] == '$rn']" &&
	grep -q "no acknowledgment: the address belongs to a mail system" "$tmp/ingest.err"; then
	ok "a complaint sent from no-reply@ becomes a draft ($rn) but gets no acknowledgment (logged why)"
else nok "noreply gets no notice" "$rn" "$(tail -3 "$tmp/ingest.err")"; fi

# --- at most 3 acknowledgments per address per day
caps=""
for i in 1 2 3 4; do caps="$caps $(ingest "$(variant capped@example.org $i)")"; done
set -- $caps
"$INTAKE" -c "$cfg" show --json "$4" >"$tmp/show4.json"
if [ $# -eq 4 ] && row "$1" acknowledgment True && row "$3" acknowledgment True && ! row "$4" acknowledgment True &&
	json "$tmp/show4.json" "any(e['kind'] == 'notice_suppressed' for e in d['events'])"; then
	ok "the 4th complaint from one address in a day is a draft, its acknowledgment suppressed (an event says so)"
else nok "daily cap" "$caps" "$(show_row)"; fi
drain
if mails "$smtp" capped@example.org "len(ms) == 3"; then
	ok "capped address: exactly 3 acknowledgments delivered"
else nok "3 acknowledgments delivered"; fi

# --- a temporary failure (fake-451): retried, delivered once when the server accepts
mode fake-451
rr=$(ingest "$(variant retry@example.org 20)")
drain
if row "$rr" acknowledgment "r['state'] == 'pending' and r['attempts'] == 1 and '451' in (r['last_error'] or '') and r['next_attempt_at']" &&
	mails "$smtp" retry@example.org "len(ms) == 0"; then
	ok "SMTP 451 (fake): the notice stays pending, attempts 1, last error shown in outbox --json"
else nok "451 keeps it pending" "$(show_row)"; fi
drain
if row "$rr" acknowledgment "r['attempts'] == 1"; then
	ok "before its retry time a drain does not try it again"
else nok "backoff respected" "$(show_row)"; fi
mode accept
sleep 3.2
drain
if row "$rr" acknowledgment "r['state'] == 'sent' and r['attempts'] == 2" && mails "$smtp" retry@example.org "len(ms) == 1"; then
	ok "after the wait and with the server accepting: sent, delivered exactly once (attempts 2)"
else nok "retry delivers once" "$(show_row)"; fi

# --- a dropped connection (fake-drop): retried too
mode fake-drop
rd=$(ingest "$(variant dropped@example.org 30)")
drain
okdrop=0
row "$rd" acknowledgment "r['state'] == 'pending' and r['attempts'] == 1 and r['last_error']" && okdrop=1
mode accept
sleep 3.2
drain
if [ $okdrop = 1 ] && row "$rd" acknowledgment "r['state'] == 'sent'" && mails "$smtp" dropped@example.org "len(ms) == 1"; then
	ok "a dropped connection (fake) is a temporary failure: retried and delivered once"
else nok "dropped connection retried" "$(show_row)" "$(tail -5 "$tmp/drain.err")"; fi

# --- after the last try: failed; outbox retry ID requeues it
mode fake-451
rf=$(ingest "$(variant failing@example.org 40)")
drain; sleep 3.2; drain; sleep 3.2; drain
if row "$rf" acknowledgment "r['state'] == 'failed' and r['attempts'] == 3 and '451' in r['last_error']" &&
	"$INTAKE" -c "$cfg" outbox 2>/dev/null | grep -q "FAILED"; then
	ok "after the last try (retry = 3s,3s: 3 attempts) the notice is failed, and intake outbox says FAILED"
else nok "failed after the last try" "$(show_row)"; fi
"$INTAKE" -c "$cfg" status --json >"$tmp/status.json" 2>"$tmp/status.err"
"$INTAKE" -c "$cfg" status >"$tmp/status.txt" 2>>"$tmp/status.err"
if json "$tmp/status.json" "d['outbox']['failed'] == 1 and d['outbox'] == json.load(open('$tmp/outbox.json'))['counts']" &&
	grep -q '^outbox  *FAILED  *.* 1 FAILED, .*intake outbox retry ID' "$tmp/status.txt"; then
	ok "intake status shows the failed notice: status --json outbox failed 1, the text line says FAILED and how to requeue"
else nok "status shows the failed notice" "$(cat "$tmp/status.json" "$tmp/status.txt" "$tmp/status.err" | head -c 1500)"; fi
id=$($PY -c "import json; d=json.load(open('$tmp/outbox.json')); print([r['id'] for r in d['notices'] if r['ref']=='$rf'][0])")
mode accept
"$INTAKE" -c "$cfg" outbox retry "$id" --by tester >"$tmp/retry.out" 2>&1; rc=$?
drain
if [ $rc -eq 0 ] && row "$rf" acknowledgment "r['state'] == 'sent'" && mails "$smtp" failing@example.org "len(ms) == 1"; then
	ok "outbox retry $id requeues the failed notice; the next drain delivers it once"
else nok "outbox retry" "rc=$rc $(cat "$tmp/retry.out")" "$(show_row)"; fi
"$INTAKE" -c "$cfg" status >"$tmp/status.txt" 2>&1
if grep -q '^outbox  *ok  *.* 0 failed, ' "$tmp/status.txt" && ! grep -q FAILED "$tmp/status.txt"; then
	ok "once it is delivered, intake status shows a calm outbox line (0 failed, no FAILED)"
else nok "status outbox after the retry" "$(cat "$tmp/status.txt")"; fi
"$INTAKE" -c "$cfg" outbox retry "$id" >"$tmp/retry2.out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "not failed" "$tmp/retry2.out"; then
	ok "outbox retry of a sent notice is refused (exit 2)"
else nok "retry of sent refused" "rc=$rc $(cat "$tmp/retry2.out")"; fi

# --- header injection through the complainant's subject
ri=$(ingest "$data/injection.eml")
drain
if [ -n "$ri" ] && mails "$smtp" chen.gang@example.org "len(ms) == 1 and ms[0]['Bcc'] is None and ms[0]['X-Injected'] is None and 'Bcc: victim@evil.example' in ms[0]['Subject'] and b'\r\nBcc:' not in ms[0].raw and b'\r\nX-Injected:' not in ms[0].raw"; then
	ok "a subject carrying CR LF 'Bcc:' and 'X-Injected:' creates no header: the text stays inside Subject"
else nok "header injection"; fi

# --- one connection for several notices in one drain
c0=$(wc -l <"$smtp/connections")
for i in 51 52 53; do ingest "$(variant "reuse$i@example.org" $i)" >/dev/null; done
drain
c1=$(wc -l <"$smtp/connections")
if [ $((c1 - c0)) -eq 1 ] && mails "$smtp" reuse53@example.org "len(ms) == 1"; then
	ok "three notices in one drain go over one SMTP connection"
else nok "connection reuse" "connections before $c0 after $c1"; fi

# --- intake run --once drains the outbox after the sources' pass
ro=$(ingest "$(variant once@example.org 70)")
"$INTAKE" -c "$cfg" run --once >"$tmp/run.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && mails "$smtp" once@example.org "len(ms) == 1" && row "$ro" acknowledgment "r['state'] == 'sent'"; then
	ok "intake run --once sends the acknowledgment queued by an earlier ingest"
else nok "run --once drains" "rc=$rc $(tail -5 "$tmp/run.out")"; fi

# --- killed between sending and marking: the harness's hold-reply mode (a
# FAKE slow server: the delivery is real, only the delay of its "250" is
# injected) stores the notice, intake is killed with SIGKILL while it waits
# for the reply, so the outbox never hears it was delivered. The second
# copy that follows must be the same notice: the Message-ID is the one the
# row was written with.
rh=$(ingest "$(variant held@example.org 80)")
hmid=$("$INTAKE" -c "$cfg" outbox --json | $PY -c "import json,sys; print([r['message_id'] for r in json.load(sys.stdin)['notices'] if r['ref'] == '$rh'][0])" 2>/dev/null)
l0=$(wc -l <"$smtp/log")
mode "hold-reply 30"
"$INTAKE" -c "$cfg" outbox drain >"$tmp/held.out" 2>&1 &
hpid=$!
stored=0 i=0
while [ $i -lt 150 ]; do
	tail -n +$((l0 + 1)) "$smtp/log" | grep -q "^hold-reply .*held@example.org" && { stored=1; break; }
	sleep 0.1; i=$((i + 1))
done
alive=0
kill -0 "$hpid" 2>/dev/null && alive=1
kill -9 "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null; hrc=$?
mode accept
if [ -n "$rh" ] && [ -n "$hmid" ] && [ $stored = 1 ] && [ $alive = 1 ] && [ $hrc -eq 137 ] &&
	imap held@example.org "len(ms) == 1 and ms[0]['Message-ID'] == '$hmid'" &&
	row "$rh" acknowledgment "r['state'] == 'pending' and r['attempts'] == 0 and not r['sent_at']"; then
	ok "hold-reply (fake delay): the notice is delivered, intake killed (SIGKILL) before the 250: the outbox still says pending, 0 attempts"
else nok "killed between sending and marking" "ref=$rh mid=$hmid stored=$stored alive=$alive rc=$hrc" "$(cat "$tmp/held.out")" "$(show_row)"; fi
drain
if imap held@example.org "len(ms) == 1" && row "$rh" acknowledgment "r['state'] == 'pending' and r['attempts'] == 0"; then
	ok "a drain straight after the kill sends no copy: the row is held by the killed drainer's lease"
else nok "lease of the killed drainer" "$(show_row)"; fi
# The lease (30 minutes) passes: in the store, as tests/integration/test_crash.sh does.
sqlite3 "$tmp/var/intake.db" "UPDATE outbox SET next_attempt_at = strftime('%s','now') - 1 WHERE state = 'pending' AND recipient = 'held@example.org'"
drain
if imap held@example.org "len(ms) == 2 and all(m['Message-ID'] == '$hmid' for m in ms) and ms[0]['Date'] == ms[1]['Date'] and ms[0].text == ms[1].text and len(search('HEADER Message-ID', '$hmid')) == 2"; then
	ok "after the lease the notice goes again: both copies (IMAP) carry the same Message-ID $hmid, Date and text"
else nok "second copy has the same Message-ID" "$(tail -3 "$tmp/drain.err")"; fi
if row "$rh" acknowledgment "r['state'] == 'sent' and r['attempts'] == 1 and r['sent_at'] and r['message_id'] == '$hmid'" &&
	json "$tmp/outbox.json" "len([r for r in d['notices'] if r['ref'] == '$rh']) == 1"; then
	ok "intake outbox --json: that notice is one row, sent once (attempts 1: the killed attempt left no mark)"
else nok "outbox sent once after the kill" "$(show_row)"; fi

# --- STARTTLS is required by default
plain="$tmp/plain"
smtp_start "$plain"
pport=$(cat "$plain/port")
cfg2="$tmp/conf/plain.conf"
write_conf "$cfg2" "smtp://127.0.0.1:$pport" ""
sed -i -e '/^user = /d' -e '/^password_file = /d' "$cfg2"
"$INTAKE" -c "$cfg2" ingest "$(variant plain@example.org 60)" >/dev/null 2>&1
"$INTAKE" -c "$cfg2" outbox drain >/dev/null 2>"$tmp/plain.err"
"$INTAKE" -c "$cfg2" outbox --json >"$tmp/plain.json"
if json "$tmp/plain.json" "[r for r in d['notices'] if r['recipient'] == 'plain@example.org' and r['state'] == 'pending' and r['last_error']]" &&
	mails "$plain" "*" "len(ms) == 0"; then
	ok "a server without STARTTLS gets nothing: the notice waits (STARTTLS required by default)"
else nok "STARTTLS required" "$(cat "$tmp/plain.err")" "$(head -c 800 "$tmp/plain.json")"; fi
echo "starttls = no" >"$tmp/starttls"
sed -i '/^connect_timeout/r '"$tmp/starttls" "$cfg2"
sleep 3.2
"$INTAKE" -c "$cfg2" outbox drain >/dev/null 2>"$tmp/plain.err"
if mails "$plain" plain@example.org "len(ms) == 1" && grep -q "starttls = no" "$tmp/plain.err"; then
	ok "starttls = no (tests only) sends in clear text and says so in the log"
else nok "starttls = no" "$(cat "$tmp/plain.err")"; fi

# --- an unknown placeholder is a configuration error at start
cp -r "$top/config/templates" "$tmp/badtpl"
sed -i 's/{acceptance_due}/{acceptance_date}/' "$tmp/badtpl/zh/acknowledgment.txt"
cfg3="$tmp/conf/bad.conf"
write_conf "$cfg3" "smtp://127.0.0.1:$port" ""
sed -i "s|^templates = .*|templates = $tmp/badtpl|" "$cfg3"
"$INTAKE" -c "$cfg3" drafts >"$tmp/bad.out" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "badtpl/zh/acknowledgment.txt: unknown placeholder {acceptance_date}" "$tmp/bad.out"; then
	ok "a template with an unknown placeholder stops the start, naming file and placeholder"
else nok "unknown placeholder" "rc=$rc $(cat "$tmp/bad.out")"; fi

# --- letters without an e-mail address: rendered for the post
printf '投诉信\n我是客户赵敏，资金账号 310077778888，营业部未按约定办理销户。\n赵敏\n' >"$tmp/letter.txt"
if "$INTAKE" -c "$cfg" ingest --channel letter "$tmp/letter.txt" >"$tmp/letter.out" 2>&1; then
	drain
	rl=$(sed -n 's/.*created \([A-Z]*[0-9]*-[0-9]*\).*/\1/p' "$tmp/letter.out")
	f=$(ls "$tmp/var/print/$rl-acknowledgment-"*.txt 2>/dev/null | head -1)
	if [ -n "$f" ] && grep -q "$rl" "$f" && ! grep -q 310077778888 "$f" && row "$rl" acknowledgment "r['state'] == 'print' and r['print_path']"; then
		ok "a letter without an e-mail address: its acknowledgment is a file in the print folder, state print"
	else nok "letter rendered for the post" "$(cat "$tmp/letter.out")" "$(show_row)"; fi
else nok "a letter without an e-mail address: intake ingest --channel letter" "$(cat "$tmp/letter.out")"
fi

# --- Reply-To: recorded, trusted for notices only with trust_reply_to = yes
replyto() { # n -> a mail from wang.fang@example.net with Reply-To fang.home@example.org
	cat >"$tmp/replyto-$1.eml" <<EOF
From: 王芳 <wang.fang@example.net>
Reply-To: fang.home@example.org
To: ts@broker.example.cn
Subject: =?UTF-8?B?5oqV6K+J5omL57ut6LS5?= $1
Date: Mon, 23 Nov 2026 10:00:00 +0800
Message-ID: <replyto-$1@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

我是客户王芳，资金账号 310055556666，营业部多收了手续费，请核实。
EOF
	echo "$tmp/replyto-$1.eml"
}
r1=$(ingest "$(replyto 1)")
drain
if [ -n "$r1" ] && mails "$smtp" wang.fang@example.net "any('[$r1]' in m['Subject'] for m in ms)" &&
	mails "$smtp" fang.home@example.org "len(ms) == 0" >/dev/null; then
	ok "Reply-To by default: the acknowledgment goes to the sender, not to the Reply-To"
else nok "Reply-To not trusted by default" "ref=$r1" "$(tail -3 "$tmp/drain.err")"; fi
cfg4="$tmp/conf/replyto.conf"
write_conf "$cfg4" "smtp://127.0.0.1:$port" ""
sed -i 's/^\[notices\]$/[notices]\ntrust_reply_to = yes/' "$cfg4"
r2=$("$INTAKE" -c "$cfg4" ingest "$(replyto 2)" 2>>"$tmp/ingest.err" | sed -n 's/.*created \([A-Z]*[0-9]*-[0-9]*\).*/\1/p')
"$INTAKE" -c "$cfg4" outbox drain >>"$tmp/drain.out" 2>>"$tmp/drain.err"
"$INTAKE" -c "$cfg4" show --json "$r2" >"$tmp/replyto.json" 2>&1
if [ -n "$r2" ] && mails "$smtp" fang.home@example.org "len(ms) == 1 and '[$r2]' in ms[0]['Subject']" &&
	json "$tmp/replyto.json" "d['complainant']['email'] == 'fang.home@example.org' and 'trust_reply_to' in json.dumps(d, ensure_ascii=False) and 'wang.fang@example.net' in json.dumps(d)"; then
	ok "trust_reply_to = yes: the acknowledgment goes to the Reply-To, the complaint's address is it and the sender is noted"
else nok "trust_reply_to = yes" "ref=$r2" "$(head -c 1500 "$tmp/replyto.json")"; fi

echo "1..$n"
