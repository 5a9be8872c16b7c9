#!/usr/bin/python3
"""A stand-in for an OAuth2 identity provider, for the integration tests only:
the token validation ("tokeninfo") endpoint that Dovecot's oauth2 passdb asks
whether a bearer token is good. Listens on 127.0.0.1 at a free port.

  GET /tokeninfo?access_token=TOKEN
      200 {"username": USER, "active": "true"}  when TOKEN is in TOKENS_FILE
      401 {"error": "invalid_token"}            for any other token

TOKENS_FILE has one "TOKEN USER" per line; it is read again at every request,
so a test can change which token is good while the server runs.
Usage: idp_standin.py TOKENS_FILE PORT_FILE LOG_FILE
(the port is written to PORT_FILE once it listens; one line per request,
without the token, goes to LOG_FILE)."""
import http.server
import json
import os
import sys
import urllib.parse

tokens_file, port_file, log_file = sys.argv[1:4]


def user_of(token):
    with open(tokens_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0] == token:
                return parts[1]
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        token = urllib.parse.parse_qs(url.query).get("access_token", [""])[0]
        user = user_of(token) if url.path == "/tokeninfo" else None
        if user is not None:
            code, body = 200, {"username": user, "active": "true"}
        else:
            code, body = 401, {"error": "invalid_token"}
        with open(log_file, "a") as log:
            log.write("%s %s %d %s\n" % (self.command, url.path, code,
                                         user if user else "refused"))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
