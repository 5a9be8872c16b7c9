#!/bin/sh
# The responders' review end to end through the binary, on a store filled by
# real ingestion of the mails in tests/integration/data/review/ (received
# around the 2026 National Day holiday): drafts ordered by acceptance due
# across the holiday, the time left as of $INTAKE_NOW, edits each recorded
# as an event with old and new value and their refusals, the customer
# registry import and the accounts' in_registry, and the ledger export (CSV
# with BOM checked byte and cell, --from/--to, JSON).
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
set -u
INTAKE=${INTAKE:-build/intake}
top=$(pwd)
data="$top/tests/integration/data/review"
tmp=$(mktemp -d /tmp/intake-review.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
py() { # python program (stdin) with arguments; exit status is the check
	/usr/bin/python3 - "$@"
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
run() { "$INTAKE" -c "$cfg" "$@"; }

A=TS20260929-0001 B=TS20260930-0001 C=TS20261002-0001 D=TS20261008-0001

# --- ingestion, out of order: the last mail first
ing_ok=1
for m in 2026-10-08-service:2026-10-08T08:56 2026-09-30-misselling-gbk:2026-09-30T15:41 \
	 2026-10-02-transfer-html:2026-10-02T20:14 2026-09-29-login:2026-09-29T09:53; do
	run ingest --received-at "${m#*:}+08:00" "$data/${m%%:*}.eml" >>"$tmp/ingest.out" 2>&1 || ing_ok=0
done
if [ $ing_ok = 1 ] && [ "$(grep -c ': created TS' "$tmp/ingest.out")" = 4 ] &&
   grep -q "created $A" "$tmp/ingest.out" && grep -q "created $D" "$tmp/ingest.out"; then
	ok "ingest: four mails received 29 Sep - 8 Oct 2026 become four drafts"
else nok "ingest" "$(cat "$tmp/ingest.out")"; fi

# --- drafts by acceptance due across the National Day holiday (1-7 Oct;
#     Sat 10 Oct a working day): 29 Sep -> 9 Oct, 30 Sep and 2 Oct -> 10 Oct,
#     8 Oct -> 12 Oct
run drafts --json >"$tmp/drafts.json" 2>"$tmp/err"
if json "$tmp/drafts.json" "[(x['ref'], x['acceptance_due']) for x in d['drafts']] == [
	('$A', '2026-10-09T23:59:59+08:00'), ('$B', '2026-10-10T23:59:59+08:00'),
	('$C', '2026-10-10T23:59:59+08:00'), ('$D', '2026-10-12T23:59:59+08:00')]"; then
	ok "drafts: ordered by acceptance due across the holiday, with the make-up Saturday"
else nok "drafts order" "$(head -c 2000 "$tmp/drafts.json")" "$(cat "$tmp/err")"; fi

# --- the time left as of $INTAKE_NOW (cli_now)
INTAKE_NOW=2026-10-09T10:00:00+08:00 run drafts --json >"$tmp/now1.json" 2>"$tmp/err"
INTAKE_NOW=2026-10-12T10:00:00+08:00 run drafts --json >"$tmp/now2.json" 2>>"$tmp/err"
if json "$tmp/now1.json" "[x['time_left'] for x in d['drafts']] == ['due today 23:59',
	'1 working day left', '1 working day left', '2 working days left']" &&
   json "$tmp/now2.json" "[x['time_left'] for x in d['drafts']][:3] == ['OVERDUE by 2 working days',
	'OVERDUE by 1 working day', 'OVERDUE by 1 working day'] and d['drafts'][3]['time_left'] == 'due today 23:59'"; then
	ok "drafts: time left as of INTAKE_NOW (due today, 1 and 2 working days left, overdue by 1 and 2)"
else nok "drafts time left" "$(grep time_left "$tmp/now1.json" "$tmp/now2.json")" "$(cat "$tmp/err")"; fi

# --- edits: each change one event with old and new value
run edit "$A" --set name=张叁 --set phone=13800138001 --set respondent=上海浦东营业部 \
	--set accounts=3100886652,3100886653 --set request=恢复登录并赔偿损失 --by li >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/show.json" 2>&1
