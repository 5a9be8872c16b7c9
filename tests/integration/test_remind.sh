#!/bin/sh
# The responders' daily digest, through the outbox and a real SMTP server
# (aiosmtpd on 127.0.0.1, tests/harness/smtp.py) into a Maildir read back
# here: on a working day at the configured time, one digest per responder
# with the overdue drafts, those due today and those due on the next
# working day; once per day only; none on a holiday, none before the time.
# "Now" is set with INTAKE_NOW. TAP output.
set -u
INTAKE=${INTAKE:-build/intake}
PY=/usr/bin/python3
top=$(pwd)
tmp=$(mktemp -d /tmp/intake-remind.XXXXXX)
smtp_pid=""
cleanup() { [ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

mkdir -p "$tmp/smtp" "$tmp/conf"
$PY "$top/tests/harness/smtp.py" "$tmp/smtp" >"$tmp/smtp/stderr" 2>&1 &
smtp_pid=$!
i=0
while [ ! -s "$tmp/smtp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/smtp/port" ] || { echo "Bail out! SMTP harness did not start: $(cat "$tmp/smtp/stderr")"; exit 1; }
cat >"$tmp/conf/intake.conf" <<CONF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
[smtp]
url = smtp://127.0.0.1:$(cat "$tmp/smtp/port")
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
[notices]
enabled = no
[reminders]
time = 09:00
to = li.lei@broker.example.cn, han.meimei@broker.example.cn
CONF
cfg="$tmp/conf/intake.conf"

mail() { # n from subject
	cat >"$tmp/m$1.eml" <<MAIL
From: $2
To: ts@broker.example.cn
Subject: $3
Message-ID: <remind-$1@example.cn>
Content-Type: text/plain; charset=utf-8

资金账号3100886${1}52 的问题，请处理。
MAIL
	echo "$tmp/m$1.eml"
}
# Around National Day 2026: 10-01..10-07 off, 10-10 (Sat) a working day.
"$INTAKE" -c "$cfg" ingest --received-at 2026-09-25T10:00+08:00 "$(mail 1 'Zhang San <zs@example.cn>' '投诉一 逾期')" >/dev/null 2>&1
"$INTAKE" -c "$cfg" ingest --received-at 2026-09-30T10:00+08:00 "$(mail 2 'Li Si <ls@example.cn>' '投诉二 今日到期')" >/dev/null 2>&1
"$INTAKE" -c "$cfg" ingest --received-at 2026-10-08T10:00+08:00 "$(mail 3 'Wang Wu <ww@example.cn>' '投诉三 下一工作日到期')" >/dev/null 2>&1
"$INTAKE" -c "$cfg" ingest --received-at 2026-10-09T10:00+08:00 "$(mail 4 'Zhao Liu <zl@example.cn>' '投诉四 以后到期')" >/dev/null 2>&1

drain() { "$INTAKE" -c "$cfg" outbox drain >/dev/null 2>>"$tmp/drain.err"; }
count() { ls "$tmp/smtp/Maildir/new" 2>/dev/null | wc -l; }

INTAKE_NOW=2026-10-01T10:00+08:00 "$INTAKE" -c "$cfg" remind >"$tmp/out" 2>&1; drain
if grep -q "not a working day" "$tmp/out" && [ "$(count)" -eq 0 ]; then ok "National Day (a holiday): no digest"
else nok "holiday digest" "$(cat "$tmp/out")" "$(count) mails"; fi

INTAKE_NOW=2026-10-10T08:30+08:00 "$INTAKE" -c "$cfg" remind >"$tmp/out" 2>&1; drain
if grep -q "before \[reminders\] time" "$tmp/out" && [ "$(count)" -eq 0 ]; then ok "08:30 on a working day, before 09:00: no digest yet"
else nok "too early" "$(cat "$tmp/out")" "$(count) mails"; fi

INTAKE_NOW=2026-10-10T09:05+08:00 "$INTAKE" -c "$cfg" remind >"$tmp/out" 2>&1; drain
if grep -q "digest queued" "$tmp/out" && [ "$(count)" -eq 2 ]; then ok "Saturday 2026-10-10 (a make-up working day) 09:05: one digest to each of the two responders"
else nok "digest queued" "$(cat "$tmp/out" "$tmp/drain.err")" "$(count) mails"; fi

$PY - "$tmp/smtp/Maildir" >"$tmp/check" 2>&1 <<'PY'
import email, mailbox, sys
from email import policy
ms = [email.message_from_bytes(m.as_bytes(), policy=policy.default)
      for _, m in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems()]
to = sorted(m["To"] for m in ms)
assert to == ["han.meimei@broker.example.cn", "li.lei@broker.example.cn"], to
m = ms[0]
subj, body = str(m["Subject"]), m.get_content()
assert "2026-10-10" in subj and "逾期 1" in subj and "今日到期 1" in subj and "下一工作日到期 1" in subj, subj
over = body.index("OVERDUE ("); today = body.index("Due today ("); nxt = body.index("Due on the next working day")
sec = lambda a, b: body[a:b]
assert "投诉一" in sec(over, today) and "OVERDUE by" in sec(over, today), body
assert "投诉二" in sec(today, nxt), body
assert "投诉三" in sec(nxt, len(body)) and "2026-10-12" in sec(nxt, len(body)), body
assert "投诉四" not in body, body
assert "3100886152" not in body, body
assert m["Auto-Submitted"] is not None and "auto" in m["Auto-Submitted"], m["Auto-Submitted"]
print("ok")
PY
if grep -q "^ok$" "$tmp/check"; then
	ok "digest: overdue, due today and due on the next working day (2026-10-12) each in its section, later drafts left out"
else nok "digest content" "$(cat "$tmp/check")"; fi

INTAKE_NOW=2026-10-10T15:00+08:00 "$INTAKE" -c "$cfg" remind >"$tmp/out" 2>&1; drain
if grep -q "already queued" "$tmp/out" && [ "$(count)" -eq 2 ]; then ok "a second call the same day sends nothing"
else nok "once per day" "$(cat "$tmp/out")" "$(count) mails"; fi

INTAKE_NOW=2026-10-11T09:05+08:00 "$INTAKE" -c "$cfg" remind --force >"$tmp/out" 2>&1; drain
if grep -q "digest queued" "$tmp/out" && [ "$(count)" -eq 4 ]; then ok "--force sends on a Sunday off"
else nok "--force" "$(cat "$tmp/out")" "$(count) mails"; fi

INTAKE_NOW=2026-10-12T09:00+08:00 "$INTAKE" -c "$cfg" remind --dry-run >"$tmp/out" 2>&1
if grep -q "投诉三" "$tmp/out" && grep -q "Due today (1)" "$tmp/out" && [ "$(count)" -eq 4 ]; then
	ok "--dry-run prints the digest and queues nothing"
else nok "dry run" "$(cat "$tmp/out")"; fi

printf '[reminders]\ntime = 9am\nto = x@example.cn\n' >"$tmp/conf/bad.conf"
"$INTAKE" -c "$tmp/conf/bad.conf" remind >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q '\[reminders\] time = "9am"' "$tmp/out"; then ok "a bad [reminders] time is a configuration error"
else nok "bad time exit $rc" "$(cat "$tmp/out")"; fi
echo "1..$n"
