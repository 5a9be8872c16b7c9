# Shared helpers of the crash, fault, hostile-input and privacy tests
# (tests/integration/test_{crash,faults,hostile,privacy}.sh). Source it from
# sh with the repository as the current folder, after setting nothing:
#   . tests/integration/lib_fault.sh
#   fault_init NAME            a temporary folder $tmp, cleaned up at exit
# TAP: ok DESC, nok DESC [DIAG...], check DESC CMD..., skip DESC REASON,
#      diag TEXT, fault_done (prints the plan "1..N").
# Servers: the private Dovecot of tests/harness/dovecot.sh, and an SMTP
# server (tests/harness/smtp.py's handler) that can be stopped and started
# again on the same port: smtp_up DIR [PORT], smtp_down DIR.
# Inputs generated at test time: gen_mails, mails_to_inbox, gen_letters.
# Every process started here is remembered by its pid and ended by it.
set -u
PY=/usr/bin/python3
top=$(pwd)
INTAKE=${INTAKE:-$top/build/intake}
. "$top/tests/harness/dovecot.sh"

# Under AddressSanitizer (make check-asan) everything is slower and bigger:
# time and memory bounds are multiplied by fault_scale.
fault_scale=1
ldd "$INTAKE" 2>/dev/null | grep -q 'libasan\|libubsan' && fault_scale=4

tmp=""
fault__pids=""
fault__mounts=""
n=0

fault_cleanup() {
	for p in $fault__pids; do kill -9 "$p" 2>/dev/null; done
	for p in $fault__pids; do wait "$p" 2>/dev/null; done
	dovecot_stop
	for m in $fault__mounts; do umount -l "$m" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "# kept $tmp" >&2; else rm -rf "$tmp"; fi
}

fault_init() { # name
	tmp=$(mktemp -d "/tmp/intake-$1.XXXXXX")
	chmod 755 "$tmp"
	trap fault_cleanup EXIT
	trap 'exit 1' INT TERM
}

# Remembers a background process (ended by pid at exit).
fault_track() { fault__pids="$fault__pids $1"; }
fault_untrack() {
	fault__pids=$(echo "$fault__pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
fault_mounted() { fault__mounts="$fault__mounts $1"; }

# ---- TAP ----
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); echo "not ok $n - $1"; shift
	for l in "$@"; do printf '%s\n' "$l" | head -c 3000 | sed 's/^/# /'; echo; done
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # description command...
	fault__d=$1; shift
	if "$@" >"$tmp/check.out" 2>&1; then ok "$fault__d"; else nok "$fault__d" "$(head -c 1500 "$tmp/check.out")"; fi
}
fault_done() { echo "1..$n"; }

