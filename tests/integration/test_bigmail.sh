#!/bin/sh
# Memory stays bounded by what a message says, not by how big it is: a mail
# with a 40 MB attachment (10 MB under AddressSanitizer) parsed, ingested by
# hand and fetched from a real Dovecot, each within a peak RSS far below the
# message's size, with the attachment's bytes, hash and text exact.
# A text attachment over the 1 MiB spill size is still read for accounts.
# TAP output; run by tests/run.sh with $INTAKE set.
. tests/integration/lib_fault.sh
fault_init bigmail
mb=40
[ "$fault_scale" -gt 1 ] && mb=10
# peak RSS bounds in MB: parse and ingest hold a few MB beyond the program;
# run --once (libcurl, TLS, the loop) within the 64 MB of the IMAP target.
# Under AddressSanitizer its shadow memory and quarantine come on top.
rss_parse=48 rss_run=64
[ "$fault_scale" -gt 1 ] && rss_parse=128 rss_run=192

$PY - "$tmp" "$mb" <<'PY' || { nok "big mails generated"; fault_done; exit 1; }
import base64, hashlib, random, sys
out, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20261203)
att = rnd.randbytes(mb << 20)
text = ("营业部多收手续费的明细如下。\r\n" * 60000).encode() + "资金账号 310098765432\r\n".encode()
def b64(b):
    return base64.encodebytes(b).replace(b"\n", b"\r\n")
