#!/usr/bin/env python3
"""Holds COUNT TCP sockets in CLOSE_WAIT on loopback for the sockets benchmarks.

usage: cw_holder.py COUNT [BIND_IP]
Creates a listener on BIND_IP (default 127.0.0.1) port 0, connects COUNT clients, accepts them
and closes the clients (their FIN leaves the accepted sockets in CLOSE_WAIT). Prints
"READY <port> <count>" on stdout, then holds the sockets until stdin reaches EOF.
One process holds at most ~19,000 (the fd limit here is 20,000): start several for more.

The closed clients linger as orphaned FIN_WAIT2 sockets for tcp_fin_timeout (60 s). So that the
machine holds just the CLOSE_WAIT sockets (the situation being measured), they are destroyed
with `ss -K` (SOCK_DESTROY, needs CAP_NET_ADMIN) filtered on this listener's port only; if that
fails they are left to expire and a note goes to stderr. CW_HOLDER_KEEP_FIN_WAIT2=1 keeps them.
"""
import os
import socket
import subprocess
import sys


def main():
    count = int(sys.argv[1])
    ip = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind((ip, 0))
    lst.listen(4096)
    port = lst.getsockname()[1]
    held = []
    batch = 512
    made = 0
    # Clients bind explicit ports on a source address of their own (unique per listener port):
    # connect()'s ephemeral-port search slows to milliseconds per connection once tens of
    # thousands of loopback ports are taken.
    src = f"127.200.{port >> 8}.{port & 0xff}" if ip.startswith("127.") else ip
    next_port = 1024
    while made < count:
        n = min(batch, count - made)
        clients = []
        for _ in range(n):
            while True:
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    c.bind((src, next_port))
                    next_port += 1
                    break
                except OSError:
                    c.close()
                    next_port += 1
                    if next_port > 65535:
                        raise
            c.connect((ip, port))
            clients.append(c)
        for _ in range(n):
            s, _ = lst.accept()
            held.append(s)
        for c in clients:
            c.close()
        made += n
    if os.environ.get("CW_HOLDER_KEEP_FIN_WAIT2") != "1":
        try:
            subprocess.run(
                ["ss", "-K", "-tn", "state", "fin-wait-2", f"( dport = :{port} )"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            print(f"cw_holder: could not destroy FIN_WAIT2 clients: {e}", file=sys.stderr)
    print(f"READY {port} {made}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