if [ $rc -eq 0 ] && grep -q "5 changes recorded by li" "$tmp/out" && py "$tmp/show.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ed = [(e['actor'], json.loads(e['detail'])) for e in d['events'] if e['kind'] == 'edited']
want = [('li', {'field': 'name', 'old': '张三', 'new': '张叁'}),
        ('li', {'field': 'phone', 'old': '13800138000', 'new': '13800138001'}),
        ('li', {'field': 'respondent', 'old': None, 'new': '上海浦东营业部'}),
        ('li', {'field': 'accounts', 'old': ['3100886652'], 'new': ['3100886652', '3100886653']}),
        ('li', {'field': 'request', 'old': None, 'new': '恢复登录并赔偿损失'})]
ok = ed == want and d['complainant']['name'] == '张叁' and d['complainant']['phone'] == '13800138001' \
     and [a['value'] for a in d['accounts']] == ['3100886652', '3100886653']
sys.exit(0 if ok else 1)
EOF
then ok "edit: five fields changed, five events with actor, field, old and new value"
else nok "edit events (exit $rc)" "$(cat "$tmp/out")" "$(head -c 3000 "$tmp/show.json")"; fi

run edit "$A" --set name=张叁 --set phone=13800138001 >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/show2.json" 2>&1
if [ $rc -eq 0 ] && grep -q "unchanged" "$tmp/out" &&
   json "$tmp/show2.json" "len([e for e in d['events'] if e['kind']=='edited']) == 5"; then
	ok "edit: the same values again make no event"
else nok "edit same value (exit $rc)" "$(cat "$tmp/out")"; fi

run edit "$A" --set colour=red --set name=李四 >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/show2.json" 2>&1
if [ $rc -eq 2 ] && grep -q 'unknown field "colour": expected one of name, email, phone' "$tmp/out" &&
   json "$tmp/show2.json" "d['complainant']['name'] == '张叁' and len([e for e in d['events'] if e['kind']=='edited']) == 5"; then
	ok "edit: an unknown field is refused (exit 2), listing the fields; nothing changes"
else nok "edit unknown field (exit $rc)" "$(cat "$tmp/out")"; fi

run edit "$A" --set email=zhangsan-at-example >"$tmp/out" 2>&1; rc=$?
run edit "$A" --set accounts=3100886652,31008 >>"$tmp/out" 2>&1; rc2=$?
if [ $rc -eq 2 ] && [ $rc2 -eq 2 ] && grep -q "expected an e-mail address" "$tmp/out" &&
   grep -q '"31008" is not one' "$tmp/out"; then
	ok "edit: a malformed e-mail or account number is refused (exit 2) saying what was expected"
else nok "edit malformed (exit $rc, $rc2)" "$(cat "$tmp/out")"; fi

run edit "$A" >"$tmp/out" 2>&1; rc=$?
run edit "$A" --set nameonly >>"$tmp/out" 2>&1; rc2=$?
if [ $rc -eq 2 ] && [ $rc2 -eq 2 ] && grep -q "expected FIELD=VALUE" "$tmp/out"; then
	ok "edit: no --set, or --set without '=', is a usage error"
else nok "edit usage (exit $rc, $rc2)" "$(cat "$tmp/out")"; fi

# --- after the decision: identity fields are frozen, ledger fields are not
run reject "$B" --reason not_customer --note 查无此资金账号 --by wang >"$tmp/out" 2>&1 &&
run accept "$C" --by li >>"$tmp/out" 2>&1 || nok "decisions for the rest of the test" "$(cat "$tmp/out")"
run edit "$C" --set name=王伍 --by zhao >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "already decided (accepted) by li" "$tmp/out" &&
   grep -q "only respondent, request, facts, result, archived, remarks" "$tmp/out"; then
	ok "edit: the name of a decided complaint cannot change (exit 1), naming who decided"
else nok "edit decided (exit $rc)" "$(cat "$tmp/out")"; fi
run edit "$C" --set respondent=网上交易部 --set result=已和解 --set archived=是 \
	--set "remarks==HYPERLINK(\"http://x.example/\",\"点此\")" --by zhao >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "4 changes recorded by zhao" "$tmp/out"; then
	ok "edit: respondent, result, archived and remarks of a decided complaint can change"
else nok "edit ledger fields after decision (exit $rc)" "$(cat "$tmp/out")"; fi

