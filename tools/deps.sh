#!/bin/sh
# Installs the Debian packages intake needs to build, test and run the demo,
# only those missing. Non-interactive; needs root (CI runs as root).
set -e
PKGS="build-essential pkg-config libgmime-3.0-dev libglib2.0-dev libcurl4-openssl-dev libssl-dev
libmagic-dev libsqlite3-dev libuv1-dev libxml2-dev libcmocka-dev libzip-dev sqlite3
clang libclang-rt-14-dev dovecot-imapd python3 python3-aiosmtpd openssl tzdata
tesseract-ocr tesseract-ocr-chi-sim poppler-utils poppler-data libtiff-tools valgrind isync bc fonts-wqy-microhei jq time
ocrmypdf"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
