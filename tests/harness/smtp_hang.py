"""A stand-in for a hung SMTP server (a fake of a fault a real server cannot
be made to produce on demand): it accepts connections on 127.0.0.1, reads
whatever comes, and never answers, not even the greeting. Each connection
adds a line to DIR/connections.
Usage: smtp_hang.py DIR   (the port goes to DIR/port)"""
import os
import socket
import sys
import threading


def hold(conn):
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    while True:
        conn, peer = srv.accept()
        with open(os.path.join(out, "connections"), "a") as f:
            f.write("%s:%d\n" % peer)
        threading.Thread(target=hold, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
