#!/bin/sh
# make install: binary, hardened systemd unit, configuration, calendar and
# templates land under PREFIX/DESTDIR, and the installed program runs with
# the installed configuration. TAP output.
set -u
top=$(pwd)
# Always the optimised build: under check-asan this checks the same install.
tmp=$(mktemp -d /tmp/intake-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if make --no-print-directory -s -C "$top" install BUILD=build \
	PREFIX="$tmp/usr" SYSCONF="$tmp/etc/intake" DESTDIR= >"$tmp/log" 2>&1; then
	ok "make install PREFIX=... SYSCONF=... succeeds"
else nok "make install" "$(tail -5 "$tmp/log")"; fi

missing=""
for f in usr/bin/intake usr/lib/systemd/system/intake.service usr/share/doc/intake/README.md \
	etc/intake/intake.conf etc/intake/intake.conf.example etc/intake/calendar/cn.conf; do
	[ -e "$tmp/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "binary, unit, README, configuration and calendar are installed" ||
	nok "installed files" "missing:$missing"

unit="$tmp/usr/lib/systemd/system/intake.service"
bad=""
for d in "User=intake" "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" \
	"ReadWritePaths=/var/lib/intake" "ExecStart=$tmp/usr/bin/intake -c $tmp/etc/intake/intake.conf run" \
	"ExecReload=/bin/kill -HUP"; do
	grep -q "^$d" "$unit" || bad="$bad [$d]"
done
[ -z "$bad" ] && ok "unit: unprivileged user, NoNewPrivileges, ProtectSystem=strict, PrivateTmp, ReadWritePaths, paths of PREFIX" ||
	nok "unit directives" "missing:$bad"

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$unit" >"$tmp/verify" 2>&1
	if grep -v "intake.service: .*[Uu]ser\|Failed to resolve user" "$tmp/verify" | grep -q "intake.service"; then
		nok "systemd-analyze verify accepts the unit" "$(cat "$tmp/verify")"
	else ok "systemd-analyze verify accepts the unit"; fi
fi

if grep -q "^path = /var/lib/intake/intake.db" "$tmp/etc/intake/intake.conf"; then
	ok "installed configuration keeps its data under /var/lib/intake"
else nok "installed configuration paths" "$(grep '^path\|^spool' "$tmp/etc/intake/intake.conf")"; fi

echo "local = yes" >"$tmp/etc/intake/keep"
cp "$tmp/etc/intake/intake.conf" "$tmp/before"
printf '# edited by the operator\n' >>"$tmp/etc/intake/intake.conf"
make --no-print-directory -s -C "$top" install BUILD=build PREFIX="$tmp/usr" \
	SYSCONF="$tmp/etc/intake" DESTDIR= >/dev/null 2>&1
if grep -q "edited by the operator" "$tmp/etc/intake/intake.conf"; then ok "a second install keeps the operator's intake.conf"
else nok "reinstall overwrote intake.conf"; fi

"$tmp/usr/bin/intake" -c "$tmp/etc/intake/intake.conf" due --json 2026-09-30T10:00+08:00 >"$tmp/due" 2>&1
if grep -q '"acceptance_due": "2026-10-10T23:59:59+08:00"' "$tmp/due"; then
	ok "the installed binary runs with the installed configuration and calendar"
else nok "installed binary" "$(cat "$tmp/due")"; fi

make --no-print-directory -s -C "$top" install BUILD=build DESTDIR="$tmp/dest" \
	PREFIX=/usr SYSCONF=/etc/intake >"$tmp/log" 2>&1
if [ -x "$tmp/dest/usr/bin/intake" ] && grep -q "^ExecStart=/usr/bin/intake -c /etc/intake/intake.conf run" \
	"$tmp/dest/usr/lib/systemd/system/intake.service"; then
	ok "DESTDIR stages the tree without changing the paths in the unit"
else nok "DESTDIR install" "$(tail -5 "$tmp/log")"; fi
echo "1..$n"