msg = (b"From: =?UTF-8?B?5byg5LiJ?= <zhangsan@example.org>\r\nTo: ts@broker.example.cn\r\n"
       b"Subject: =?UTF-8?B?5oqV6K+J77ya5omr5o+P5Lu2?=\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
       b"Message-ID: <bigmail-1@example.org>\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
       b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       + "我是客户张三，资金账号 310012345678，附件是扫描件和明细。\r\n".encode() +
       b"--b1\r\nContent-Type: application/octet-stream\r\n"
       b"Content-Disposition: attachment; filename=\"scan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + b64(att) +
       b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
       b"Content-Disposition: attachment; filename=\"detail.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + b64(text) + b"--b1--\r\n")
open(out + "/big.eml", "wb").write(msg)
open(out + "/expect", "w").write("%s %d %s %d %s\n" % (
    hashlib.sha256(att).hexdigest(), len(att), hashlib.sha256(text).hexdigest(), len(text),
    hashlib.sha256(msg).hexdigest()))
PY
read att_sha att_len txt_sha txt_len msg_sha <"$tmp/expect"
ok "a $(($(wc -c <"$tmp/big.eml") >> 20)) MB mail with a $mb MB attachment and a $((txt_len >> 20)) MB text attachment generated"

cat >"$tmp/intake.conf" <<EOF
[store]
path = var/intake.db
spool = var/spool
[calendar]
file = $top/config/calendar/cn.conf
[limits]
message_bytes = 100M
EOF
cfg=$tmp/intake.conf
# rss CMD...: runs it, its output in $tmp/out; prints the peak RSS in MB
rss() {
	/usr/bin/time -f '%M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"
	r_rc=$?
	r_mb=$(( $(tail -n 1 "$tmp/time") / 1024 ))
}
# the parsed record's attachments as "name size sha" lines, and its accounts
atts() { jq -r '.attachments[] | "\(.filename) \(.size) \(.sha256)"' "$1" | sort | tr '\n' ' '; }
accts() { jq -r '[.accounts[].value] | sort | join(" ")' "$1"; }
want_atts="detail.txt $txt_len $txt_sha scan.bin $att_len $att_sha "

rss "$INTAKE" -c "$cfg" parse --json "$tmp/big.eml"
cp "$tmp/out" "$tmp/parse.json"
if [ "$r_rc" = 0 ] && [ "$(atts "$tmp/parse.json")" = "$want_atts" ]; then
	ok "parse: both attachments with their exact size and SHA-256"
else nok "parse: attachments" "rc $r_rc" "$(atts "$tmp/parse.json")" "want $want_atts" "$(cat "$tmp/err")"; fi
check "parse: the accounts of the body and of the text attachment over 1 MiB (at its end) are found" \
	test "$(accts "$tmp/parse.json")" = "310012345678 310098765432"
if [ "$r_mb" -le "$rss_parse" ]; then ok "parse: peak RSS $r_mb MB (at most $rss_parse)"
else nok "parse: peak RSS $r_mb MB, over $rss_parse"; fi

rss "$INTAKE" -c "$cfg" ingest "$tmp/big.eml"
ref=$(sed -n 's/.*: created \(TS[0-9-]*\).*/\1/p' "$tmp/out")
check "ingest: a draft ($ref)" test -n "$ref"
if [ "$r_mb" -le "$rss_parse" ]; then ok "ingest: peak RSS $r_mb MB (at most $rss_parse)"
else nok "ingest: peak RSS $r_mb MB, over $rss_parse"; fi
spooled() { # sha: the spooled file's SHA-256 (empty if missing)
	f="$tmp/var/spool/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-4)/$1"
	[ -f "$f" ] && sha256sum <"$f" | cut -d' ' -f1
}
check "ingest: the original is in the spool, byte for byte" test "$(spooled "$msg_sha")" = "$msg_sha"
check "ingest: the attachment is in the spool under its hash, byte for byte" \
	test "$(spooled "$att_sha")" = "$att_sha"
"$INTAKE" -c "$cfg" show --json "$ref" >"$tmp/show.json" 2>&1
check "ingest: intake show lists both attachments with size and hash" \
	test "$(atts "$tmp/show.json")" = "$want_atts"
check "ingest: no temporary file is left in the spool" test -z "$(ls -A "$tmp/var/spool/tmp")"

# a killed writer's temporary file: removed once a day old, a fresh one kept
touch -d '2 days ago' "$tmp/var/spool/tmp/in-stale"
touch "$tmp/var/spool/tmp/in-fresh"
"$INTAKE" -c "$cfg" drafts >/dev/null 2>&1
check "a spool temporary file a day old is removed at the next start, a fresh one (a write in progress) kept" \
	sh -c "[ ! -e '$tmp/var/spool/tmp/in-stale' ] && [ -e '$tmp/var/spool/tmp/in-fresh' ]"
rm -f "$tmp/var/spool/tmp/in-fresh"

# ---- over IMAP: the message is written to the spool as it arrives ---------
if ! dovecot_start "$tmp/dovecot"; then nok "a private Dovecot starts"; fault_done; exit 1; fi
printf 'alice-secret\n' >"$tmp/alice.pass"; chmod 600 "$tmp/alice.pass"
mkdir -p "$tmp/imap"
cat >"$tmp/imap/intake.conf" <<EOF
[store]
path = var/intake.db
spool = var/spool
[calendar]
file = $top/config/calendar/cn.conf
[limits]
message_bytes = 100M
[imap main]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
max_message_size = 100M
EOF
icfg=$tmp/imap/intake.conf
dovecot_deliver alice "$tmp/big.eml" 1764550800
rss "$INTAKE" -c "$icfg" run --once
check "run --once: exit 0" test "$r_rc" = 0
iref=$("$INTAKE" -c "$icfg" drafts --json | jq -r '.drafts[0].ref')
"$INTAKE" -c "$icfg" show --json "$iref" >"$tmp/ishow.json" 2>&1
check "run --once: the fetched mail is a draft with both attachments exact" \
	test "$(atts "$tmp/ishow.json")" = "$want_atts"
check "run --once: the original in the spool is the delivered message, byte for byte" \
	test -f "$tmp/imap/var/spool/$(echo "$msg_sha" | cut -c1-2)/$(echo "$msg_sha" | cut -c3-4)/$msg_sha"
if [ "$r_mb" -le "$rss_run" ]; then ok "run --once: peak RSS $r_mb MB for a $(($(wc -c <"$tmp/big.eml") >> 20)) MB message (at most $rss_run)"
else nok "run --once: peak RSS $r_mb MB, over $rss_run" "$(tail -5 "$tmp/err")"; fi
check "run --once: no temporary file is left in the spool" test -z "$(ls -A "$tmp/imap/var/spool/tmp")"
fault_done
