#!/bin/sh
# Crash test: `intake run` (the daemon) ingests a backlog of generated
# complaint mails from a private Dovecot and scanned letters dropped into a
# drop folder, sending acknowledgments to a private SMTP server, and is
# killed with SIGKILL at seeded random moments and started again each time;
# then one `intake run --once` finishes the work. Afterwards, what a user
# checks: every mail and every file has exactly one draft (or one classified
# source), every original is in the spool (`intake verify`), the INBOX is
# empty and the processed folder holds every message once, every dropped
# file is archived and none is left, no acknowledgment reached the SMTP
# server twice, and SQLite's integrity check is ok.
# Short form (make test): 200 mails, 20 files, 15 kills. SOAK=1 (make soak):
# 1,000 mails, 50 files, 100 kills. SEED=N changes the moments (default 8).
# TAP output; run by tests/run.sh with $INTAKE set and the repository as cwd.
. tests/integration/lib_fault.sh
fault_init crash

if [ "${SOAK:-0}" = 1 ]; then NMAIL=${NMAIL:-1000} NFILE=${NFILE:-50} KILLS=${KILLS:-100}
else NMAIL=${NMAIL:-200} NFILE=${NFILE:-20} KILLS=${KILLS:-15}; fi
SEED=${SEED:-8}
diag "seed $SEED: $NMAIL mails, $NFILE dropped files, $KILLS kills (SEED=N to change, SOAK=1 for the long form)"
t_start=$(now_ms)

if ! dovecot_start "$tmp/dovecot"; then nok "a private Dovecot starts"; fault_done; exit 1; fi
smtp_up "$tmp/smtp" || { nok "the SMTP server starts" "$(cat "$tmp/smtp/stderr")"; fault_done; exit 1; }
printf 'alice-secret\n' >"$tmp/alice.pass" && chmod 600 "$tmp/alice.pass"

mkdir -p "$tmp/conf" "$tmp/drop/letters"
cfg=$tmp/conf/intake.conf
cat >"$cfg" <<EOF
[intake]
log_level = info
[store]
path = ../var/intake.db
spool = ../var/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
[imap main]
url = imap://127.0.0.1:$DOVECOT_PORT/INBOX
user = alice
password_file = $tmp/alice.pass
tls_ca_file = $DOVECOT_CA
after = move:Processed
poll_interval = 1s
[dropdir letters]
path = ../drop/letters
channel = letter
archive = ../var/archive
failed = ../var/failed
settle_time = 1
rescan_interval = 2
[smtp]
url = smtp://127.0.0.1:$(cat "$tmp/smtp/port")
from = 客户投诉中心 <ts@broker.example.cn>
starttls = no
timeout = 20s
connect_timeout = 5s
[notices]
templates = $top/config/templates
language = zh
max_acks_per_day = 0
retry = 2s,2s,2s,2s,2s
print_dir = ../var/print
EOF
dbf=$tmp/var/intake.db

# --- the inputs, generated now --------------------------------------------
gen_mails "$tmp/mails" "$NMAIL" "$SEED" "crash$SEED" || { nok "mails generated"; fault_done; exit 1; }
png=3 tif=2
[ "$NFILE" -lt 10 ] && png=1 tif=1
if gen_letters "$tmp/letters" "$NFILE" "$SEED" $png $tif; then
	ok "inputs generated: $NMAIL mails ($(grep -c classified "$tmp/mails/manifest") auto-replies), $NFILE letters ($png PNG, $tif G4 TIFF, the rest text PDFs)"
