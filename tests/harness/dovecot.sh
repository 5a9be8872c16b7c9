# A private Dovecot for the integration tests and benchmarks: IMAP on
# 127.0.0.1 (plaintext + STARTTLS, and IMAPS) at free ports, its own
# configuration, certificate, users and Maildirs under one temporary folder.
# Source it from sh, then:
#   dovecot_start DIR          start; sets DOVECOT_PORT, DOVECOT_SPORT (imaps),
#                              DOVECOT_CA (the self-signed certificate), DOVECOT_DIR
#   dovecot_stop               stop it (safe to call twice, or when it died)
#   dovecot_deliver USER FILE [EPOCH] [FOLDER]
#                              put a message into USER's INBOX (or FOLDER), with
#                              INTERNALDATE = EPOCH (the Maildir file's mtime)
#   dovecot_maildir USER [FOLDER]   the Maildir of a folder
#   dovecot_adm ARGS...        doveadm against this instance
# Certificates issued for another name (host name checks), after dovecot_start:
#   dovecot_start_alt NAME SAN start a second instance NAME (a word) on the same
#                              users and Maildirs, at its own free ports, serving
#                              a certificate whose only subjectAltName is SAN
#                              (e.g. "DNS:mail.other.example"), issued by a test
#                              CA; sets DOVECOT_ALT_PORT (plaintext + STARTTLS),
#                              DOVECOT_ALT_SPORT (imaps) and DOVECOT_ALT_CA (the
#                              CA, to give as tls_ca_file) and DOVECOT_ALT_DIR
#                              (its folder: dovecot.log) for that instance
#   dovecot_stop_alt [NAME]    stop it (every one without NAME); dovecot_stop
#                              stops them too
# Instances with other settings, after dovecot_start:
#   dovecot_start_with NAME <<EOF  start a second instance NAME (a word) on the
#                              same users, Maildirs and certificate, with the
#                              settings on stdin added last (later settings win;
#                              a passdb { } block is added to the first one's);
#                              sets DOVECOT_ALT_PORT, DOVECOT_ALT_SPORT,
#                              DOVECOT_ALT_CA (= DOVECOT_CA) and DOVECOT_ALT_DIR;
#                              dovecot_stop_alt NAME stops it
# Users: alice, bob, carol; the password of each is "NAME-secret".
# Dovecot refuses uid 0 for mail: mail processes run as nobody:nogroup.

DOVECOT_DIR=""
DOVECOT_PORT=""
DOVECOT_SPORT=""
DOVECOT_CA=""
DOVECOT_ALT_PORT=""
DOVECOT_ALT_SPORT=""
DOVECOT_ALT_CA=""
DOVECOT_ALT_DIR=""
dovecot__alts=""

