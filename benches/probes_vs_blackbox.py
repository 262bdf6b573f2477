#!/usr/bin/env python3
"""CPU per HTTPS probe: ondeck vs prometheus-blackbox-exporter, side by side; and ondeck's
phase timings vs curl -w on the same target.

Target: `openssl s_server -www` on 127.0.0.1 with an ECDSA P-256 certificate, TLS 1.3, a new
connection per probe. Each side probes it N times (default 300):
- blackbox_exporter: its /probe endpoint driven N times (module `https`, CA file given); its
  CPU is read from /proc/PID/stat before and after.
- ondeck: `ondeck check --only probes --attempts N` with one [[probes]] of the same URL; its
  CPU (user + system) from the child's rusage, startup included.
Then curl -w (time_namelookup, time_connect, time_appconnect, time_starttransfer, time_total)
N/10 times against the same target, compared by median with ondeck's JSON timings (shown; there
the TLS phase is mostly each client's own handshake CPU), and against a Python TLS server that
waits 20 ms before its ServerHello and 30 ms before its response (the verdict: both clients must
put those delays in the same phases).

Run: cargo build --release && python3 benches/probes_vs_blackbox.py [N]
Needs: openssl, curl, prometheus-blackbox-exporter (apt-get install prometheus-blackbox-exporter).
Targets (the issue's): ondeck CPU per probe <= 0.5x blackbox's; phase medians within 1 ms + 10%.
"""

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONDECK = os.environ.get("ONDECK", os.path.join(ROOT, "target", "release", "ondeck"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, secs=20):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


DELAYED_SERVER = r"""
import socket, ssl, sys, threading, time
leaf, key, port, tls_delay, hdr_delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(leaf, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
def handle(c):
    try:
        time.sleep(tls_delay)  # the ServerHello waits: the TLS phase grows by this much
        s = ctx.wrap_socket(c, server_side=True)
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(4096)
            if not d:
                return
            got += d
        time.sleep(hdr_delay)  # time to first byte grows by this much
        s.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n")
        s.close()
    except Exception:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"""


def compare_phases(target, cert, env, n, config_path, label):
    """Medians of curl -w and of ondeck's JSON timings over n runs each against target."""
    with open(config_path, "w") as f:
        f.write(f'[[probes]]\nname = "bench"\nurl = "{target}"\nca_file = "{cert}"\n')
    fmt = "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}"
    curl = {k: [] for k in ["dns", "connect", "tls", "headers", "total"]}
    for _ in range(n):
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", cert, "-w", fmt, target],
                           capture_output=True, text=True, check=True)
        dns, con, app, start, total = (float(x) * 1000 for x in r.stdout.split())
        curl["dns"].append(dns)
        curl["connect"].append(con - dns)
        curl["tls"].append(app - con)
        curl["headers"].append(start - app)
        curl["total"].append(total)
    od = {k: [] for k in curl}
    for _ in range(n):
        out = subprocess.run([ONDECK, "check", "--only", "probes", "--json"], env=env,
                             capture_output=True, text=True)
        t = json.loads(out.stdout)["probes"][0]["timings_ms"]
        for k in od:
            od[k].append(t.get(k) or 0.0)
    agree = True
    print(f"phase medians, {label} ({n} runs each):")
    for k in curl:
        a, b = statistics.median(curl[k]), statistics.median(od[k])
        ok = abs(a - b) <= 1.0 + 0.1 * max(a, b)
        agree &= ok
        print(f"  {k:8} curl {a:8.3f} ms  ondeck {b:8.3f} ms  {'ok' if ok else 'DIFFERS'}")
    print(f"  within 1 ms + 10%: {agree}")
    return agree


