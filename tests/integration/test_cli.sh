#!/bin/sh
# The foundation end to end through the binary: `intake due` on the examples
# of the rules, configuration errors (exit 2, naming file, section, key and
# value), a mail ingested into a draft once and only once, the review
# commands, the recompute of deadlines when the calendar file changes, and
# `intake verify` finding a tampered original.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
set -u
INTAKE=${INTAKE:-build/intake}
top=$(pwd)
tmp=$(mktemp -d /tmp/intake-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # description command...
	d=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$d"; else nok "$d" "$(head -c 600 "$tmp/out")"; fi
}
json() { # python expression over the JSON document in file $1 as `d`
	/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

mkdir -p "$tmp/conf/calendar"
cp "$top/config/calendar/cn.conf" "$tmp/conf/calendar/cn.conf"
cat >"$tmp/conf/intake.conf" <<EOF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = calendar/cn.conf
timezone = Asia/Shanghai
EOF
cfg="$tmp/conf/intake.conf"

# --- intake due: the examples of the rules
due() { # received expected_acceptance expected_handling
	"$INTAKE" -c "$cfg" due --json "$1" >"$tmp/due.json" 2>"$tmp/due.err" &&
	json "$tmp/due.json" "d['acceptance_due']=='$2' and d['handling_due']=='$3' and not d['calendar_uncertain'] and d['received_at'].startswith('${1%%+*}')"
}
check "due: received Fri 2026-02-13 16:00 (before Spring Festival) -> acceptance 2026-02-25, handling 2026-03-19" \
	due 2026-02-13T16:00+08:00 2026-02-25T23:59:59+08:00 2026-03-19T23:59:59+08:00
check "due: received 2026-09-30 -> acceptance on Saturday 2026-10-10, a make-up working day" \
	due 2026-09-30T10:00+08:00 2026-10-10T23:59:59+08:00 2026-11-03T23:59:59+08:00
check "due: received 2025-12-31 -> acceptance 2026-01-06 across New Year" \
	due 2025-12-31T12:00+08:00 2026-01-06T23:59:59+08:00 2026-01-29T23:59:59+08:00

"$INTAKE" -c "$cfg" due --json 2027-03-01T10:00+08:00 >"$tmp/due.json" 2>"$tmp/due.err"
if json "$tmp/due.json" "d['calendar_uncertain'] is True" && grep -q "does not cover 2027" "$tmp/due.err"; then
	ok "due: a year the calendar does not cover is flagged uncertain with a warning"
else nok "due: uncertain year" "$(cat "$tmp/due.json" "$tmp/due.err")"; fi

"$INTAKE" -c "$cfg" due 2026-02-13T16:00+08:00 >"$tmp/due.txt" 2>&1
if grep -q "acceptance due   2026-02-25 23:59:59 +08:00" "$tmp/due.txt" && grep -q "handling due     2026-03-19" "$tmp/due.txt"; then
	ok "due: text output names both deadlines"
else nok "due: text output" "$(cat "$tmp/due.txt")"; fi

"$INTAKE" -c "$cfg" due yesterday >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "expected a time" "$tmp/err"; then ok "due: an unreadable time is a usage error (exit 2)"
else nok "due: bad time exit $rc" "$(cat "$tmp/err")"; fi

# --- configuration errors
printf '[calendar]\ntimezone = Mars/Olympus\n' >"$tmp/conf/bad.conf"
"$INTAKE" -c "$tmp/conf/bad.conf" drafts >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "bad.conf" "$tmp/err" && grep -q "\[calendar\] timezone = \"Mars/Olympus\": expected" "$tmp/err"; then
	ok "config: a bad value exits 2 naming file, section, key, value and what was expected"
else nok "config: bad value exit $rc" "$(cat "$tmp/err")"; fi

INTAKE_CONFIG="$tmp/conf/bad.conf" "$INTAKE" drafts >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "bad.conf" "$tmp/err"; then ok "config: \$INTAKE_CONFIG chooses the file"
else nok "config: INTAKE_CONFIG exit $rc" "$(cat "$tmp/err")"; fi

"$INTAKE" -c "$tmp/conf/none.conf" drafts >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "none.conf" "$tmp/err"; then ok "config: a missing file exits 2 and names it"
else nok "config: missing file exit $rc" "$(cat "$tmp/err")"; fi

printf '[2026]\nholidays = 2026-13-01\n' >"$tmp/conf/calendar/broken.conf"
printf '[calendar]\nfile = calendar/broken.conf\n[store]\npath = ../var/b.db\nspool = ../var/bspool\n' >"$tmp/conf/broken.conf"
"$INTAKE" -c "$tmp/conf/broken.conf" due 2026-02-13T16:00+08:00 >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "broken.conf" "$tmp/err" && grep -q "2026-13-01" "$tmp/err"; then
	ok "calendar: a malformed calendar file exits 2 naming the file and the value"
else nok "calendar: malformed exit $rc" "$(cat "$tmp/err")"; fi

# --- ingest: a mail becomes one draft, once
cat >"$tmp/mail1.eml" <<'EOF'
From: =?UTF-8?B?5byg5LiJ?= <zhangsan@example.cn>
To: ts@broker.example.cn
Subject: =?UTF-8?B?5oqV6K+J77ya6LWE6YeR6LSm5Y+35LiN6IO955m75b2V?=
Date: Mon, 23 Nov 2026 09:30:00 +0800
Message-ID: <c1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

您好，我的资金账号 3100886652 从11月20日起无法登录，委托无法撤单，造成损失。
请尽快处理。

张三
EOF
"$INTAKE" -c "$cfg" ingest --received-at 2026-11-23T09:31+08:00 "$tmp/mail1.eml" >"$tmp/out" 2>&1; rc=$?
ref=$(sed -n 's/.*: created \(TS[0-9]*-[0-9]*\).*/\1/p' "$tmp/out")
if [ $rc -eq 0 ] && [ "$ref" = "TS20261123-0001" ]; then ok "ingest: a mail becomes draft $ref"
else nok "ingest: first ingest exit $rc" "$(cat "$tmp/out")"; fi

"$INTAKE" -c "$cfg" ingest "$tmp/mail1.eml" >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "already ingested as TS20261123-0001" "$tmp/out"; then ok "ingest: the same mail again makes no second draft"
else nok "ingest: second ingest" "$(cat "$tmp/out")"; fi

if [ "$(stat -c %a "$tmp/var/intake.db")" = 600 ] && [ "$(stat -c %a "$tmp/var/spool")" = 700 ]; then
	ok "store: database 0600 and spool 0700"
else nok "store: modes" "$(stat -c '%a %n' "$tmp/var/intake.db" "$tmp/var/spool")"; fi

"$INTAKE" -c "$cfg" drafts --json >"$tmp/drafts.json" 2>"$tmp/err"
if json "$tmp/drafts.json" "len(d['drafts'] if isinstance(d,dict) else d)==1"; then ok "drafts: one draft listed"
else nok "drafts --json" "$(cat "$tmp/drafts.json" "$tmp/err")"; fi

"$INTAKE" -c "$cfg" show --json "$ref" >"$tmp/show.json" 2>"$tmp/err"
if json "$tmp/show.json" "d['ref']=='$ref' and d['acceptance_due']=='2026-11-26T23:59:59+08:00' and d['received_at']=='2026-11-23T09:31:00+08:00' and d['status']=='draft' and d['subject']=='投诉：资金账号不能登录'"; then
	ok "show: receipt time from --received-at, acceptance due end of the 3rd working day, subject decoded"
else nok "show --json" "$(head -c 1500 "$tmp/show.json")" "$(cat "$tmp/err")"; fi

"$INTAKE" -c "$cfg" drafts >"$tmp/drafts.txt" 2>&1
if grep -q "$ref" "$tmp/drafts.txt" && ! grep -q "3100886652" "$tmp/drafts.txt"; then
	ok "drafts: text listing shows the reference and no full account number"
else nok "drafts text" "$(cat "$tmp/drafts.txt")"; fi

# --- decisions
"$INTAKE" -c "$cfg" reject "$ref" --reason other --by li >"$tmp/out" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -qi "note" "$tmp/out"; then ok "reject: reason other without a note is refused"
else nok "reject other without note exit $rc" "$(cat "$tmp/out")"; fi

"$INTAKE" -c "$cfg" reject "$ref" --reason bogus --by li >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "not_customer" "$tmp/out"; then ok "reject: an unknown reason code is refused, listing the codes"
else nok "reject bogus exit $rc" "$(cat "$tmp/out")"; fi

check "accept: a draft is accepted" "$INTAKE" -c "$cfg" accept "$ref" --by li
"$INTAKE" -c "$cfg" reject "$ref" --reason duplicate --by wang >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "li" "$tmp/out"; then ok "reject: a decided complaint cannot be decided again; says who decided"
else nok "decide twice exit $rc" "$(cat "$tmp/out")"; fi

"$INTAKE" -c "$cfg" show --json "$ref" >"$tmp/show.json" 2>&1
if json "$tmp/show.json" "d['status']=='accepted' and d['decided_by']=='li' and any(e['kind']=='created' for e in d['events']) and len(d['events'])>=2"; then
	ok "show: the decision and its events are recorded"
else nok "show after accept" "$(head -c 1500 "$tmp/show.json")"; fi

# --- the calendar changes: undecided deadlines are recomputed at start
sed 's/received\(.*\)//' "$tmp/mail1.eml" | sed 's/c1@example.cn/c2@example.cn/; s/3100886652/3100886653/' >"$tmp/mail2.eml"
"$INTAKE" -c "$cfg" ingest --received-at 2027-01-04T10:00+08:00 "$tmp/mail2.eml" >"$tmp/out" 2>&1
ref2=$(sed -n 's/.*: created \(TS[0-9]*-[0-9]*\).*/\1/p' "$tmp/out")
if grep -q "uncertain" "$tmp/out"; then ok "ingest: a receipt in a year the calendar lacks is flagged uncertain"
else nok "ingest uncertain" "$(cat "$tmp/out")"; fi
"$INTAKE" -c "$cfg" show --json "$ref2" >"$tmp/show.json" 2>&1
before=$(/usr/bin/python3 -c "import json;print(json.load(open('$tmp/show.json'))['acceptance_due'])")
printf '\n[2027]\nholidays = 2027-01-05..2027-01-06\n' >>"$tmp/conf/calendar/cn.conf"
"$INTAKE" -c "$cfg" drafts >"$tmp/out" 2>"$tmp/err"
"$INTAKE" -c "$cfg" show --json "$ref2" >"$tmp/show.json" 2>&1
if [ "$before" = "2027-01-07T23:59:59+08:00" ] &&
   json "$tmp/show.json" "d['acceptance_due']=='2027-01-11T23:59:59+08:00' and d['calendar_uncertain'] is False and any('deadline' in e['kind'] for e in d['events'])" &&
   grep -q "recomputed" "$tmp/err"; then
	ok "calendar change: the undecided draft's deadline moves 2027-01-07 -> 2027-01-11, with an event and a log line"
else nok "calendar change recompute (before $before)" "$(head -c 1500 "$tmp/show.json")" "$(cat "$tmp/err")"; fi

# --- verify
check "verify: all originals match" "$INTAKE" -c "$cfg" verify
f=$(find "$tmp/var/spool" -type f | head -n 1)
chmod u+w "$f" 2>/dev/null; printf 'tampered' >>"$f"
"$INTAKE" -c "$cfg" verify >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -qi "mismatch\|tampered\|differs\|changed" "$tmp/out"; then ok "verify: a tampered original is reported (exit 1)"
else nok "verify tampered exit $rc" "$(cat "$tmp/out")"; fi

# Several processes opening a database that does not exist yet (the daemon
# and a responder's command started together): every one of them gets it.
mkdir -p "$tmp/race"
printf '[store]\npath = var/intake.db\nspool = var/spool\n[calendar]\nfile = %s/config/calendar/cn.conf\n' \
	"$top" >"$tmp/race/intake.conf"
bad=0
for round in 1 2 3 4 5 6 7 8 9 10; do
	rm -rf "$tmp/race/var"
	for k in 1 2 3 4; do
		"$INTAKE" -c "$tmp/race/intake.conf" drafts --json >"$tmp/race/out$k" 2>&1 &
	done
	wait
	for k in 1 2 3 4; do grep -q '"drafts"' "$tmp/race/out$k" || bad=$((bad + 1)); done
done
if [ $bad -eq 0 ]; then ok "a new database opened by 4 processes at once, 10 times: every one succeeds"
else nok "concurrent first open: $bad of 40 failed" "$(cat "$tmp/race/out1")"; fi

echo "1..$n"