# ---- time and waiting ----
now_ms() { date +%s%3N; }
# wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on timeout
# (SECONDS times fault_scale).
wait_for() {
	fault__limit=$(( $(now_ms) + $1 * 1000 * fault_scale )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$fault__limit" ] || return 1
		sleep 0.2
	done
	return 0
}

# ---- the store, read-only ----
db() { # db-file sql
	sqlite3 -readonly -batch -noheader "file:$1?mode=ro" "$2"
}
jq_py() { # expr: evaluated over the JSON on stdin as d
	$PY -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# ---- SMTP: tests/harness/smtp.py's handler on a port that survives a restart ----
# smtp_up DIR [PORT]: starts it (PORT 0 or absent: a free one), waits until it
# listens; DIR/port has the port, DIR/Maildir the delivered mail, DIR/mode as
# in smtp.py (accept, fake-451, fake-drop).
smtp_up() {
	mkdir -p "$1"
	rm -f "$1/port"
	$PY - "$1" "${2:-0}" "$top/tests/harness" >>"$1/stderr" 2>&1 <<'PY' &
import asyncio, os, signal, socket, sys
sys.path.insert(0, sys.argv[3])
import smtp as harness
from aiosmtpd.smtp import SMTP
state, port = sys.argv[1], int(sys.argv[2])
async def main():
    handler = harness.Handler(state)
    def factory():
        with open(os.path.join(state, "connections"), "a") as f:
            f.write("connection\n")
        return SMTP(handler, hostname="harness.test", decode_data=False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", port, reuse_address=True)
    p = server.sockets[0].getsockname()[1]
    with open(os.path.join(state, "port.tmp"), "w") as f:
        f.write("%d\n" % p)
    os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
asyncio.run(main())
PY
	fault__p=$!
	echo "$fault__p" >"$1/pid"
	fault_track "$fault__p"
	fault__i=0
	while [ ! -s "$1/port" ] && [ $fault__i -lt 100 ]; do sleep 0.1; fault__i=$((fault__i + 1)); done
	[ -s "$1/port" ]
}
smtp_down() { # dir
	fault__p=$(cat "$1/pid" 2>/dev/null) || return 0
	kill "$fault__p" 2>/dev/null
	wait "$fault__p" 2>/dev/null
	fault_untrack "$fault__p"
	rm -f "$1/pid"
}
# smtp_count DIR: how many messages were delivered.
smtp_count() { find "$1/Maildir/new" "$1/Maildir/cur" -type f 2>/dev/null | grep -c .; }
# smtp_dups DIR: the Message-IDs delivered more than once, with their count
# (nothing printed when every one arrived once).
smtp_dups() {
	$PY - "$1/Maildir" <<'PY'
import collections, email, mailbox, sys
c = collections.Counter()
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems():
    c[msg["Message-ID"]] += 1
for mid, k in sorted(c.items()):
    if k > 1:
        print(k, mid)
PY
}
# smtp_ids DIR: every delivered Message-ID, one a line (repeats kept).
smtp_ids() {
	$PY - "$1/Maildir" <<'PY'
import mailbox, sys
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).iteritems():
    print(msg["Message-ID"])
PY
}

# dovecot_crash: the IMAP server dies at once (SIGKILL to the master and to
# each of its processes, by pid), its connections cut mid-command.
dovecot_crash() {
	fault__m=$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null) || return 0
	fault__kids=$(ps -o pid= --ppid "$fault__m" 2>/dev/null)
	kill -9 "$fault__m" $fault__kids 2>/dev/null
	dovecot_stop
}

# ---- inputs ----
# gen_mails DIR N SEED [TAG]: N complaint mails DIR/mNNNNN.eml (UTF-8 and
# GBK, some with a PDF attachment, every 25th an auto-reply), each from its
# own address with its own Message-ID <TAG-i@example.net>; DIR/manifest
# lists "MESSAGE-ID draft|classified" for each. GEN_PAD=BYTES adds to every
# complaint a PDF attachment of that size (to make fetching take time).
gen_mails() {
	mkdir -p "$1"
	$PY - "$1" "$2" "$3" "${4:-m$3}" "${GEN_PAD:-0}" <<'PY'
import base64, random, sys
from email.header import Header
out, count, seed, tag, pad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rnd = random.Random(seed)
topics = ["资金账户被冻结", "交易软件无法登录", "手续费多收", "客服电话无人接听", "基金赎回款未到账",
          "营业部未按约定办理销户", "两融利息计算错误", "理财产品风险未告知"]
names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞"]
manifest = []
for i in range(count):
    mid = "<%s-%d@example.net>" % (tag, i)
    addr = "cust%s.%d@example.net" % (tag, i)
    name, topic = rnd.choice(names), rnd.choice(topics)
    acct = "31%010d" % (seed * 100000 + i)
    auto = i % 25 == 24
    if auto:
        subj, body = "自动回复：我正在休假", "您好，我正在休假，期间邮件不能及时回复。序号 %d\n" % i
    else:
        subj = "投诉：%s（%d）" % (topic, i)
        body = ("您好：\n\n我是贵公司客户%s，资金账号 %s。%s，已经%d天了，"
                "请尽快核实处理并答复。\n\n联系电话：139%08d\n%s\n"
                % (name, acct, topic, rnd.randint(1, 9), i, name))
    cs = "gbk" if i % 3 == 1 else "utf-8"
    h = ["From: %s <%s>" % (Header(name, cs).encode(), addr), "To: ts@broker.example.cn",
         "Subject: %s" % Header(subj, cs).encode(),
         "Date: Mon, 23 Nov 2026 %02d:%02d:00 +0800" % (9 + i % 8, i % 60),
         "Message-ID: %s" % mid, "MIME-Version: 1.0"]
    if auto:
        h.append("Auto-Submitted: auto-replied")
    enc = base64.encodebytes(body.encode(cs)).decode()
    if (i % 10 == 3 or pad) and not auto:
        pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% evidence " +
               str(i).encode() + b"\n" + b"% padding\n" * (pad // 10) +
               b"trailer << /Root 1 0 R >>\n%%EOF\n")
        h.append("Content-Type: multipart/mixed; boundary=\"b%d\"" % i)
        parts = ["--b%d" % i, "Content-Type: text/plain; charset=%s" % cs,
                 "Content-Transfer-Encoding: base64", "", enc,
                 "--b%d" % i, "Content-Type: application/pdf; name=\"evidence%d.pdf\"" % i,
                 "Content-Disposition: attachment; filename=\"evidence%d.pdf\"" % i,
                 "Content-Transfer-Encoding: base64", "", base64.encodebytes(pdf).decode(),
                 "--b%d--" % i, ""]
        text = "\r\n".join(h) + "\r\n\r\n" + "\r\n".join(parts)
    else:
        h += ["Content-Type: text/plain; charset=%s" % cs, "Content-Transfer-Encoding: base64"]
        text = "\r\n".join(h) + "\r\n\r\n" + enc.replace("\n", "\r\n")
    with open("%s/m%05d.eml" % (out, i), "w", newline="") as f:
        f.write(text)
    manifest.append("%s %s" % (mid, "classified" if auto else "draft"))
with open(out + "/manifest", "w") as f:
    f.write("\n".join(manifest) + "\n")
PY
}

# mails_to_inbox USER DIR [FOLDER]: puts every DIR/*.eml into the Dovecot
# Maildir at once (as a delivery agent would), owned by the mail user.
mails_to_inbox() {
	fault__md=$(dovecot_maildir "$1" "${3:-}")
	mkdir -p "$fault__md/new" "$fault__md/cur" "$fault__md/tmp"
	$PY - "$2" "$fault__md" <<'PY'
import glob, os, shutil, sys, time
src, md = sys.argv[1], sys.argv[2]
t = int(time.time())
for k, f in enumerate(sorted(glob.glob(src + "/*.eml"))):
    name = "%d.M%dP%d.fault" % (t, k, os.getpid())
    shutil.copyfile(f, os.path.join(md, "tmp", name))
    os.chown(os.path.join(md, "tmp", name), 65534, 65534)
    os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))
