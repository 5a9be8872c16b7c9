#!/bin/sh
# make demo: runs the pipeline end to end on the sample complaints in
# tools/demo/ with a throw-away store under var/demo/, then shows the drafts
# the way a responder sees them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
INTAKE="$top/build/intake"
demo="$top/var/demo"
rm -rf "$demo"
mkdir -p "$demo"
cat >"$demo/intake.conf" <<CONF
[store]
path = $demo/intake.db
spool = $demo/spool
[calendar]
file = $top/config/calendar/cn.conf
timezone = Asia/Shanghai
CONF
cfg="$demo/intake.conf"
echo "== intake ingest: four mails by hand (UTF-8, GBK, HTML-only, an auto-reply)"
i=0
for f in "$top"/tools/demo/*.eml; do
	i=$((i + 1))
	"$INTAKE" -c "$cfg" ingest --received-at "2026-11-2${i}T10:00+08:00" "$f"
done
echo
echo "== intake ingest again: nothing is created twice"
"$INTAKE" -c "$cfg" ingest "$top"/tools/demo/01-utf8-login.eml
echo
echo "== intake drafts: by acceptance due"
"$INTAKE" -c "$cfg" drafts
echo
ref=$("$INTAKE" -c "$cfg" drafts --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print((d["drafts"] if isinstance(d,dict) else d)[0]["ref"])')
echo "== intake show $ref"
"$INTAKE" -c "$cfg" show "$ref"
echo
echo "== intake due 2026-09-30T10:00+08:00 (National Day: the 3rd working day is Saturday 10 October)"
"$INTAKE" -c "$cfg" due 2026-09-30T10:00+08:00
echo
echo "demo store: $demo (configuration $cfg); try: build/intake -c $cfg drafts"