else nok "letters rendered" "$(tail -5 "$tmp/letters/src/render.log")"; fault_done; exit 1; fi
# Two fifths of the mail now (a backlog), the rest in batches between
# restarts, so that most starts find work in hand.
mkdir -p "$tmp/mails/todo"
mv "$tmp"/mails/m*.eml "$tmp/mails/todo/"
batch=0
deliver_mails() { # count
	batch=$((batch + 1))
	mkdir -p "$tmp/mails/b$batch"
	ls "$tmp/mails/todo" | sort | head -n "$1" | while read -r f; do mv "$tmp/mails/todo/$f" "$tmp/mails/b$batch/"; done
	mails_to_inbox alice "$tmp/mails/b$batch"
}
deliver_mails $((NMAIL * 2 / 5))
mail_per_round=$(( (NMAIL - NMAIL * 2 / 5 + KILLS - 1) / KILLS ))
# Letters: a third now (copied in place: written while it may be read), the
# rest in batches between restarts (renamed in, as a scanner does).
drop_letter() { # name
	if [ $(( $(echo "$1" | tr -dc 0-9 | sed 's/^0*//;s/^$/0/') % 2 )) -eq 0 ]; then
		cp "$tmp/letters/$1" "$tmp/drop/letters/$1"
	else
		cp "$tmp/letters/$1" "$tmp/drop/letters/.$1.part" && mv "$tmp/drop/letters/.$1.part" "$tmp/drop/letters/$1"
	fi
}
awk '{print $1}' "$tmp/letters/letters.manifest" >"$tmp/letters.todo"
nfirst=$((NFILE / 3))
head -n $nfirst "$tmp/letters.todo" | while read -r f; do drop_letter "$f"; done
tail -n +$((nfirst + 1)) "$tmp/letters.todo" >"$tmp/letters.later"

# --- kill -9 at seeded random moments ---------------------------------------
# The moments: 0.2 to 3.5 s after each start, a few longer ones so that
# passes complete too.
$PY -c "
import random; r = random.Random($SEED)
for i in range($KILLS):
    print('%.2f' % (r.uniform(4, 8) if r.random() < 0.15 else r.uniform(0.2, 3.5)))
" >"$tmp/moments"
log=$tmp/daemon.log
: >"$log"
kills=0 busy_kills=0 k=0 later_left=$(wc -l <"$tmp/letters.later")
per_round=$(( (later_left + KILLS - 1) / KILLS + 1 ))
while read -r moment; do
	k=$((k + 1))
	echo "=== start $k (killed after $moment s)" >>"$log"
	daemon_start "$cfg" "$log"
	sleep "$moment"
	# the work in hand at the moment of the kill: mail in the INBOX, files
	# in the drop folder, notices due
	if kill -0 "$daemon_pid" 2>/dev/null; then
		kills=$((kills + 1))
		due=$(db "$dbf" "SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= strftime('%s','now')" 2>/dev/null)
		inhand=$(( $(maildir_count alice) + $(ls "$tmp/drop/letters" | wc -l) + ${due:-0} ))
		[ "$inhand" -gt 0 ] && busy_kills=$((busy_kills + 1))
	else
		echo "=== daemon $k had exited by itself" >>"$log"
	fi
	daemon_kill9
	[ -n "$(ls "$tmp/mails/todo")" ] && deliver_mails $mail_per_round
	# more letters between restarts
	head -n $per_round "$tmp/letters.later" | while read -r f; do drop_letter "$f"; done
	tail -n +$((per_round + 1)) "$tmp/letters.later" >"$tmp/letters.rest" && mv "$tmp/letters.rest" "$tmp/letters.later"
done <"$tmp/moments"
[ -s "$tmp/letters.later" ] && while read -r f; do drop_letter "$f"; done <"$tmp/letters.later"
[ -n "$(ls "$tmp/mails/todo")" ] && deliver_mails "$NMAIL"
if [ $kills -eq "$KILLS" ] && [ $busy_kills -ge $((KILLS * 2 / 3)) ]; then
	ok "the daemon was killed with SIGKILL $kills times, $busy_kills of them with work still to do"
else
	nok "the daemon was killed $kills times ($busy_kills with work to do), expected $KILLS (2/3 with work to do)" \
		"$(grep -v '^===' "$log" | tail -20)"
