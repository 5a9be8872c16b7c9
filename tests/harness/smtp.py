#!/usr/bin/python3
"""A private SMTP server for the notice tests: Python's aiosmtpd (Debian
python3-aiosmtpd) on 127.0.0.1 at a free port, delivering every accepted
message into a Maildir that the test reads back.

    /usr/bin/python3 tests/harness/smtp.py STATE_DIR [--tls] [--user U --password P]

STATE_DIR gets:
    port          the port, written once the server listens
    Maildir/      one file per accepted message (new/)
    mode          read at every transaction; the test writes it to switch:
                    accept      take the message (default)
                    fake-451    FAKE of a temporary failure: answer
                                "451 4.3.0" to DATA, deliver nothing
                    fake-drop   FAKE of a broken connection: close the
                                connection when the client sends DATA
    connections   one line per connection accepted (to see reuse)
    log           one line per transaction: mode, from, to, reply
With --tls it offers STARTTLS with a self-signed certificate for
IP:127.0.0.1 (STATE_DIR/cert.pem, made with openssl if missing) and refuses
mail before STARTTLS. With --user/--password it requires AUTH (PLAIN or
LOGIN), which aiosmtpd allows only after STARTTLS.
Stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import mailbox
import os
import signal
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult


def make_cert(state):
    cert = os.path.join(state, "cert.pem")
    key = os.path.join(state, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert,
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


class Handler:
    def __init__(self, state):
        self.state = state
        self.maildir = mailbox.Maildir(os.path.join(state, "Maildir"), create=True)

    def mode(self):
        try:
            with open(os.path.join(self.state, "mode")) as f:
                return f.read().strip() or "accept"
        except FileNotFoundError:
            return "accept"

    def log(self, line):
        with open(os.path.join(self.state, "log"), "a") as f:
            f.write(line + "\n")

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        who = "%s -> %s" % (envelope.mail_from, ",".join(envelope.rcpt_tos))
        if mode == "fake-451":
            self.log("fake-451 %s" % who)
            return "451 4.3.0 fake temporary failure (test harness)"
        if mode == "fake-drop":
            self.log("fake-drop %s" % who)
            server.transport.close()
            return "421 4.4.2 fake dropped connection (test harness)"
        self.maildir.add(envelope.original_content)
        self.log("accept %s" % who)
        return "250 2.0.0 delivered"


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok)


async def serve(args):
    handler = Handler(args.state)
    tls = make_cert(args.state) if args.tls else None
    auth = Authenticator(args.user, args.password) if args.user else None

    def factory():
        with open(os.path.join(args.state, "connections"), "a") as f:
            f.write("connection\n")
        return SMTP(handler, hostname="harness.test", tls_context=tls,
                    require_starttls=tls is not None, authenticator=auth,
                    auth_required=auth is not None, auth_require_tls=True,
                    decode_data=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = os.path.join(args.state, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(args.state, "port"))
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("state")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    args = p.parse_args()
    os.makedirs(args.state, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
