#!/usr/bin/python3
"""A private SMTP server for the notice tests: Python's aiosmtpd (Debian
python3-aiosmtpd) on 127.0.0.1 at a free port, delivering every accepted
message into a Maildir that the test reads back.

    /usr/bin/python3 tests/harness/smtp.py STATE_DIR [--tls] [--user U --password P]
                     [--maildir DIR] [--no-fsync]

STATE_DIR gets:
    port          the port, written once the server listens
    Maildir/      one file per accepted message (new/); with --maildir DIR
                  the messages go into DIR (e.g. a Maildir that the test
                  Dovecot serves, tests/harness/dovecot.sh dovecot_maildir)
                  and STATE_DIR/Maildir is a symbolic link to it
    mode          read at every transaction; the test writes it to switch:
                    accept      take the message (default)
                    fake-451    FAKE of a temporary failure: answer
                                "451 4.3.0" to DATA, deliver nothing
                    fake-drop   FAKE of a broken connection: close the
                                connection when the client sends DATA
                    hold-reply [SECONDS]
                                FAKE of a slow server (a delay injected
                                by the harness): the delivery is real, the
                                message is stored (and logged "hold-reply")
                                at once, but the "250" is sent only after
                                SECONDS (default 10): the window in which a
                                client killed has sent a notice it never
                                heard was delivered
    connections   one line per connection accepted (to see reuse)
    log           one line per transaction: mode, from, to, reply (for
                  hold-reply a second one: "answered", or "cut" when the
                  client went before the reply)
With --tls it offers STARTTLS with a self-signed certificate for
IP:127.0.0.1 (STATE_DIR/cert.pem, made with openssl if missing) and refuses
mail before STARTTLS. With --user/--password it requires AUTH (PLAIN or
LOGIN), which aiosmtpd allows only after STARTTLS.
--no-fsync (benchmarks only) stores each message without the fsync that
Python's mailbox does for every message: same files, same Maildir layout,
not durable across a crash of the machine.
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
import time

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


# The wait of hold-reply without SECONDS.
HOLD_DEFAULT_S = 10.0


class Handler:
    def __init__(self, state, maildir=None, fsync=True):
        self.state = state
        self.path = maildir or os.path.join(state, "Maildir")
        self.maildir = mailbox.Maildir(self.path, create=True)
        self.fsync = fsync
        self.seq = 0

    def mode(self):
        """The mode word and its argument (or None) from STATE_DIR/mode."""
        try:
            with open(os.path.join(self.state, "mode")) as f:
                words = f.read().split()
        except FileNotFoundError:
            words = []
        return (words[0] if words else "accept", words[1] if len(words) > 1 else None)

    def store(self, data):
        """Delivers one message into the Maildir (tmp/, then new/)."""
        if self.fsync:
            self.maildir.add(data)
            return
        self.seq += 1
        name = "%d.M%dP%d.harness" % (time.time(), self.seq, os.getpid())
        tmp = os.path.join(self.path, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.path, "new", name))

    def log(self, line):
        with open(os.path.join(self.state, "log"), "a") as f:
            f.write(line + "\n")

    async def handle_DATA(self, server, session, envelope):
        mode, arg = self.mode()
        who = "%s -> %s" % (envelope.mail_from, ",".join(envelope.rcpt_tos))
        if mode == "fake-451":
            self.log("fake-451 %s" % who)
            return "451 4.3.0 fake temporary failure (test harness)"
        if mode == "fake-drop":
            self.log("fake-drop %s" % who)
            server.transport.close()
            return "421 4.4.2 fake dropped connection (test harness)"
        self.store(envelope.original_content)
        if mode == "hold-reply":
            self.log("hold-reply %s" % who)
            try:
                await asyncio.sleep(float(arg) if arg else HOLD_DEFAULT_S)
            except asyncio.CancelledError:
                self.log("hold-reply cut: the client went before the reply %s" % who)
                raise
            self.log("hold-reply answered %s" % who)
        else:
            self.log("accept %s" % who)
        return "250 2.0.0 delivered"


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok)


async def serve(args):
    handler = Handler(args.state, maildir=args.maildir, fsync=not args.no_fsync)
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
    p.add_argument("--maildir")
    p.add_argument("--no-fsync", action="store_true")
    args = p.parse_args()
    os.makedirs(args.state, exist_ok=True)
    if args.maildir:
        args.maildir = os.path.abspath(args.maildir)
        link = os.path.join(args.state, "Maildir")
        if not os.path.lexists(link):
            os.symlink(args.maildir, link)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
