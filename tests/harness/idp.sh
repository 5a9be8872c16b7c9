# A stand-in for an OAuth2 identity provider (tests/harness/idp_standin.py):
# the token validation endpoint Dovecot's oauth2 passdb asks, on 127.0.0.1.
# Source it from sh in the repository's top folder (as tests/run.sh runs the
# tests), then:
#   idp_start DIR       start it; sets IDP_URL (the tokeninfo URL, to which the
#                       token is appended), IDP_TOKENS (the file of good tokens,
#                       "TOKEN USER" a line, read at every request) and IDP_LOG
#                       (one line a request: method, path, status, user)
#   idp_allow TOKEN USER   make TOKEN the one good token, for USER
#   idp_stop            stop it (safe to call twice)

IDP_PID=""
IDP_URL=""
IDP_TOKENS=""
IDP_LOG=""

idp_start() { # dir
	mkdir -p "$1"
	IDP_TOKENS=$1/tokens
	IDP_LOG=$1/requests.log
	: >"$IDP_TOKENS"
	: >"$IDP_LOG"
	rm -f "$1/port"
	/usr/bin/python3 "$(pwd)/tests/harness/idp_standin.py" "$IDP_TOKENS" "$1/port" "$IDP_LOG" \
		2>"$1/stderr" &
	IDP_PID=$!
	i=0
	while [ ! -s "$1/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1/port" ] || { echo "# idp_standin did not start:" >&2; sed 's/^/# /' "$1/stderr" >&2; return 1; }
	IDP_URL="http://127.0.0.1:$(cat "$1/port")/tokeninfo?access_token="
}

idp_allow() { # token user
	printf '%s %s\n' "$1" "$2" >"$IDP_TOKENS.tmp" && mv "$IDP_TOKENS.tmp" "$IDP_TOKENS"
}

idp_stop() {
	[ -n "$IDP_PID" ] || return 0
	kill "$IDP_PID" 2>/dev/null
	wait "$IDP_PID" 2>/dev/null
	IDP_PID=""
	return 0
}
