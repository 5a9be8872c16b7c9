#!/bin/sh
# Hostile input, each one a test: truncated and malformed MIME, 1,000-level
# nesting, 10,000 parts, a 100 MB message, a 100 MB header line, NUL bytes,
# invalid UTF-8 and GBK, base64 garbage, attachment names that climb out of
# a folder or carry control characters, a zip bomb as a .docx, PDFs that make
# poppler work forever, a TIFF with absurd dimensions, an empty and a growing
# file and a symlink to /etc/shadow in a drop folder, CR LF injection into a
# notice, and an auto-responder answering our acknowledgment 50 times.
# Every input is generated here, at test time. Each test checks a clear
# result (a draft, a classification or a refusal with its reason), that the
# original is kept, that nothing crashed, and the time and peak memory
# (/usr/bin/time -f %M) of the process that took it.
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
. tests/integration/lib_fault.sh
fault_init hostile
t_start=$(now_ms)
in=$tmp/in
mkdir -p "$in" "$tmp/conf" "$tmp/drop/letters"

smtp_up "$tmp/smtp" || { nok "the SMTP server starts" "$(cat "$tmp/smtp/stderr")"; fault_done; exit 1; }
# The two big messages: 100 MB over the 50 MB limit; under AddressSanitizer,
# whose string interceptors make the header scan quadratic, 10 MB over 5 MB.
big_mb=100 limit=50M
[ "$fault_scale" -gt 1 ] && big_mb=10 limit=5M
cfg=$tmp/conf/intake.conf
cat >"$cfg" <<EOF
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[limits]
message_bytes = $limit
ocr_seconds = 10
ocr_pages = 5
[dropdir letters]
path = ../drop/letters
channel = letter
archive = ../var/archive
failed = ../var/failed
settle_time = 1
rescan_interval = 1
[smtp]
url = smtp://127.0.0.1:$(cat "$tmp/smtp/port")
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
[notices]
templates = $top/config/templates
language = zh
print_dir = ../var/print
EOF
dbf=$tmp/var/intake.db

# ---- the inputs ----------------------------------------------------------------
$PY - "$in" <<'PY' || { nok "hostile inputs generated"; fault_done; exit 1; }
import base64, io, os, struct, sys, zipfile, zlib
out = sys.argv[1]
def head(n, subject, extra="", ctype="text/plain; charset=utf-8", cte="8bit"):
    return ("From: =?UTF-8?B?5byg5LiJ?= <h%s@example.org>\r\nTo: ts@broker.example.cn\r\n"
            "Subject: %s\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
            "Message-ID: <hostile-%s@example.org>\r\nMIME-Version: 1.0\r\n%s"
            "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n"
            % (n, subject, n, extra, ctype, cte))
body = "我是客户张三，资金账号 310012345678，营业部多收手续费，请退还。\r\n"
def w(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))

