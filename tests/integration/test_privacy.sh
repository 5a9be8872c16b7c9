#!/bin/sh
# Privacy and least privilege, as an auditor checks them: a full run over a
# private Dovecot, two drop folders (letters, faxes) and a private SMTP server
# with log_level = debug, plus the responder's commands, every line of
# stderr kept; then no full account number, ID number or phone number of the
# inputs may appear in any of those lines (searched as written and with
# spaces and hyphens taken out); the database, its WAL and the printed
# notices are 0600, the spool, print, archive and failed folders 0700; a
# password file that others can read is refused.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
. tests/integration/lib_fault.sh
fault_init privacy
t_start=$(now_ms)

if ! dovecot_start "$tmp/dovecot"; then nok "a private Dovecot starts"; fault_done; exit 1; fi
smtp_up "$tmp/smtp" || { nok "the SMTP server starts"; fault_done; exit 1; }
printf 'alice-secret\n' >"$tmp/alice.pass" && chmod 600 "$tmp/alice.pass"
mkdir -p "$tmp/conf" "$tmp/drop/letters" "$tmp/drop/fax" "$tmp/in"
cfg=$tmp/conf/intake.conf
write_conf() { # file imap-password-file smtp-extra
	cat >"$1" <<EOF
[intake]
log_level = debug
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[imap main]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = alice
password_file = $2
tls_ca_file = $DOVECOT_CA
after = move:Processed
[dropdir letters]
path = ../drop/letters
channel = letter
archive = ../var/archive/letters
failed = ../var/failed/letters
settle_time = 1
[dropdir fax]
path = ../drop/fax
channel = fax
archive = ../var/archive/fax
failed = ../var/failed/fax
settle_time = 1
[smtp]
url = smtp://127.0.0.1:$(cat "$tmp/smtp/port")
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
$3
[notices]
templates = $top/config/templates
language = zh
print_dir = ../var/print
EOF
}
write_conf "$cfg" "$tmp/alice.pass" ""

# ---- the inputs and the personal data in them ------------------------------------
# Each value is written into mails (body, subject, sender address, attachment
# name), letters (text and file name), a fax (text, sidecar, file name), the
# customer registry and a responder's note.
$PY - "$tmp/in" <<'PY'
import base64, os, sys
from email.header import Header
out = sys.argv[1]
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def idno(base):
    return base + "10X98765432"[sum(int(c) * x for c, x in zip(base, w)) % 11]
ids = [idno("11010519900307123")]
b = 44030419851120000
while not idno(str(b)).endswith("X"):
    b += 1
ids.append(idno(str(b)))
acc = ["310012345678", "31001234", "3100987654", "310055667788"]
phones = ["13812345678", "13912345678", "075583331234", "02161234567"]
with open(out + "/pii", "w") as f:
    f.write("\n".join(acc + ids + phones) + "\n")
def mail(name, frm, subj, body, extra=""):
    text = ("From: %s\r\nTo: ts@broker.example.cn\r\nSubject: %s\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0800\r\nMessage-ID: <priv-%s@example.net>\r\n"
            "MIME-Version: 1.0\r\n%s" % (frm, Header(subj, "utf-8").encode(), name, extra))
    open("%s/%s.eml" % (out, name), "w", newline="").write(text + body)
plain = lambda t: "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(t.encode()).decode().replace("\n", "\r\n")
mail("m1", "%s <zhang.wei@example.net>" % Header("张伟", "utf-8").encode(),
     "资金账号%s被冻结" % acc[0],
     plain("我是客户张伟，资金账号 %s，身份证号 %s，手机 %s。\r\n资金被冻结三天，请处理。\r\n张伟\r\n" % (acc[0], ids[0], phones[0])))
mail("m2", "%s@139.com" % phones[1], "投诉：手续费 %s" % phones[1],
     plain("资金账号：%s\r\n证件号码：%s\r\n联系电话：+86 139 1234 5678，座机 0755-8333-1234\r\n营业部多收手续费。\r\n李娜\r\n"
           % (acc[1], ids[1])))
att = base64.encodebytes(b"%PDF-1.4\n% evidence\n%%EOF\n").decode()
mail("m3", "wang.fang@example.net", "身份证%s的客户投诉" % ids[0],
     "--b\r\n" + plain("资金账号 %s 的客户，电话 %s，要求退还费用。\r\n王芳\r\n" % (acc[2], phones[3]))
     + "\r\n--b\r\nContent-Type: application/pdf; name=\"%s.pdf\"\r\n"
       "Content-Disposition: attachment; filename=\"%s_%s.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n"
     % (acc[2], ids[0], acc[2], att),
     'Content-Type: multipart/mixed; boundary="b"\r\n')
open(out + "/letter1.txt", "w").write(
    "投诉信\n\n本人赵敏，资金账号 %s，身份证号 %s，\n联系电话 %s，营业部未按约定办理销户。\n\n投诉人：赵敏\n" % (acc[3], ids[1], phones[0]))