PY
	chown -R nobody:nogroup "$DOVECOT_DIR/mail"
}

# maildir_count USER [FOLDER]: messages in a folder of the Dovecot Maildir.
maildir_count() {
	fault__md=$(dovecot_maildir "$1" "${2:-}")
	ls "$fault__md/new" "$fault__md/cur" 2>/dev/null | grep -c '^[0-9]'
}
# maildir_ids USER [FOLDER]: the Message-IDs in a folder, one a line.
maildir_ids() {
	fault__md=$(dovecot_maildir "$1" "${2:-}")
	$PY - "$fault__md" <<'PY'
import email, glob, sys
from email import policy
for f in glob.glob(sys.argv[1] + "/new/*") + glob.glob(sys.argv[1] + "/cur/*"):
    with open(f, "rb") as fh:
        m = email.message_from_binary_file(fh, policy=policy.compat32)
    print(m["Message-ID"])
PY
}

# gen_letters DIR N SEED [PNG] [TIFF]: N scanned letters in DIR, each with its
# own text (so its own bytes): text PDFs (pdftotext), and of them PNG pages
# and G4 TIFF faxes (tesseract), rendered by tests/corpus/scans/make_scans.py.
# DIR/letters.manifest lists "NAME SHA256".
gen_letters() {
	mkdir -p "$1/src"
	fault__png=${4:-0} fault__tif=${5:-0}
	fault__i=0
	while [ $fault__i -lt "$2" ]; do
		fault__acct=$(printf '32%010d' $(( $3 * 1000 + fault__i )))
		printf '投诉信\n\n尊敬的客户服务中心：\n\n本人客户%d号，资金账号 %s，营业部多收了\n手续费共%d元，请核实并退还。\n\n联系电话：137%08d\n\n投诉人：王%d\n' \
			"$fault__i" "$fault__acct" $(( (fault__i * 37 + $3) % 900 + 100 )) "$fault__i" "$fault__i" >"$1/src/l$fault__i.txt"
		if [ $fault__i -lt "$fault__png" ]; then fault__kind=png fault__ext=png
		elif [ $fault__i -lt $((fault__png + fault__tif)) ]; then fault__kind=fax-g4 fault__ext=tif
		else fault__kind=text-pdf fault__ext=pdf; fi
		fault__name=$(printf 'scan%03d.%s' $fault__i $fault__ext)
		$PY "$top/tests/corpus/scans/make_scans.py" $fault__kind "$1/src/l$fault__i.txt" "$1/$fault__name" --seed $((fault__i + 1)) \
			>>"$1/src/render.log" 2>&1 || return 1
		fault__i=$((fault__i + 1))
	done
	(cd "$1" && sha256sum scan* | awk '{print $2, $1}') >"$1/letters.manifest"
}

# spool_has SPOOL SHA: the original with that SHA-256 is in the spool.
spool_has() {
	fault__f="$1/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-4)/$2"
	[ -f "$fault__f" ] && [ "$(sha256sum <"$fault__f" | cut -d' ' -f1)" = "$2" ]
}

# ---- the daemon ----
# daemon_start CONF LOG: `intake run` in the background; sets daemon_pid.
daemon_start() {
	"$INTAKE" -c "$1" run 2>>"$2" &
	daemon_pid=$!
	fault_track "$daemon_pid"
}
daemon_kill9() {
	kill -9 "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	fault_untrack "$daemon_pid"
	daemon_pid=""
}
# daemon_term: SIGTERM, then its exit status; one that is still there after
# 15 s is killed and 99 returned.
daemon_term() {
	kill -TERM "$daemon_pid" 2>/dev/null
	fault__i=0
	while kill -0 "$daemon_pid" 2>/dev/null && [ $fault__i -lt $((150 * fault_scale)) ]; do
		sleep 0.1; fault__i=$((fault__i + 1))
	done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; fault__rc=99
	else
		wait "$daemon_pid"; fault__rc=$?
	fi
	fault_untrack "$daemon_pid"
	daemon_pid=""
	return $fault__rc
}