# truncated: a multipart cut in the middle of a base64 attachment, no closing boundary
att = base64.encodebytes(os.urandom(3000)).decode()
w("truncated.eml", head("truncated", "truncated", ctype='multipart/mixed; boundary="b1"') +
  "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
  "--b1\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  att[:len(att) // 2])
# malformed: header lines without colons, a boundary never used, duplicate and broken headers
w("malformed.eml", "From h-malformed@example.org\r\nFrom: <<<@@@>>>\r\nFrom: h-malformed@example.org\r\n"
  "To: ts@broker.example.cn\r\nThis is not a header\r\nSubject: =?UTF-8?B?broken?=\r\n"
  "Subject: second subject\r\nMessage-ID: <hostile-malformed@example.org>\r\nMIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\r\nContent-Type: text/html; charset=\"\r\n"
  "Content-Transfer-Encoding: x-unknown\r\n\r\n--nope\r\n<html><body><p>" + body + "<b><i><table><tr><td>\r\n")
# 1,000-level nesting
n = 1000
s = head("nesting", "nesting 1000", ctype='multipart/mixed; boundary="n0"')
for i in range(1, n):
    s += '--n%d\r\nContent-Type: multipart/mixed; boundary="n%d"\r\n\r\n' % (i - 1, i)
s += "--n%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s" % (n - 1, body)
for i in range(n - 1, -1, -1):
    s += "--n%d--\r\n" % i
w("nesting.eml", s)
# 10,000 parts
parts = ["--p\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body]
parts += ["--p\r\nContent-Type: application/octet-stream; name=p%d.bin\r\n\r\nx%d\r\n" % (i, i) for i in range(9999)]
w("parts.eml", head("parts", "10000 parts", ctype='multipart/mixed; boundary="p"') + "".join(parts) + "--p--\r\n")
# NUL bytes in headers and body
w("nul.eml", head("nul", "nul\x00subject") + "我是客户张三\x00\x00，资金账号 310012345678\x00。\r\n" + "\x00" * 5000 + body)
# invalid UTF-8 (overlong, surrogates, cut sequences) declared as UTF-8
w("badutf8.eml", head("badutf8", "=?UTF-8?B?" + base64.b64encode("投诉".encode() + b"\xc0\xaf\xed\xa0\x80").decode() + "?=")
  .encode() + "我是客户".encode() + b"\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf8\x88\x80\x80\x80\xe6\x8a" + body.encode() + b"\xe6\r\n")
# invalid GBK: lead bytes without trail bytes, 0x80 and 0xff, cut at the end
w("badgbk.eml", head("badgbk", "=?GBK?B?" + base64.b64encode(b"\xcd\xb6\xcb\xdf\x81\xff\x80").decode() + "?=",
  ctype="text/plain; charset=gbk").encode() + "我是客户".encode("gbk") + b"\x81\x20\xff\xfe\x80\x80" +
  body.encode("gbk") + b"\xcd\r\n")
# base64 garbage: not base64 at all, wrong padding, a body that decodes to binary
w("b64garbage.eml", head("b64garbage", "base64 garbage", ctype='multipart/mixed; boundary="g"') +
  "--g\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
  "!!!!****这不是base64====abc=de==f\r\n%%%%\r\n" + base64.b64encode(os.urandom(2000)).decode() + "=\r\n"
  "--g\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@====\r\n--g--\r\n")
# attachment names: ../../etc/passwd, control characters and bidi overrides, an absolute path
w("names.eml", head("names", "attachment names", ctype='multipart/mixed; boundary="a"') +
  "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
  "--a\r\nContent-Type: text/plain; name=\"../../etc/passwd\"\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nroot:x:0:0\r\n"
  "--a\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%2Fetc%2Fshadow%0D%0ABcc%3A%20x%40evil.example%07%1B%5B31m\r\n\r\n%PDF-1.4\r\n"
  "--a\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?UTF-8?B?" +
  base64.b64encode("invoice\u202egpj.exe\r\n".encode()).decode() + "?=\"\r\n\r\n%PDF-1.4\r\n--a--\r\n")
# a zip bomb as a .docx: word/document.xml inflates to 2 GiB of zeros-like XML
def bomb(path):
    z = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
    chunk = b"<w:t>" + b"A" * (1 << 20) + b"</w:t>"
    with z.open("word/document.xml", "w", force_zip64=True) as f:
        f.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>')
        for i in range(2048):
            f.write(chunk)
        f.write(b"</w:r></w:p></w:body></w:document>")
    z.close()
bomb(os.path.join(out, "bomb.docx"))
doc = base64.encodebytes(open(os.path.join(out, "bomb.docx"), "rb").read()).decode()
w("zipbomb.eml", head("zipbomb", "zip bomb", ctype='multipart/mixed; boundary="z"') +
  "--z\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
  "--z\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name=letter.docx\r\n"
  "Content-Disposition: attachment; filename=letter.docx\r\nContent-Transfer-Encoding: base64\r\n\r\n" + doc + "--z--\r\n")
# CR LF injection through the display name and the subject (encoded words carry CR LF)
inj = base64.b64encode("张三\r\nBcc: victim@evil.example\r\nX-Injected: name".encode()).decode()
sub = base64.b64encode("投诉\r\nBcc: victim2@evil.example\r\nX-Injected: subject".encode()).decode()
w("inject.eml", "From: =?UTF-8?B?%s?= <inject@example.org>\r\nTo: ts@broker.example.cn\r\n"
  "Subject: =?UTF-8?B?%s?=\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
  "Message-ID: <hostile-inject@example.org>\r\nMIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n\r\n%s" % (inj, sub, body))

# PDFs poppler works on forever: a form XObject drawn 10 times by the next, 12 levels deep
# (10^12 draws), no text layer; and a page tree nested 3,000 deep with a cycle
def pdf(objs):
    o = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, b in enumerate(objs, 1):
        offs.append(len(o)); o += b"%d 0 obj\n" % i + b + b"\nendobj\n"
    x = len(o)
    o += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offs: o += b"%010d 00000 n \n" % off
    o += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(o)
def st(d, data): return b"<< %s /Length %d >>\nstream\n" % (d, len(data)) + data + b"\nendstream"
L = 12
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>",
        st(b"", b"/X Do")]
for i in range(L):
    nxt = 5 + i + 1
    draw = b"0 0 m 1 1 l S" if i == L - 1 else b" ".join([b"q /X Do Q"] * 10)
    res = b"" if i == L - 1 else b"/Resources << /XObject << /X %d 0 R >> >>" % nxt
    objs.append(st(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + res, draw))
w("xobject-bomb.pdf", pdf(objs))
D = 3000
objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
for i in range(D):
    objs.append(b"<< /Type /Pages /Kids [%d 0 R 2 0 R] /Count 1 >>" % (i + 3))
objs.append(b"<< /Type /Page /MediaBox [0 0 14400 14400] /Contents %d 0 R >>" % (D + 3))
objs.append(st(b"", b"0 0 m 14400 14400 l S"))
w("deep-tree.pdf", pdf(objs))
# a TIFF claiming 1,000,000 x 1,000,000 pixels, 8 bits, with 4 bytes of data
def tiff(wd, ht):
    entries = [(256, 4, 1, wd), (257, 4, 1, ht), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 11 + 4), (277, 3, 1, 1), (278, 4, 1, ht), (279, 4, 1, 4),
               (282, 5, 1, 0), (283, 5, 1, 0)]
    ifd = struct.pack("<H", len(entries))
    data_off = 8 + 2 + 12 * len(entries) + 4
    rat_off = data_off + 4
    for tag, typ, cnt, val in entries:
        if typ == 5:
            val = rat_off
        ifd += struct.pack("<HHII", tag, typ, cnt, val) if typ == 4 or typ == 5 else struct.pack("<HHIHH", tag, typ, cnt, val, 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00" + b"\x00\xff\x00\xff" + struct.pack("<II", 300, 1)
w("absurd.tif", tiff(1000000, 1000000))
PY

# The two big messages
$PY - "$in" "$big_mb" <<'PY'
import os, sys
out, mb = sys.argv[1], int(sys.argv[2])
hdr = ("From: =?UTF-8?B?5byg5LiJ?= <h%s@example.org>\r\nTo: ts@broker.example.cn\r\n"
       "Subject: %s\r\nDate: Mon, 23 Nov 2026 10:00:00 +0800\r\nMessage-ID: <hostile-%s@example.org>\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
body = "我是客户张三，资金账号 310012345678，营业部多收手续费，请退还。\r\n".encode()
with open(os.path.join(out, "big.eml"), "wb") as f:
    f.write((hdr % ("big", "%d MB" % mb, "big") + "\r\n").encode() + body)
    line = b"x" * 998 + b"\r\n"
    for i in range(mb * 1024):
        f.write(line)
with open(os.path.join(out, "bigheader.eml"), "wb") as f:
    f.write((hdr % ("bigheader", "%d MB header line" % mb, "bigheader")).encode() + b"X-Long: ")
    chunk = b"y" * (1 << 20)
    for i in range(mb):
        f.write(chunk)
    f.write(b"\r\n\r\n" + body)
PY
ls -la "$in" >"$tmp/inputs.ls"
ok "hostile inputs generated in $in ($(ls "$in" | wc -l) files, $(du -sm "$in" | cut -f1) MB)"

# ---- measuring one command ---------------------------------------------------------
# measure NAME CMD...: runs it under /usr/bin/time (at most 120 s); sets
# m_rc, m_secs (seconds, decimal), m_mb (peak RSS in MB); output in $tmp/NAME.out.
measure() {
	name=$1; shift
	/usr/bin/time -f '%e %M' -o "$tmp/$name.time" timeout $((120 * fault_scale)) "$@" >"$tmp/$name.out" 2>&1
	m_rc=$?
	m_secs=$(cut -d' ' -f1 "$tmp/$name.time" | tail -1)
	m_mb=$(( $(cut -d' ' -f2 "$tmp/$name.time" | tail -1) / 1024 ))
}
# within SECS MB: the last measure stayed within the bounds and did not crash.
within() {
	[ "$m_rc" -lt 124 ] && awk "BEGIN{exit !($m_secs <= $1 * $fault_scale)}" && [ "$m_mb" -le $(($2 * fault_scale)) ]
}
# ref_of NAME: the complaint made from in/NAME.eml (found by its SHA-256), or "".
sha_of() { sha256sum <"$in/$1.eml" | cut -d' ' -f1; }
ref_of() {
	db "$dbf" "SELECT c.ref FROM sources s JOIN complaints c ON c.id = s.complaint_id WHERE s.sha256 = '$(sha_of "$1")'"
}
src_of() { db "$dbf" "SELECT count(*) FROM sources WHERE sha256 = '$(sha_of "$1")'"; }
# hostile_mail NAME SECS MB DESCRIPTION [EXTRA-CHECK...]: ingests in/NAME.eml by
# hand; it must exit 0 with a draft (or a classification), its original kept
# in the spool, within SECS seconds and MB of memory.
hostile_mail() {
	name=$1 secs=$2 mb=$3 what=$4; shift 4
	measure "$name" "$INTAKE" -c "$cfg" ingest "$in/$name.eml"
	ref=$(ref_of "$name")
	res=$(head -c 300 "$tmp/$name.out" | tr '\n' ' ')
	if [ "$m_rc" -eq 0 ] && [ "$(src_of "$name")" = 1 ] && within "$secs" "$mb" && { [ $# -eq 0 ] || "$@"; }; then
		ok "$what: ${ref:-classified}, ${m_secs} s, ${m_mb} MB ($(echo "$res" | sed "s|$in/||" | cut -c1-90))"
	else
		nok "$what: exit $m_rc, ${m_secs} s (max $secs), ${m_mb} MB (max $mb), ${ref:-no draft}" "$res" "$(tail -5 "$tmp/$name.out")"
	fi
}
show_json() { "$INTAKE" -c "$cfg" show --json "$(ref_of "$1")" 2>/dev/null; }
has_text() { show_json "$1" | jq -e --arg t "$2" '.body | contains($t)' >/dev/null; }

"$INTAKE" -c "$cfg" drafts >/dev/null 2>&1
passwd_sha=$(sha256sum </etc/passwd)
hostile_mail truncated 10 150 "truncated MIME (cut inside a base64 attachment)" has_text truncated "营业部多收手续费"
hostile_mail malformed 10 150 "malformed MIME (headers without colons, empty boundary, unknown encoding)" has_text malformed "营业部多收手续费"
hostile_mail nesting 20 200 "1,000-level multipart nesting"
hostile_mail parts 30 300 "10,000 parts" has_text parts "营业部多收手续费"
hostile_mail nul 10 150 "NUL bytes in the subject and body" has_text nul "资金账号"
hostile_mail badutf8 10 150 "invalid UTF-8 (overlong, surrogates, cut)" has_text badutf8 "营业部多收手续费"
hostile_mail badgbk 10 150 "invalid GBK (lone lead bytes, 0x80, 0xff, cut)" has_text badgbk "营业部多收手续费"
hostile_mail b64garbage 10 150 "base64 garbage"
hostile_mail names 10 150 "attachments named ../../etc/passwd, /etc/shadow with CR LF and ESC, with a bidi override"
hostile_mail zipbomb 30 400 "a zip bomb as a .docx attachment (2 GiB inflated)"
hostile_mail big 60 800 "a $big_mb MB message (limit $limit)"
hostile_mail bigheader 60 800 "a $big_mb MB header line"
hostile_mail inject 10 150 "CR LF in the sender's name and the subject"

# The drafts themselves: valid UTF-8, no NUL, names kept inside a base name
for m in nul badutf8 badgbk malformed b64garbage; do
	show_json $m >"$tmp/$m.show" 2>&1
done
check "NUL bytes: the stored draft has no NUL (neither a byte nor \\u0000)" sh -c \
	"! grep -q 'u0000' '$tmp/nul.show' && [ \$(tr -d '\\000' <'$tmp/nul.show' | wc -c) = \$(wc -c <'$tmp/nul.show') ] && jq -e .ref '$tmp/nul.show'"
check "invalid UTF-8 and GBK, NUL, base64 garbage, malformed: intake show --json gives valid UTF-8 JSON" sh -c "for m in nul badutf8 badgbk malformed b64garbage; do iconv -f UTF-8 -t UTF-8 '$tmp/'\$m.show >/dev/null && jq -e .ref '$tmp/'\$m.show >/dev/null || exit 1; done"
show_json names >"$tmp/names.show"
names=$(jq -r '.attachments[].filename' "$tmp/names.show" 2>/dev/null)
if [ "$(echo "$names" | grep -c .)" -ge 3 ] && ! echo "$names" | grep -q '/' && ! echo "$names" | grep -q '\.\.' &&
	! printf '%s' "$names" | LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" && ! echo "$names" | grep -q "$(printf '\342\200\256')"; then
	ok "attachment names ../../etc/passwd, /etc/shadow + CR LF + ESC, a bidi override: stored as plain base names ($(echo "$names" | tr '\n' '|'))"
else nok "attachment names cleaned" "$names"; fi
check "... and nothing was written under those names (/etc/passwd unchanged, no passwd or shadow file made)" sh -c \
	"[ \"\$(sha256sum </etc/passwd)\" = '$passwd_sha' ] && [ -z \"\$(find '$tmp/var' '$tmp/conf' \\( -name passwd -o -name shadow -o -name '*exe*' \\) -print)\" ]"
check "invalid UTF-8 in the subject (投诉 + an overlong and a surrogate): 投诉 is kept, not re-read as another charset" \
	sh -c "jq -r .subject '$tmp/badutf8.show' | grep -q '^投诉'"
check "invalid GBK in the subject: its valid characters are kept (投诉…)" sh -c "jq -r .subject '$tmp/badgbk.show' | grep -q '^投诉'"
# A draft whose message was only partly read says so where the responder looks.
for m in nesting parts big; do
	"$INTAKE" -c "$cfg" show "$(ref_of $m)" >"$tmp/$m.showtxt" 2>&1
	show_json $m >>"$tmp/$m.showtxt"
done
# (the parser's own words: "... were not read", "only the first N bytes were
# parsed", "only its headers were read"; none of them is in a subject here)
check "1,000-level nesting: intake show says the deeper parts were not read" grep -qi "were not read" "$tmp/nesting.showtxt"
check "10,000 parts: intake show says only the first part of the message was read" grep -qi "were parsed\|were not read" "$tmp/parts.showtxt"
check "a $big_mb MB message: intake show says only its headers were read (over the size limit)" grep -qi "headers were read\|were not read" "$tmp/big.showtxt"
# CR LF and escape sequences must not forge lines in what a responder reads
ri=$(ref_of inject)
"$INTAKE" -c "$cfg" show "$ri" >"$tmp/inject.showtxt" 2>&1
"$INTAKE" -c "$cfg" drafts >"$tmp/drafts.txt" 2>&1
if ! grep -q '^ *\(Bcc\|X-Injected\):' "$tmp/inject.showtxt" "$tmp/drafts.txt"; then
	ok "CR LF in the name and subject: intake show and intake drafts print them on one line (no forged 'Bcc:' line)"
else nok "CR LF in the name and subject forge lines in intake show / drafts" "$(grep -B1 -A1 '^ *\(Bcc\|X-Injected\):' "$tmp/inject.showtxt" | head -8)"; fi
# ---- the notice of the CR LF mail: its headers at the SMTP server -----------------
"$INTAKE" -c "$cfg" outbox drain >"$tmp/drain.out" 2>&1
$PY - "$tmp/smtp/Maildir" >"$tmp/inject.check" 2>&1 <<'PY'
import email, mailbox, sys
from email import policy
found = 0
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems():
    raw = msg.as_bytes()
    if b"inject@example.org" not in raw.split(b"\r\n\r\n")[0] and b"inject@example.org" not in raw.split(b"\n\n")[0]:
        continue
    found += 1
    m = email.message_from_bytes(raw, policy=policy.default)
    hdr = raw.split(b"\r\n\r\n")[0].decode("ascii", "replace")
    names = [l.split(":")[0].lower() for l in hdr.split("\r\n") if l and not l[0].isspace()]
    bad = [n for n in names if n in ("bcc", "x-injected")]
    dup = [n for n in set(names) if names.count(n) > 1 and n != "received"]
    to = m.get_all("To")
    print("headers:", names, "to:", to)
    if bad or dup or to is None or len(to) != 1 or "victim" in str(to):
        print("INJECTED", bad, dup)
        sys.exit(1)
sys.exit(0 if found == 1 else 2)
PY
rc=$?
[ $rc -eq 0 ] && ok "CR LF injection: the delivered notice has one To, no Bcc, no X-Injected header" ||
	nok "CR LF injection into the notice (rc $rc)" "$(cat "$tmp/inject.check")" "$(tail -3 "$tmp/drain.out")"

# ---- the auto-responder loop: our acknowledgment answered 50 times ------------------
cp "$in/inject.eml" "$tmp/loop0.eml"
sed -e 's/inject@example.org/loop@example.org/' -e 's/hostile-inject/hostile-loop/' -e '/^Subject/s/.*/Subject: =?UTF-8?B?5oqV6K+J77ya5omL57ut6LS5?=/' "$in/inject.eml" >"$tmp/loop0.eml"
"$INTAKE" -c "$cfg" ingest "$tmp/loop0.eml" >"$tmp/loop.out" 2>&1
"$INTAKE" -c "$cfg" outbox drain >>"$tmp/loop.out" 2>&1
loop_t0=$(now_ms)
i=1
while [ $i -le 50 ]; do
	# the auto-responder answers the latest mail it got from us, in one of five styles
	$PY - "$tmp/smtp/Maildir" "$tmp/reply.eml" $i <<'PY' || { echo "no mail to answer" >>"$tmp/loop.out"; }
import email, mailbox, sys
from email import policy
from email.header import Header
box, out, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
ours = []
for key, msg in mailbox.Maildir(box, factory=None, create=False).iteritems():
    m = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    if m["To"] and "loop@example.org" in m["To"]:
        ours.append(m)
if not ours:
    sys.exit(1)
m = ours[-1]
style = i % 5
subj = {0: "Automatic reply: ", 1: "自动回复：", 2: "Out of Office: ", 3: "Re: ", 4: "自动回复: "}[style] + str(m["Subject"])
extra = {0: "Auto-Submitted: auto-replied\r\n", 1: "X-Autoreply: yes\r\n", 2: "Precedence: auto_reply\r\nX-Auto-Response-Suppress: All\r\n",
         3: "Auto-Submitted: auto-generated\r\n", 4: ""}[style]
body = "您好，我正在休假，期间邮件不能及时回复。\r\n\r\n> " + (m.get_content() if not m.is_multipart() else "")[:300].replace("\n", "\n> ")
open(out, "w", newline="").write(
    "From: loop@example.org\r\nTo: ts@broker.example.cn\r\nSubject: %s\r\n"
    "Date: Mon, 23 Nov 2026 11:%02d:00 +0800\r\nMessage-ID: <auto-%d@example.org>\r\n"
    "In-Reply-To: %s\r\nReferences: %s\r\n%sMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
    % (Header(subj, "utf-8").encode(), i % 60, i, m["Message-ID"], m["Message-ID"], extra, body))
PY
	"$INTAKE" -c "$cfg" ingest "$tmp/reply.eml" >>"$tmp/loop.out" 2>&1
	"$INTAKE" -c "$cfg" outbox drain >>"$tmp/loop.out" 2>&1
	i=$((i + 1))
done
nloop=$($PY - "$tmp/smtp/Maildir" <<'PY'
import email, mailbox, sys
print(sum(1 for k, m in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems()
          if m["To"] and "loop@example.org" in m["To"]))
PY
)
nauto=$(db "$dbf" "SELECT count(*) FROM sources WHERE message_id LIKE 'auto-%@example.org'")
if [ "$nloop" -le 1 ] && [ "$nauto" = 50 ]; then
	ok "an auto-responder answering our acknowledgment 50 times (5 styles): $nloop acknowledgment sent, all 50 answers kept ($(( ($(now_ms) - loop_t0) / 1000 )) s)"
else nok "mail loop: $nloop notices to the auto-responder (max 1), $nauto of 50 answers kept" "$(grep -v '^$' "$tmp/loop.out" | tail -8)"; fi

# ---- drop folder: zip bomb, PDFs that make poppler loop, absurd TIFF, empty, symlink ----
L=$tmp/drop/letters
cp "$in/bomb.docx" "$L/bomb.docx"
cp "$in/xobject-bomb.pdf" "$L/xobject-bomb.pdf"
cp "$in/deep-tree.pdf" "$L/deep-tree.pdf"
cp "$in/absurd.tif" "$L/absurd.tif"
: >"$L/empty.pdf"
ln -s /etc/shadow "$L/shadow.pdf"
touch -h -d '10 seconds ago' "$L"/*
measure dropdir "$INTAKE" -c "$cfg" run --once
FL=$tmp/var/failed
diag "run --once over the hostile drop folder: exit $m_rc, ${m_secs} s, ${m_mb} MB"
sed 's/^/#   /' "$tmp/dropdir.out" | grep -v "notice #" | head -20
within 90 600 && ok "run --once over the hostile drop folder ends in ${m_secs} s, ${m_mb} MB (OCR limit 10 s a file), no crash" ||
	nok "hostile drop folder: exit $m_rc, ${m_secs} s, ${m_mb} MB" "$(tail -5 "$tmp/dropdir.out")"
# each one: refused with a reason, or a draft; never left behind, never lost
dropped() { # name description
	if [ -f "$FL/$1.reason.txt" ] && { [ -e "$FL/$1" ] || [ -L "$FL/$1" ]; }; then
		ok "$2: refused, moved to failed/ with its reason ($(grep -m1 '^code:' "$FL/$1.reason.txt"))"
	elif ls "$tmp"/var/archive/*/"$1" >/dev/null 2>&1; then
		ok "$2: archived with a draft"
	else nok "$2: a clear result (failed/ with a reason, or archived)" "$(ls -la "$L" "$FL" 2>&1 | head -20)"; fi
}
dropped bomb.docx "zip bomb dropped as a .docx"
dropped xobject-bomb.pdf "a PDF with 10^12 nested form drawings"
dropped deep-tree.pdf "a PDF with a 3,000-deep cyclic page tree and a 200 x 200 inch page"
dropped absurd.tif "a TIFF claiming 1,000,000 x 1,000,000 pixels"
dropped empty.pdf "an empty file"
check "a symlink to /etc/shadow: refused as a symlink, /etc/shadow untouched and not read" sh -c \
	"grep -q '^code: symlink' '$FL/shadow.pdf.reason.txt' && [ -L '$FL/shadow.pdf' ] && [ \"\$(readlink '$FL/shadow.pdf')\" = /etc/shadow ]"
shadow_sha=$(sha256sum /etc/shadow | cut -d' ' -f1)
shadow_spool=$tmp/var/spool/$(echo "$shadow_sha" | cut -c1-2)/$(echo "$shadow_sha" | cut -c3-4)/$shadow_sha
check "... its content is nowhere in the spool or the store" sh -c \
	"[ ! -e '$shadow_spool' ] && [ \$(sqlite3 -readonly '$dbf' \"SELECT count(*) FROM sources WHERE sha256 = '$shadow_sha'\") = 0 ]"
left=$(ls -A "$L" | tr '\n' ' ')
check "nothing hostile is left in the drop folder" test -z "$left"

# ---- a file that keeps growing --------------------------------------------------------
gen_letters "$tmp/grow" 1 77 >/dev/null 2>&1
# the PDF written slowly: its first bytes, a line every 0.3 s for 12 s, then
# the whole document (PDF readers take the last trailer)
$PY - "$tmp/grow/scan000.pdf" "$L/growing.pdf" 12 <<'PY' &
import sys, time
src, dst, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = open(src, "rb").read()
end = time.time() + secs
with open(dst, "wb") as f:
    f.write(data[:200]); f.flush()
    while time.time() < end:
        time.sleep(0.3)
        f.write(b"%% still scanning\n"); f.flush()
    f.write(data); f.flush()
PY
gp=$!
fault_track $gp
sleep 1
measure growing_once "$INTAKE" -c "$cfg" run --once
if within 20 300 && [ -f "$L/growing.pdf" ] && [ ! -e "$FL/growing.pdf" ] && ! ls "$tmp"/var/archive/*/growing.pdf >/dev/null 2>&1; then
	ok "a file that keeps growing: run --once ends (${m_secs} s) and leaves it in the folder, not taken half-written"
else nok "growing file and run --once: exit $m_rc, ${m_secs} s" "$(grep growing "$tmp/growing_once.out")" "$(ls -la "$L" "$FL" 2>&1 | head)"; fi
check "... the log says it is still being written" grep -q "still being written" "$tmp/growing_once.out"
daemon_start "$cfg" "$tmp/grow.log"
sleep 4
check "... the daemon does not take it while it grows" sh -c "[ -f '$L/growing.pdf' ] && [ ! -e '$FL/growing.pdf' ]"
wait $gp; fault_untrack $gp
if wait_for 25 sh -c "ls '$tmp'/var/archive/*/growing.pdf"; then
	ok "... and takes it once complete, archived with a draft"
else nok "growing file taken once complete" "$(tail -5 "$tmp/grow.log")" "$(ls -la "$L" "$FL" 2>&1 | head)"; fi
gsha=$(sha256sum "$tmp"/var/archive/*/growing.pdf 2>/dev/null | cut -d' ' -f1 | head -1)
check "... the draft is made from the whole file (its SHA-256 is the final one)" \
	test "$(db "$dbf" "SELECT count(*) FROM sources WHERE sha256 = '${gsha:-none}' AND complaint_id IS NOT NULL")" = 1
check "... and no half-written version was ingested" \
	test "$(db "$dbf" "SELECT count(*) FROM sources s JOIN complaints c ON c.id = s.complaint_id WHERE c.subject LIKE '%growing.pdf%'")" = 1
daemon_term

# ---- the IMAP path: the hostile mails through Dovecot in one pass ----------------------
if dovecot_start "$tmp/dovecot"; then
	printf 'alice-secret\n' >"$tmp/alice.pass"; chmod 600 "$tmp/alice.pass"
	cat >"$tmp/conf/imap.conf" <<EOF
[store]
path = ../var/imap.db
spool = ../var/imap-spool
[calendar]
file = $top/config/calendar/cn.conf
[limits]
message_bytes = $limit
[imap main]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
EOF
	mkdir -p "$tmp/imapin"
	for f in truncated malformed nesting parts nul badutf8 badgbk b64garbage names zipbomb inject big bigheader; do
		cp "$in/$f.eml" "$tmp/imapin/$f.eml"
	done
	mails_to_inbox alice "$tmp/imapin"
	measure imap_once "$INTAKE" -c "$tmp/conf/imap.conf" run --once
	nimap=$(db "$tmp/var/imap.db" "SELECT count(*) FROM sources")
	st=$("$INTAKE" -c "$tmp/conf/imap.conf" status --json | jq -r '.sources[0] | "\(.state) \(.backlog)"')
	if within 120 900 && [ "$nimap" = 11 ] && [ "$(maildir_count alice)" = 2 ] && [ "$st" = "oversize 2" ]; then
		ok "the same mails over IMAP in one run --once (${m_secs} s, ${m_mb} MB): 11 stored, the two $big_mb MB ones left on the server (state oversize)"
	else nok "hostile mails over IMAP: exit $m_rc, ${m_secs} s, ${m_mb} MB, $nimap of 11 stored, $(maildir_count alice) left, status $st" "$(grep -v 'notice #' "$tmp/imap_once.out" | tail -8)"; fi
else nok "a private Dovecot starts"; fi

# ---- afterwards ---------------------------------------------------------------------------
"$INTAKE" -c "$cfg" verify >"$tmp/verify.out" 2>&1
check "intake verify: every original kept intact ($(head -1 "$tmp/verify.out"))" grep -q " intact, 0 damaged" "$tmp/verify.out"
check "PRAGMA integrity_check = ok" test "$(sqlite3 "$dbf" 'PRAGMA integrity_check')" = ok
diag "total $(( ($(now_ms) - t_start) / 1000 )) s"
fault_done