fi
t_kills=$(now_ms)
for f in "$tmp"/drop/letters/*; do [ -f "$f" ] && touch -d '10 seconds ago' "$f"; done

# --- one pass finishes the work -----------------------------------------------
"$INTAKE" -c "$cfg" run --once >"$tmp/final.log" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "a final run --once exits 0" || nok "final run --once exits 0 (got $rc)" "$(tail -30 "$tmp/final.log")"
t_final=$(now_ms)

# --- every mail: exactly one source, one draft (or classified) --------------
ndraft_mail=$(grep -c ' draft$' "$tmp/mails/manifest")
db "$dbf" "SELECT message_id || ' ' || count(*) FROM sources WHERE kind = 'imap' GROUP BY message_id" | sort >"$tmp/src.count"
# (the store keeps Message-IDs without their angle brackets)
tr -d '<>' <"$tmp/mails/manifest" >"$tmp/manifest.bare"
awk '{print $1 " 1"}' "$tmp/manifest.bare" | sort >"$tmp/src.expect"
if cmp -s "$tmp/src.count" "$tmp/src.expect"; then
	ok "every one of the $NMAIL mails is stored exactly once as a source"
else
	nok "every mail stored exactly once as a source" "$(diff "$tmp/src.expect" "$tmp/src.count" | head -20)"
fi
db "$dbf" "SELECT message_id || ' ' || count(*) FROM complaints WHERE channel = 'email' GROUP BY message_id" | sort >"$tmp/c.count"
awk '$2 == "draft" {print $1 " 1"}' "$tmp/manifest.bare" | sort >"$tmp/c.expect"
if cmp -s "$tmp/c.count" "$tmp/c.expect"; then
	ok "every complaint mail has exactly one draft ($ndraft_mail), the auto-replies none"
else
	nok "every complaint mail has exactly one draft" "$(diff "$tmp/c.expect" "$tmp/c.count" | head -20)"
fi
nclass=$(db "$dbf" "SELECT count(*) FROM sources WHERE kind = 'imap' AND complaint_id IS NULL AND disposition = 'auto_reply'")
check "the $((NMAIL - ndraft_mail)) auto-replies are classified auto_reply" test "$nclass" = $((NMAIL - ndraft_mail))

# --- every file: exactly one draft, archived, its original in the spool ------
"$INTAKE" -c "$cfg" drafts --json >"$tmp/drafts.json" 2>"$tmp/drafts.err"
nd=$(jq_py 'len(d["drafts"])' <"$tmp/drafts.json")
check "intake drafts --json lists $ndraft_mail + $NFILE drafts" test "$nd" = $((ndraft_mail + NFILE))
bad=""
while read -r name sha; do
	c=$(db "$dbf" "SELECT count(*) FROM sources s JOIN complaints c ON c.id = s.complaint_id WHERE s.sha256 = '$sha' AND c.channel = 'letter'")
	[ "$c" = 1 ] || bad="$bad $name:${c}drafts"
	ls "$tmp"/var/archive/*/"$name" >/dev/null 2>&1 || [ -f "$tmp/var/failed/$name.reason.txt" ] || bad="$bad $name:not-archived"
	spool_has "$tmp/var/spool" "$sha" || bad="$bad $name:not-in-spool"
done <"$tmp/letters/letters.manifest"
[ -z "$bad" ] && ok "every dropped file has exactly one draft, is archived and its original is in the spool" ||
	nok "every dropped file: one draft, archived, in the spool" "$bad"
left=$(ls -A "$tmp/drop/letters" | grep -v '^\.' | tr '\n' ' ')
check "no file is left in the drop folder" test -z "$left"
nfailed=$(ls "$tmp/var/failed" 2>/dev/null | grep -c 'reason.txt$')
check "no dropped file was refused" test "$nfailed" = 0

"$INTAKE" -c "$cfg" verify >"$tmp/verify.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^$((NMAIL + NFILE)) original(s) intact, 0 damaged" "$tmp/verify.out"; then
	ok "intake verify: all $((NMAIL + NFILE)) originals intact"
else nok "intake verify exits 0 with every original intact (rc $rc)" "$(tail -5 "$tmp/verify.out")"; fi