open(out + "/fax1.txt", "w").write(
    "传真：客户投诉\n\n发件人：陈建国  传真号码 0755-83331234\n本人陈建国，资金账号 %s，\n款项未到账，请回复 chenjg@example.net\n联系电话：%s\n" % (acc[0], phones[1]))
open(out + "/customers.csv", "w").write(
    "资金账号,姓名,证件号码,电话\n%s,张伟,%s,%s\n%s,李娜,%s,%s\n" % (acc[0], ids[0], phones[0], acc[1], ids[1], phones[1]))
open(out + "/customers-dup.csv", "w").write(
    "资金账号,姓名,证件号码,电话\n%s,张伟,%s,%s\n%s,张伟,%s,%s\n" % (acc[0], ids[0], phones[0], acc[0], ids[0], phones[0]))
open(out + "/ids", "w").write("\n".join(ids))
PY
ok "inputs written with $(wc -l <"$tmp/in/pii") account, ID and phone numbers in them"
for m in m1 m2 m3; do dovecot_deliver alice "$tmp/in/$m.eml"; done
$PY "$top/tests/corpus/scans/make_scans.py" text-pdf "$tmp/in/letter1.txt" "$tmp/drop/letters/赵敏_31001234.pdf" >/dev/null 2>&1
$PY "$top/tests/corpus/scans/make_scans.py" text-pdf "$tmp/in/letter1.txt" "$tmp/in/l2.pdf" --seed 2 >/dev/null 2>&1
printf '\n%% copy 2\n' >>"$tmp/in/l2.pdf"; cp "$tmp/in/l2.pdf" "$tmp/drop/letters/13812345678.pdf"
$PY "$top/tests/corpus/scans/make_scans.py" fax-g4 "$tmp/in/fax1.txt" "$tmp/drop/fax/fax_075583331234.tif" >/dev/null 2>&1
printf 'caller=075583331234\npages=1\n' >"$tmp/drop/fax/fax_075583331234.meta"
touch -d '10 seconds ago' "$tmp"/drop/letters/* "$tmp"/drop/fax/*
id0=$(sed -n 1p "$tmp/in/ids")

# ---- a full run, every line of stderr kept --------------------------------------
log=$tmp/all.log
run() { echo "=== intake $*" >>"$log"; "$INTAKE" -c "$cfg" "$@" 2>>"$log"; }
run customers import "$tmp/in/customers.csv" >/dev/null
run run --once >"$tmp/run.out"; rc=$?
check "the full run (IMAP, letters, fax, notices) with log_level = debug exits 0" test $rc = 0
run drafts --json >"$tmp/drafts.json"
nd=$(jq '.drafts | length' "$tmp/drafts.json")
check "it made 6 drafts (3 mails, 2 letters, 1 fax)" test "$nd" = 6
ref=$(jq -r '.drafts[0].ref' "$tmp/drafts.json")
run show "$ref" >/dev/null
run reject "$ref" --reason other --note "客户身份证号 $id0 与登记不符" --by auditor >/dev/null
run outbox drain >/dev/null
run verify >/dev/null
daemon_start "$cfg" "$log"
sleep 3
daemon_term
run customers import "$tmp/in/customers-dup.csv" >/dev/null
nlines=$(grep -vc '^===' "$log")
# the log must be a real one: every source and the notices speak in it
if [ "$nlines" -ge 15 ] && grep -q "\[imap main\]" "$log" && grep -q "\[dropdir letters\]" "$log" &&
   grep -q "\[dropdir fax\]" "$log" && grep -q "\[outbox\]" "$log"; then
	ok "the debug log has $nlines lines from the mailbox, both drop folders and the outbox"
else nok "a debug log from every source ($nlines lines)" "$(head -20 "$log")"; fi
if grep -q "TS[0-9]\{8\}-[0-9]\{4\}" "$log"; then
	ok "complaint references are written in full in the log (they name no person)"
else nok "complaint references in full in the log" "$(grep -m3 'TS' "$log")"; fi

# ---- no full number in any line ------------------------------------------------------
leaks() { # file: prints the lines with a full value (as written, or without blanks and hyphens)
	$PY - "$tmp/in/pii" "$1" <<'PY'
import re, sys
pii = [l.strip() for l in open(sys.argv[1]) if l.strip()]
for n, line in enumerate(open(sys.argv[2], encoding="utf-8", errors="replace"), 1):
    if line.startswith("==="):
        continue
    flat = re.sub(r"[\s\-]", "", line)
    hit = [v for v in pii if v in line or v in flat or v.lower() in flat.lower()]
    if hit:
        print("line %d: %s  <- %s" % (n, line.rstrip()[:300], ", ".join(hit)))
PY
}
# the lines of the customers import are judged on their own below
awk '/^=== intake customers/{c=1; next} /^=== /{c=0} !c' "$log" >"$tmp/run-only.log"
leaks "$tmp/run-only.log" >"$tmp/leaks.run"
if [ ! -s "$tmp/leaks.run" ]; then
	ok "no full account, ID or phone number in any line of the run, the responder's commands and the daemon"
else nok "full account, ID or phone numbers in the log ($(wc -l <"$tmp/leaks.run") lines)" "$(head -12 "$tmp/leaks.run")"; fi
awk '/^=== intake customers/{c=1; print; next} /^=== /{c=0} c' "$log" >"$tmp/customers.log"
leaks "$tmp/customers.log" >"$tmp/leaks.cust"
if [ ! -s "$tmp/leaks.cust" ] && grep -q "customers-dup.csv:3" "$tmp/customers.log"; then
	ok "intake customers import: its error names the file and line, not the full account number"
else nok "intake customers import error messages without full numbers" "$(head -5 "$tmp/leaks.cust")" "$(grep -v '^===' "$tmp/customers.log" | head -5)"; fi
$PY - "$tmp/smtp/Maildir" "$tmp/in/pii" >"$tmp/mail.leaks" <<'PY'
import email, mailbox, re, sys
from email import policy
pii = [l.strip() for l in open(sys.argv[2]) if l.strip()]
for k, m in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems():
    e = email.message_from_bytes(m.as_bytes(), policy=policy.default)
    text = str(e["Subject"]) + "\n" + (e.get_content() if not e.is_multipart() else "")
    flat = re.sub(r"[\s\-]", "", text)
    # the address a notice goes to is the complainant's own
    hit = [v for v in pii if (v in text or v in flat) and v not in str(e["To"])]
    if hit:
        print(e["To"], e["Subject"], hit)
PY
nm=$(smtp_count "$tmp/smtp")
[ "$nm" -ge 3 ] && [ ! -s "$tmp/mail.leaks" ] && ok "the $nm notices sent carry no full account, ID or phone number in subject or text" ||
	nok "notices without full numbers ($nm sent)" "$(head -5 "$tmp/mail.leaks")"

# ---- modes ---------------------------------------------------------------------------
mode() { stat -c %a "$1"; }
db=$tmp/var/intake.db
check "the database is 0600" test "$(mode "$db")" = 600
for f in "$db-wal" "$db-shm"; do [ -e "$f" ] || "$INTAKE" -c "$cfg" drafts >/dev/null 2>&1; done
bad=$(for f in "$db-wal" "$db-shm"; do [ -e "$f" ] && [ "$(mode "$f")" != 600 ] && echo "$f $(mode "$f")"; done)
check "its -wal and -shm files (when present) are 0600" test -z "$bad"
bad=$(find "$tmp/var/spool" -type d ! -perm 0700 -printf '%p %m\n' | head -5)
nsd=$(find "$tmp/var/spool" -type d | wc -l)
[ -z "$bad" ] && [ "$nsd" -gt 3 ] && ok "the spool and its $nsd folders are 0700" || nok "spool folders 0700" "$bad"
bad=$(find "$tmp/var/spool" -type f -perm /077 -printf '%p %m\n' | head -5)
check "the originals in the spool are readable by their owner only" test -z "$bad"
np=$(find "$tmp/var/print" -type f | wc -l)
bad=$(find "$tmp/var/print" -type f ! -perm 0600 -printf '%p %m\n' | head -5)
[ "$np" -ge 2 ] && [ -z "$bad" ] && [ "$(mode "$tmp/var/print")" = 700 ] &&
	ok "the print folder is 0700 and its $np notices for the post are 0600" || nok "print folder 0700, files 0600 ($np files)" "$bad $(mode "$tmp/var/print")"
bad=$(find "$tmp/var/archive" "$tmp/var/failed" -type d -perm /077 -printf '%p %m\n' 2>/dev/null | head -5)
check "the archive and failed folders of the drop folders are not open to others" test -z "$bad"

# ---- password files others can read ------------------------------------------------
cp "$tmp/alice.pass" "$tmp/open.pass" && chmod 644 "$tmp/open.pass"
write_conf "$tmp/conf/open-imap.conf" "$tmp/open.pass" ""
"$INTAKE" -c "$tmp/conf/open-imap.conf" run --once >"$tmp/open1.out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "open.pass" "$tmp/open1.out" && grep -q "0644" "$tmp/open1.out"; then
	ok "[imap] password_file with mode 0644: refused at start (exit 2, names the file and its mode)"
else nok "[imap] password_file 0644 refused (exit $rc)" "$(head -3 "$tmp/open1.out")"; fi
printf 'smtp-secret\n' >"$tmp/smtp-open.pass" && chmod 644 "$tmp/smtp-open.pass"
write_conf "$tmp/conf/open-smtp.conf" "$tmp/alice.pass" "user = ts@broker.example.cn
password_file = $tmp/smtp-open.pass"
"$INTAKE" -c "$tmp/conf/open-smtp.conf" run --once >"$tmp/open2.out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "smtp-open.pass" "$tmp/open2.out"; then
	ok "[smtp] password_file with mode 0644: refused at start (exit 2, names the file)"
else nok "[smtp] password_file 0644 refused at start (exit $rc, expected 2)" "$(grep -v 'notice #\|draft' "$tmp/open2.out" | head -3)"; fi

diag "total $(( ($(now_ms) - t_start) / 1000 )) s"
fault_done
