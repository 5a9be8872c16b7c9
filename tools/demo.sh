#!/bin/sh
# make demo: the pipeline end to end on sample complaints. It starts a
# private Dovecot (IMAP with STARTTLS on 127.0.0.1) whose INBOX holds the
# sample mails of tools/demo/ (UTF-8, GBK, HTML-only, an auto-reply) and a
# local SMTP server (Python aiosmtpd) that delivers into a Maildir; then
# `intake run --once` fetches, parses and stores them, moves them to
# Processed and sends the acknowledgments; a responder rejects one; the
# drafts, the outbox and the mail that reached the complainants are shown.
# Everything lives under var/demo/ and is thrown away by the next demo.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
INTAKE="$top/build/intake"
demo="$top/var/demo"
rm -rf "$demo"
mkdir -p "$demo/conf"
. "$top/tests/harness/dovecot.sh"
smtp_pid=""
cleanup() {
	[ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null || true
	dovecot_stop || true
}
trap cleanup EXIT INT TERM

echo "== starting Dovecot (IMAP) and an SMTP server on 127.0.0.1"
dovecot_start "$demo/dovecot"
/usr/bin/python3 "$top/tests/harness/smtp.py" "$demo/smtp" >"$demo/smtp.log" 2>&1 &
smtp_pid=$!
i=0
while [ ! -s "$demo/smtp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$demo/smtp/port" ] || { echo "demo: the SMTP server did not start:"; cat "$demo/smtp.log"; exit 1; }
# Receipt times (INTERNALDATE) in the week before 2026-12-02.
t=$(date -d 2026-11-26T10:00:00+08:00 +%s)
for f in "$top"/tools/demo/*.eml; do
	dovecot_deliver alice "$f" "$t"
	t=$((t + 86400))
done
printf 'alice-secret\n' >"$demo/conf/imap.pass"
chmod 600 "$demo/conf/imap.pass"
cat >"$demo/conf/intake.conf" <<CONF
[store]
path = $demo/intake.db
spool = $demo/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[imap complaints]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = alice
password_file = imap.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
[smtp]
url = smtp://127.0.0.1:$(cat "$demo/smtp/port")
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
[notices]
templates = $top/config/templates
language = zh
print_dir = $demo/print
CONF
cfg="$demo/conf/intake.conf"
echo "   IMAP 127.0.0.1:$DOVECOT_PORT (STARTTLS), SMTP 127.0.0.1:$(cat "$demo/smtp/port")"
echo
echo "== intake run --once: one pass of the mailbox, then the outbox"
"$INTAKE" -c "$cfg" run --once
echo
echo "== intake status"
"$INTAKE" -c "$cfg" status
echo
echo "== intake drafts: by acceptance due"
INTAKE_NOW=2026-12-02T10:00+08:00 "$INTAKE" -c "$cfg" drafts
ref=$("$INTAKE" -c "$cfg" drafts --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["drafts"][0]["ref"])')
echo
echo "== intake show $ref"
INTAKE_NOW=2026-12-02T10:00+08:00 "$INTAKE" -c "$cfg" show "$ref"
echo
echo "== intake reject $ref --reason incomplete, then the outbox is drained"
"$INTAKE" -c "$cfg" reject "$ref" --reason incomplete --by demo
"$INTAKE" -c "$cfg" outbox drain
echo
echo "== intake outbox"
"$INTAKE" -c "$cfg" outbox
echo
echo "== what reached the complainants (the SMTP server's Maildir)"
/usr/bin/python3 - "$demo/smtp/Maildir" <<'PY'
import email, mailbox, sys
from email import policy
for _, m in sorted(mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems()):
    msg = email.message_from_bytes(m.as_bytes(), policy=policy.default)
    print("To: %s\nSubject: %s\n%s\n" % (msg["To"], msg["Subject"], msg.get_content().strip()[:400]))
PY
inbox=$(find "$(dovecot_maildir alice)/cur" "$(dovecot_maildir alice)/new" -type f | wc -l)
done_=$(find "$(dovecot_maildir alice Processed)" \( -path '*/cur/*' -o -path '*/new/*' \) -type f 2>/dev/null | wc -l)
echo "== the mailbox: INBOX $inbox left, Processed $done_ messages"
echo
echo "demo store: $demo (configuration $cfg); the servers are stopped now."