# --- the mailbox ----------------------------------------------------------------
check "the INBOX is empty" test "$(maildir_count alice)" = 0
maildir_ids alice Processed | sort >"$tmp/proc.ids"
awk '{print $1}' "$tmp/mails/manifest" | sort >"$tmp/all.ids"
if cmp -s "$tmp/proc.ids" "$tmp/all.ids"; then
	ok "the Processed folder holds each of the $NMAIL messages exactly once"
else nok "Processed holds every message once" "$(diff "$tmp/all.ids" "$tmp/proc.ids" | head -10)"; fi
st=$("$INTAKE" -c "$cfg" status --json | jq_py '[(s["state"], s["backlog"]) for s in d["sources"] if s["section"] == "imap main"]')
check "intake status: the mailbox is ok with no backlog" test "$st" = "[('ok', 0)]"

# --- the notices ------------------------------------------------------------------
dups=$(smtp_dups "$tmp/smtp")
[ -z "$dups" ] && ok "no notice reached the SMTP server twice ($(smtp_count "$tmp/smtp") delivered)" ||
	nok "no notice delivered twice" "$dups"
# A notice claimed by a process that was killed waits for its lease (30 min)
# to end: let that time pass in the store, then one more pass sends it.
held=$(db "$dbf" "SELECT count(*) FROM outbox WHERE state = 'pending' AND recipient IS NOT NULL")
nfail=$(db "$dbf" "SELECT count(*) FROM outbox WHERE state = 'failed'")
check "no notice failed" test "$nfail" = 0
diag "$held notice(s) still held by the lease of a killed process after the final run"
if [ "$held" -gt 0 ]; then
	sqlite3 "$dbf" "UPDATE outbox SET next_attempt_at = strftime('%s','now') - 1 WHERE state = 'pending'"
	"$INTAKE" -c "$cfg" run --once >>"$tmp/final.log" 2>&1
fi
db "$dbf" "SELECT message_id FROM outbox WHERE kind = 'acknowledgment' AND recipient IS NOT NULL" | sort >"$tmp/ack.ids"
smtp_ids "$tmp/smtp" | sort >"$tmp/smtp.ids"
nack=$(wc -l <"$tmp/ack.ids")
if [ "$nack" -eq "$ndraft_mail" ] && cmp -s "$tmp/ack.ids" "$tmp/smtp.ids"; then
	ok "each of the $nack acknowledgments arrived exactly once (counted by Message-ID at the SMTP server)"
else
	nok "each acknowledgment exactly once ($nack queued for $ndraft_mail mail drafts)" \
		"$(diff "$tmp/ack.ids" "$tmp/smtp.ids" | head -10)"
fi
nsent=$(db "$dbf" "SELECT count(*) FROM outbox WHERE kind = 'acknowledgment' AND recipient IS NOT NULL AND state = 'sent'")
check "the outbox marks all $nack acknowledgments sent" test "$nsent" = "$nack"
nprint=$(ls "$tmp/var/print" 2>/dev/null | grep -c 'acknowledgment')
check "the $NFILE letters' acknowledgments are rendered for the post, once each" test "$nprint" = "$NFILE"

# --- the database -----------------------------------------------------------------
ic=$(sqlite3 "$dbf" 'PRAGMA integrity_check' 2>&1)
check "PRAGMA integrity_check = ok" test "$ic" = ok
fk=$(sqlite3 "$dbf" 'PRAGMA foreign_key_check' 2>&1)
check "PRAGMA foreign_key_check finds nothing" test -z "$fk"
refs=$(db "$dbf" "SELECT count(*) - count(DISTINCT ref) FROM complaints")
check "no reference number was given twice" test "$refs" = 0

t_end=$(now_ms)
diag "timings: kills $(( (t_kills - t_start) / 1000 )) s, final run $(( (t_final - t_kills) / 1000 )) s, total $(( (t_end - t_start) / 1000 )) s"
fault_done