dovecot__free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dovecot__wait_port() { # port tries
	/usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, tries = int(sys.argv[1]), int(sys.argv[2])
for _ in range(tries):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

dovecot__cert() { # dir
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
}

dovecot__config() { # dir
	d=$1
	dh=""
	[ -r /usr/share/dovecot/dh.pem ] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
$dh
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$d/mail/%u
mail_uid = nobody
mail_gid = nogroup
mail_fsync = never
default_login_user = dovenull
default_internal_user = dovecot
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_SPORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
protocol imap {
  mail_max_userip_connections = 50
}
CONF
}

dovecot_maildir() { # user [folder]
	if [ -z "${2:-}" ] || [ "$2" = INBOX ]; then
		echo "$DOVECOT_DIR/mail/$1"
	else
		echo "$DOVECOT_DIR/mail/$1/.$2"
	fi
}

dovecot__mkmaildir() { # path
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	chown -R nobody:nogroup "$DOVECOT_DIR/mail"
}

dovecot_start() { # dir
	DOVECOT_DIR=$1
	mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/mail" "$DOVECOT_DIR/home"
	DOVECOT_PORT=$(dovecot__free_port)
	DOVECOT_SPORT=$(dovecot__free_port)
	while [ "$DOVECOT_SPORT" = "$DOVECOT_PORT" ]; do DOVECOT_SPORT=$(dovecot__free_port); done
	dovecot__cert "$DOVECOT_DIR" || { echo "# dovecot: openssl failed" >&2; return 1; }
	DOVECOT_CA=$DOVECOT_DIR/cert.pem
	: >"$DOVECOT_DIR/users"
	for u in alice bob carol; do
		echo "$u:{PLAIN}$u-secret" >>"$DOVECOT_DIR/users"
		mkdir -p "$DOVECOT_DIR/home/$u"
		dovecot__mkmaildir "$DOVECOT_DIR/mail/$u"
	done
	chown -R nobody:nogroup "$DOVECOT_DIR/home"
	dovecot__config "$DOVECOT_DIR"
	chmod 755 "$DOVECOT_DIR"
	chmod a+x "$(dirname "$DOVECOT_DIR")"   # mktemp -d makes 0700; dovecot's users must pass
	dovecot -c "$DOVECOT_DIR/dovecot.conf" || { echo "# dovecot failed to start:" >&2; \
		sed 's/^/# /' "$DOVECOT_DIR/dovecot.log" >&2; return 1; }
	dovecot__wait_port "$DOVECOT_PORT" 100 && dovecot__wait_port "$DOVECOT_SPORT" 100 || {
		echo "# dovecot does not listen on $DOVECOT_PORT" >&2; return 1; }
	export DOVECOT_DIR DOVECOT_PORT DOVECOT_SPORT DOVECOT_CA
}

# Starts it again on the same ports and folders, after dovecot_stop.
dovecot_restart() {
	dovecot -c "$DOVECOT_DIR/dovecot.conf" && dovecot__wait_port "$DOVECOT_PORT" 100
}

dovecot_stop() {
	if [ -n "$dovecot__alts" ]; then dovecot_stop_alt; fi
	[ -n "$DOVECOT_DIR" ] || return 0
	pidf="$DOVECOT_DIR/run/master.pid"
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill "$pid" 2>/dev/null || { rm -f "$pidf"; return 0; }
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$pid" 2>/dev/null
	rm -f "$pidf"
	return 0
}

dovecot_adm() {
	doveadm -c "$DOVECOT_DIR/dovecot.conf" "$@"
}

dovecot__seq=0
dovecot_deliver() { # user file [epoch] [folder]
	md=$(dovecot_maildir "$1" "${4:-}")
	[ -d "$md/new" ] || dovecot__mkmaildir "$md"
	dovecot__seq=$((dovecot__seq + 1))
	name="$(date +%s).M${dovecot__seq}P$$.harness"
	cp "$2" "$md/tmp/$name"
	[ -n "${3:-}" ] && touch -d "@$3" "$md/tmp/$name"
	chown nobody:nogroup "$md/tmp/$name"
	mv "$md/tmp/$name" "$md/new/$name"
}

# --- second instances with a certificate for another name ---------------------

dovecot__ca() { # dir: a test CA (EC P-256: cheap), made once
	[ -s "$1/ca.pem" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=intake test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$1/ca.key" -out "$1/ca.pem" >/dev/null 2>&1
}

dovecot__leaf() { # dir san cadir: key.pem, cert.pem for SAN only, signed by the CA
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$2" >"$1/ext.cnf"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=intake test server" -keyout "$1/key.pem" -out "$1/req.pem" >/dev/null 2>&1 &&
	openssl x509 -req -in "$1/req.pem" -days 2 -CA "$3/ca.pem" -CAkey "$3/ca.key" \
		-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
		-extfile "$1/ext.cnf" -out "$1/cert.pem" >/dev/null 2>&1
}

dovecot_start_alt() { # name san
	[ -n "$DOVECOT_DIR" ] || { echo "# dovecot_start_alt: dovecot_start first" >&2; return 1; }
	dovecot__a=$DOVECOT_DIR/alt-$1
	mkdir -p "$dovecot__a"
	dovecot__ca "$DOVECOT_DIR" || { echo "# dovecot: openssl (CA) failed" >&2; return 1; }
	dovecot__leaf "$dovecot__a" "$2" "$DOVECOT_DIR" || { echo "# dovecot: openssl ($2) failed" >&2; return 1; }
	# A here-document, not a pipe: the function must run in this shell.
	dovecot_start_with "$1" <<CONF || return 1
ssl_cert = <$dovecot__a/cert.pem
ssl_key = <$dovecot__a/key.pem
CONF
	DOVECOT_ALT_CA=$DOVECOT_DIR/ca.pem
	export DOVECOT_ALT_CA
}

dovecot_start_with() { # name, settings on stdin
	[ -n "$DOVECOT_DIR" ] || { echo "# dovecot_start_with: dovecot_start first" >&2; return 1; }
	dovecot__a=$DOVECOT_DIR/alt-$1
	mkdir -p "$dovecot__a/run" "$dovecot__a/state"
	dovecot__p=$(dovecot__free_port)
	dovecot__sp=$(dovecot__free_port)
	while [ "$dovecot__sp" = "$dovecot__p" ]; do dovecot__sp=$(dovecot__free_port); done
	# The first instance's configuration (users, Maildirs, TLS settings), with
	# this one's folders and ports, then the caller's; later settings win.
	{
		cat <<CONF
!include $DOVECOT_DIR/dovecot.conf
base_dir = $dovecot__a/run
state_dir = $dovecot__a/state
log_path = $dovecot__a/dovecot.log
service imap-login {
  inet_listener imap {
    port = $dovecot__p
  }
  inet_listener imaps {
    port = $dovecot__sp
  }
}
CONF
		cat
	} >"$dovecot__a/dovecot.conf"
	dovecot -c "$dovecot__a/dovecot.conf" || { echo "# dovecot $1 failed to start:" >&2; \
		sed 's/^/# /' "$dovecot__a/dovecot.log" >&2; return 1; }
	dovecot__alts="$dovecot__alts $1"
	dovecot__wait_port "$dovecot__p" 100 && dovecot__wait_port "$dovecot__sp" 100 || {
		echo "# dovecot $1 does not listen on $dovecot__p" >&2; return 1; }
	DOVECOT_ALT_PORT=$dovecot__p
	DOVECOT_ALT_SPORT=$dovecot__sp
	DOVECOT_ALT_CA=$DOVECOT_CA
	DOVECOT_ALT_DIR=$dovecot__a
	export DOVECOT_ALT_PORT DOVECOT_ALT_SPORT DOVECOT_ALT_CA DOVECOT_ALT_DIR
}

dovecot_stop_alt() { # [name]: all are signalled first, then waited for
	dovecot__pids=""
	for dovecot__a in ${1:-$dovecot__alts}; do
		dovecot__pidf="$DOVECOT_DIR/alt-$dovecot__a/run/master.pid"
		if [ -f "$dovecot__pidf" ]; then
			dovecot__pid=$(cat "$dovecot__pidf")
			kill "$dovecot__pid" 2>/dev/null && dovecot__pids="$dovecot__pids $dovecot__pid"
			rm -f "$dovecot__pidf"
		fi
		dovecot__rest=""
		for dovecot__b in $dovecot__alts; do
			[ "$dovecot__b" = "$dovecot__a" ] || dovecot__rest="$dovecot__rest $dovecot__b"
		done
		dovecot__alts=$dovecot__rest
	done
	for dovecot__pid in $dovecot__pids; do
		dovecot__i=0
		while kill -0 "$dovecot__pid" 2>/dev/null && [ $dovecot__i -lt 50 ]; do
			sleep 0.1
			dovecot__i=$((dovecot__i + 1))
		done
		kill -9 "$dovecot__pid" 2>/dev/null
	done
	return 0
}