# --- the customer registry
printf '\357\273\277account,name,id_number,phone\r\n3100886652,张三,11010519491231002x,13800138000\r\n"3100886655","王五, 先生",,13700001111\r\n' >"$tmp/customers.csv"
run customers import "$tmp/customers.csv" --by ops >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/showA.json" 2>&1
run drafts --json >"$tmp/drafts2.json" 2>&1
if [ $rc -eq 0 ] && grep -q "2 customers imported" "$tmp/out" && grep -q "1 draft changed registry status" "$tmp/out" &&
   json "$tmp/showA.json" "[(a['value'], a['in_registry']) for a in d['accounts']] == [('3100886652', True), ('3100886653', False)]
	and any(e['kind']=='registry' and e['detail']=='3100886652 now in the customer registry' for e in d['events'])" &&
   json "$tmp/drafts2.json" "[a['in_registry'] for x in d['drafts'] if x['ref']=='$A' for a in x['accounts']] == [True, False]"; then
	ok "customers import: a claimed account in the registry shows in_registry true, the other false, with an event"
else nok "customers import (exit $rc)" "$(cat "$tmp/out")" "$(head -c 2500 "$tmp/showA.json")"; fi

printf 'account,name\n3100886653,李四\n31008866x3,错号\n3100886653,重复\n"3100886654,未闭合\n' >"$tmp/bad.csv"
run customers import "$tmp/bad.csv" >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/showA.json" 2>&1
if [ $rc -eq 2 ] && grep -q "bad.csv:3: account \".*\": expected 6 to 20 digits" "$tmp/out" &&
   grep -q "bad.csv:4: account \*\*\*\*\*\*6653 again (first on line 2)" "$tmp/out" &&
   ! grep -q "3100886653\|31008866x3" "$tmp/out" &&
   grep -q "bad.csv:5: a quoted field is not closed" "$tmp/out" && grep -q "nothing imported" "$tmp/out" &&
   json "$tmp/showA.json" "[a['in_registry'] for a in d['accounts']] == [True, False]"; then
	ok "customers import: malformed lines are named FILE:LINE (exit 2), account numbers masked, nothing imported"
else nok "customers import malformed (exit $rc)" "$(cat "$tmp/out")"; fi

py "$tmp/gbk.csv" <<'EOF'
import sys
open(sys.argv[1], 'wb').write('资金账号,客户姓名\r\n3100886653,李四\r\n'.encode('gb18030'))
EOF
run customers import --replace "$tmp/gbk.csv" >"$tmp/out" 2>&1; rc=$?
run show --json "$A" >"$tmp/showA.json" 2>&1
if [ $rc -eq 0 ] && grep -q "registry replaced" "$tmp/out" &&
   json "$tmp/showA.json" "[a['in_registry'] for a in d['accounts']] == [False, True]"; then
	ok "customers import --replace: a GB18030 file from a Chinese Excel replaces the registry"
else nok "customers import gbk replace (exit $rc)" "$(cat "$tmp/out")" "$(head -c 1500 "$tmp/showA.json")"; fi

# --- the ledger (客户投诉登记台账) as CSV
run export ledger >"$tmp/ledger.csv" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && py "$tmp/ledger.csv" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
lines = b.split(b'\r\n')
# the BOM, CRLF after every row, and no bare LF outside the quoted body cells
sys.exit(0 if b[:3] == b'\xef\xbb\xbf' and b.endswith(b'\r\n') and len(lines) >= 6 else 1)
EOF
then ok "export ledger: starts with the UTF-8 byte order mark, rows end in CRLF"
else nok "export ledger BOM/CRLF (exit $rc)" "$(head -c 300 "$tmp/ledger.csv" | od -c | head -5)" "$(cat "$tmp/err")"; fi

if py "$tmp/ledger.csv" <<'EOF'
import csv, io, re, sys
b = open(sys.argv[1], 'rb').read()
rows = list(csv.reader(io.StringIO(b[3:].decode('utf-8'), newline='')))
want = ['序号', '投诉日期', '资产账号', '客户姓名', '投诉对象', '主要事实和理由', '投诉诉求',
        '投诉结果', '是否归档', '备注', '投诉编号', '投诉方式', '受理决定', '决定时间', '决定人', '受理期限']
sys.exit(0 if rows[0] == want and len(rows) == 5 else 1)
EOF
then ok "export ledger: the header row is exactly the ten columns of 附件3 and the six added ones; one row a complaint"
else nok "export ledger header" "$(head -c 600 "$tmp/ledger.csv")"; fi

if py "$tmp/ledger.csv" "$A" "$B" "$C" <<'EOF'
import csv, io, re, sys
b = open(sys.argv[1], 'rb').read()
rows = list(csv.reader(io.StringIO(b[3:].decode('utf-8'), newline='')))
A, B, C = sys.argv[2:5]
r = {x[10]: x for x in rows[1:]}
a = r[A]
facts = a[5]
want_a = ['1', '2026-09-29', '3100886652、3100886653', '张叁', '上海浦东营业部', facts,
          '恢复登录并赔偿损失', '', '否', '', A, '邮件', '待受理', '', '', '2026-10-09 23:59']
