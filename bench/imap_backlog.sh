#!/bin/sh
# Benchmark: a backlog of N (default 10,000) complaint mails in a private
# Dovecot mailbox, drained by `intake run --once` over IMAPS (fetch, parse,
# store, durable, moved to Processed), timed in the same run as a reference
# that only copies the same mailbox over the same TLS: mbsync (Debian isync)
# into a local Maildir when installed, else curl fetching every UID.
# Prints messages/s for both, the ratio, and intake's peak RSS.
# Usage: bench/imap_backlog.sh [BUILD_DIR] [N]      (run from the repository)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
count=${2:-10000}
INTAKE=${INTAKE:-$top/$build/intake}
. "$top/tests/harness/dovecot.sh"
tmp=$(mktemp -d /tmp/intake-bench.XXXXXX)
trap 'dovecot_stop; rm -rf "$tmp"' EXIT INT TERM
dovecot_start "$tmp/dovecot"

# The corpus: the sample complaints of the tests, each made unique (its
# Message-ID, a serial in the body), with INTERNALDATEs over a weekend.
md=$(dovecot_maildir alice)
/usr/bin/python3 - "$top/tests/integration/data/imap" "$md/cur" "$count" <<'PY'
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tpl = [open(os.path.join(src, f), 'rb').read() for f in sorted(os.listdir(src)) if f.endswith('.eml')]
t0 = 1764288000  # Sat 2025-11-29 08:00 +08:00
for i in range(n):
    p = os.path.join(dst, '%d.M%dP1.bench:2,' % (t0, i))
    with open(p, 'wb') as f:
        f.write(tpl[i % len(tpl)].replace(b'@@N@@', b'%d' % i))
    os.utime(p, (t0 + i * 17, t0 + i * 17))
PY
chown -R nobody:nogroup "$DOVECOT_DIR/mail"
dovecot_adm force-resync -u alice INBOX     # index once, for both
dovecot_adm mailbox status -u alice messages INBOX >/dev/null
bytes=$(du -sb "$md/cur" | cut -f1)

now() { date +%s.%N; }
rate() { /usr/bin/python3 -c "print('%.0f' % ($1 / ($3 - $2)))"; }

# The reference: a plain copy over the same IMAPS.
if command -v mbsync >/dev/null 2>&1; then
	ref=mbsync
	mkdir -p "$tmp/copy"
	cat >"$tmp/mbsyncrc" <<EOF
IMAPAccount bench
Host localhost
Port $DOVECOT_SPORT
User alice
Pass alice-secret
SSLType IMAPS
CertificateFile $DOVECOT_CA

IMAPStore remote
Account bench

MaildirStore local
Path $tmp/copy/
Inbox $tmp/copy/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
EOF
	r0=$(now)
	mbsync -q -c "$tmp/mbsyncrc" bench
	r1=$(now)
	copied=$(ls "$tmp/copy/INBOX/new" "$tmp/copy/INBOX/cur" | grep -c '^[0-9]')
else
	ref="curl (one connection, one UID FETCH per message)"
	r0=$(now)
	curl -sS --cacert "$DOVECOT_CA" -u alice:alice-secret \
		"imaps://127.0.0.1:$DOVECOT_SPORT/INBOX;UID=[1-$count]" -o "$tmp/curl-#1.eml"
	r1=$(now)
	copied=$(ls "$tmp" | grep -c '^curl-')
fi

# intake: fetch, parse, store (durable), then UID MOVE per batch.
mkdir -p "$tmp/intake"
printf 'alice-secret\n' >"$tmp/intake/pass"
chmod 600 "$tmp/intake/pass"
cat >"$tmp/intake/intake.conf" <<EOF
[intake]
log_level = warn
[store]
path = var/intake.db
spool = var/spool
[calendar]
file = $top/config/calendar/cn.conf
[imap bench]
url = imaps://127.0.0.1:$DOVECOT_SPORT/INBOX
user = alice
password_file = pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
EOF
i0=$(now)
/usr/bin/time -f '%M' -o "$tmp/rss" "$INTAKE" -c "$tmp/intake/intake.conf" run --once
i1=$(now)
drafts=$("$INTAKE" -c "$tmp/intake/intake.conf" drafts --json |
	/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["drafts"]))')
left=$(dovecot_adm mailbox status -u alice messages INBOX | sed 's/.*=//')

ref_rate=$(rate "$copied" "$r0" "$r1")
in_rate=$(rate "$drafts" "$i0" "$i1")
echo "corpus: $count complaint mails, $bytes bytes, in Dovecot $(dovecot --version | cut -d' ' -f1), over IMAPS on 127.0.0.1"
printf 'reference %-50s %6s mails in %6.2f s = %5s mails/s\n' "$ref:" "$copied" \
	"$(echo "$r1 - $r0" | bc)" "$ref_rate"
printf 'intake run --once (fetch+parse+store+move):          %6s drafts in %6.2f s = %5s mails/s, peak RSS %s MB, %s left in INBOX\n' \
	"$drafts" "$(echo "$i1 - $i0" | bc)" "$in_rate" "$(($(cat "$tmp/rss") / 1024))" "$left"
/usr/bin/python3 -c "print('ratio intake / reference: %.2f' % ($in_rate / $ref_rate))"
