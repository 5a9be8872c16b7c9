#!/bin/sh
# Possible duplicates through the binary: a complaint sent again by the same
# address with a few words changed is a draft marked possible_duplicate_of
# the first (a suggestion shown to the responder, nothing decided); a
# different complaint from that address, and the same text from another
# address, are not marked; the same message delivered twice makes nothing
# new. Also notice_by: e-mail for a mail, post for a letter without an
# address.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
set -u
INTAKE=${INTAKE:-build/intake}
top=$(pwd)
tmp=$(mktemp -d /tmp/intake-dup.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
json() { # python expression over the JSON document in file $1 as `d`
	/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}
cat >"$tmp/intake.conf" <<CONF
[store]
path = var/intake.db
spool = var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
CONF
run() { "$INTAKE" -c "$tmp/intake.conf" "$@"; }

# mail FILE FROM MESSAGE-ID SUBJECT BODY
mail() {
	printf 'From: %s\nTo: complaints@broker.example\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 07 Dec 2026 09:00:00 +0800\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n' \
		"$2" "$4" "$3" "$5" >"$tmp/$1"
}
first="本人王芳，资金账号 310088665201，于2026年12月3日上午通过贵公司手机交易软件委托买入股票，软件显示委托成功但一直未成交，随后资金被冻结两个交易日无法使用，客服电话多次无人接听。请贵公司核实原因，解冻资金并赔偿由此造成的损失。"
again="本人王芳，资金账号 310088665201，于2026年12月3日上午通过贵公司手机交易软件委托买入股票，软件显示委托成功但一直未成交，随后资金被冻结两个交易日无法使用，客服电话多次无人接听。再次请贵公司尽快核实原因，解冻资金并赔偿由此造成的损失。"
other="本人王芳，资金账号 310088665201。贵公司营业部在未告知的情况下将我的佣金费率从万分之二点五调整为万分之五，本月多收手续费约一千二百元，要求退还多收费用并说明调整依据。"
mail a.eml '王芳 <wangfang@example.cn>' a1@example.cn '委托未成交，资金被冻结' "$first"
mail b.eml '王芳 <wangfang@example.cn>' b1@example.cn '再次投诉：委托未成交，资金被冻结' "$again"
mail c.eml '王芳 <wangfang@example.cn>' c1@example.cn '佣金被擅自调高' "$other"
mail d.eml '李强 <liqiang@example.cn>' d1@example.cn '委托未成交，资金被冻结' "$first"

for f in a:01 b:02 c:03 d:04; do
	run ingest --received-at "2026-12-07T09:${f#*:}+08:00" "$tmp/${f%:*}.eml" \
		>"$tmp/${f%:*}.out" 2>&1 || echo "ingest $f failed" >>"$tmp/fail"
done
ref() { sed -n 's/.*created \(TS[0-9-]*\).*/\1/p' "$tmp/$1.out"; }
A=$(ref a) B=$(ref b) C=$(ref c) D=$(ref d)
if [ ! -e "$tmp/fail" ] && [ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ -n "$D" ]; then
	ok "four mails become four drafts ($A $B $C $D)"
else nok "ingest" "$(cat "$tmp"/*.out)"; fi

run show --json "$B" >"$tmp/b.json" 2>&1
if json "$tmp/b.json" "d['possible_duplicate_of'] == '$A' and d['status'] == 'draft'"; then
	ok "the same complaint sent again, a few words changed: a draft marked possible_duplicate_of $A"
else nok "possible duplicate" "$(head -c 1500 "$tmp/b.json")"; fi
run show "$B" >"$tmp/b.txt" 2>&1
if grep -q "possible dup. of $A" "$tmp/b.txt"; then
	ok "... and intake show says so"
else nok "show text" "$(cat "$tmp/b.txt")"; fi
run drafts --json >"$tmp/drafts.json" 2>&1
if json "$tmp/drafts.json" "{x['ref']: x['possible_duplicate_of'] for x in d['drafts']} == {'$A': None, '$B': '$A', '$C': None, '$D': None}"; then
	ok "a different complaint from the same address, and the same text from another address, are not marked"
else nok "not marked" "$(head -c 2000 "$tmp/drafts.json")"; fi

run ingest "$tmp/a.eml" >"$tmp/a2.out" 2>&1
run drafts --json >"$tmp/drafts2.json" 2>&1
if grep -q "already" "$tmp/a2.out" && json "$tmp/drafts2.json" "len(d['drafts']) == 4"; then
	ok "the first mail delivered again creates nothing new"
else nok "delivered twice" "$(cat "$tmp/a2.out")"; fi

if json "$tmp/drafts.json" "all(x['notice_by'] == 'email' for x in d['drafts'])"; then
	ok "notice_by is email for mail"
else nok "notice_by email" "$(head -c 1500 "$tmp/drafts.json")"; fi
printf '投诉信\n本人赵敏，资金账号 310088665299，联系电话 13800001234，无电子邮箱。\n' >"$tmp/letter.txt"
run ingest --channel letter "$tmp/letter.txt" >"$tmp/l.out" 2>&1
L=$(ref l)
run show --json "$L" >"$tmp/l.json" 2>&1
if [ -n "$L" ] && json "$tmp/l.json" "d['notice_by'] == 'post' and d['channel'] == 'letter'"; then
	ok "a letter without an e-mail address is marked for a postal notice (notice_by post)"
else nok "notice_by post" "$(cat "$tmp/l.out")" "$(head -c 1500 "$tmp/l.json")"; fi

echo "1..$n"