bad = [i for i, (x, y) in enumerate(zip(a, want_a)) if x != y]
ok = not bad and len(a) == 16 and facts.startswith('您好：') and '无法登录' in facts \
     and '3100886652' in facts and '\r' not in facts
bb = r[B]
ok = ok and bb[0] == '2' and bb[1] == '2026-09-30' and bb[2] == '3100886653' and bb[3] == '李四' \
     and bb[7] == '不予受理' and bb[9] == '查无此资金账号' and bb[12] == '不予受理：客户非公司客户' \
     and bb[14] == 'wang' and re.fullmatch(r'20\d\d-\d\d-\d\d \d\d:\d\d', bb[13]) and bb[15] == '2026-10-10 23:59'
c = r[C]
ok = ok and c[4] == '网上交易部' and c[7] == '已和解' and c[8] == '是' and c[12] == '受理' \
     and c[9] == "'=HYPERLINK(\"http://x.example/\",\"点此\")"
if not ok:
    print('# row A', a, bad)
    print('# row B', bb)
    print('# row C', c)
sys.exit(0 if ok else 1)
EOF
then ok "export ledger: rows checked cell by cell (draft, not accepted with reason and note, accepted and settled; a formula neutralised)"
else nok "export ledger cells" "$(cat "$tmp/ledger.csv" | head -c 3000)"; fi

run export ledger --from 2026-09-30 --to 2026-10-02 >"$tmp/range.csv" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && py "$tmp/range.csv" "$B" "$C" <<'EOF'
import csv, io, re, sys
rows = list(csv.reader(io.StringIO(open(sys.argv[1], 'rb').read()[3:].decode('utf-8'), newline='')))
sys.exit(0 if [(x[0], x[10]) for x in rows[1:]] == [('1', sys.argv[2]), ('2', sys.argv[3])] else 1)
EOF
then ok "export ledger --from 2026-09-30 --to 2026-10-02: the two complaints received in those days, --to inclusive"
else nok "export ledger range (exit $rc)" "$(cat "$tmp/range.csv" "$tmp/err" | head -c 1500)"; fi

run export ledger --format json --from 2026-10-08 >"$tmp/ledger.json" 2>"$tmp/err"; rc=$?
run export ledger --format json >"$tmp/all.json" 2>>"$tmp/err"
if [ $rc -eq 0 ] && json "$tmp/ledger.json" "[x['ref'] for x in d['ledger']] == ['$D'] and d['ledger'][0]['accounts'] == []
	and d['ledger'][0]['customer_name'] == '赵六' and d['ledger'][0]['acceptance_due'] == '2026-10-12T23:59:59+08:00'" &&
   json "$tmp/all.json" "[(x['seq'], x['ref'], x['status']) for x in d['ledger']] == [(1, '$A', 'draft'), (2, '$B', 'not_accepted'), (3, '$C', 'accepted'), (4, '$D', 'draft')]
	and d['ledger'][0]['accounts'] == ['3100886652', '3100886653'] and d['ledger'][1]['reason'] == 'not_customer'
	and d['ledger'][2]['archived'] is True and d['ledger'][2]['result'] == '已和解' and d['ledger'][1]['decided_by'] == 'wang'
	and d['ledger'][0]['decided_at'] is None and d['ledger'][0]['respondent'] == '上海浦东营业部'"; then
	ok "export ledger --format json: the same rows with snake_case keys, accounts as a list, codes and RFC 3339 times"
else nok "export ledger json (exit $rc)" "$(head -c 2500 "$tmp/all.json")" "$(cat "$tmp/err")"; fi

run export ledger --from 2026-13-01 >/dev/null 2>"$tmp/err"; rc=$?
run export ledger --format xlsx >/dev/null 2>>"$tmp/err"; rc2=$?
run export ledger --from 2026-10-08 --to 2026-09-29 >/dev/null 2>>"$tmp/err"; rc3=$?
if [ $rc -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] && grep -q 'expected a date' "$tmp/err" &&
   grep -q 'expected csv or json' "$tmp/err" && grep -q 'is after --to' "$tmp/err"; then
	ok "export ledger: a bad date, format or range is a usage error (exit 2)"
else nok "export usage errors ($rc $rc2 $rc3)" "$(cat "$tmp/err")"; fi

echo "1..$n"