def main():
    for tool in ["openssl", "curl", "prometheus-blackbox-exporter"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not installed")
    if not os.path.exists(ONDECK):
        raise SystemExit(f"{ONDECK} missing: cargo build --release first")
    d = tempfile.mkdtemp(prefix="ondeck-bb-")
    # A CA and an ECDSA P-256 leaf it signs (a self-signed leaf is a CA certificate, which
    # webpki refuses as an end entity).
    ca_key, cert = os.path.join(d, "ca-k.pem"), os.path.join(d, "ca.pem")
    key, csr, leaf = (os.path.join(d, n) for n in ("k.pem", "leaf.csr", "leaf.pem"))
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", ca_key, "-out", cert, "-subj", "/CN=bench-ca", "-days", "2")
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", cert, "-CAkey", ca_key, "-CAcreateserial",
        "-out", leaf, "-days", "2", "-extfile", ext)
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", leaf, "-key", key,
         "-www", "-tls1_3", "-quiet", "-naccept", str(10 * N + 100)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [server]
    try:
        wait_port(port)
        target = f"https://127.0.0.1:{port}/"

        # blackbox_exporter
        bb_port = free_port()
        bb_cfg = os.path.join(d, "bb.yml")
        with open(bb_cfg, "w") as f:
            f.write(
                "modules:\n  https:\n    prober: http\n    timeout: 5s\n    http:\n"
                "      preferred_ip_protocol: ip4\n      valid_status_codes: [200]\n"
                f"      tls_config:\n        ca_file: {cert}\n")
        bb = subprocess.Popen(
            ["prometheus-blackbox-exporter", f"--config.file={bb_cfg}",
             f"--web.listen-address=127.0.0.1:{bb_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(bb)
        wait_port(bb_port)
        url = f"http://127.0.0.1:{bb_port}/probe?module=https&target={target}"
        urllib.request.urlopen(url, timeout=10).read()  # warm up
        c0 = proc_cpu(bb.pid)
        ok = 0
        for _ in range(N):
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            ok += "probe_success 1" in body
        bb_cpu = proc_cpu(bb.pid) - c0
        print(f"blackbox_exporter: {N} probes ({ok} ok), CPU {bb_cpu:.3f}s = {bb_cpu / N * 1000:.3f} ms/probe")

        # ondeck
        home = os.path.join(d, "home")
        os.makedirs(os.path.join(home, "config", "ondeck"))
        with open(os.path.join(home, "config", "ondeck", "config.toml"), "w") as f:
            f.write(f'[[probes]]\nname = "bench"\nurl = "{target}"\nca_file = "{cert}"\n')
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                   XDG_STATE_HOME=os.path.join(home, "state"))
        env.pop("KUBECONFIG", None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([ONDECK, "check", "--only", "probes", "--attempts", str(N), "--json"],
                             env=env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        od_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        row = json.loads(out.stdout)["probes"][0]
        print(f"ondeck: {N} probes (last ok: {row['ok']}, {row['attempts']} attempts), CPU {od_cpu:.3f}s "
              f"= {od_cpu / N * 1000:.3f} ms/probe (process start-up included)")
        if not row["ok"]:
            raise SystemExit(f"ondeck's probe failed: {row['error']}")
        ratio = od_cpu / bb_cpu if bb_cpu > 0 else float("inf")
        print(f"ratio ondeck/blackbox: {ratio:.2f} (target <= 0.5)")

        # curl -w vs ondeck phases, medians over n runs each: on the openssl target the TLS
        # phase is mostly each client's own handshake CPU (curl's OpenSSL 3 vs rustls), so it
        # is shown for information; the verdict is taken on a server whose TLS and header
        # phases are stretched by known delays (20 ms before the ServerHello, 30 ms before the
        # response), where both clients must attribute them to the same phases.
        n = max(10, N // 10)
        cfg_path = os.path.join(home, "config", "ondeck", "config.toml")
        compare_phases(target, cert, env, n, cfg_path, "openssl s_server (client crypto differs)")
        dport = free_port()
        delayed = subprocess.Popen(
            [sys.executable, "-c", DELAYED_SERVER, leaf, key, str(dport), "0.020", "0.030"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(delayed)
        wait_port(dport)
        agree = compare_phases(f"https://localhost:{dport}/healthz", cert, env, n, cfg_path,
                               "server with +20 ms TLS, +30 ms headers")
        print(f"phase timings agree with curl -w within 1 ms + 10%: {agree}")
        if ratio > 0.5 or not agree:
            sys.exit(1)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
