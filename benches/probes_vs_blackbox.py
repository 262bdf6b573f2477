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
N/10 times against the same target, compared by median with ondeck's JSON timings.

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


def main():
    for tool in ["openssl", "curl", "prometheus-blackbox-exporter"]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not installed")
    if not os.path.exists(ONDECK):
        raise SystemExit(f"{ONDECK} missing: cargo build --release first")
    d = tempfile.mkdtemp(prefix="ondeck-bb-")
    key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "2",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
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
        ratio = od_cpu / bb_cpu if bb_cpu > 0 else float("inf")
        print(f"ratio ondeck/blackbox: {ratio:.2f} (target <= 0.5)")

        # curl -w vs ondeck phases, medians over n runs each.
        n = max(10, N // 10)
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
        for k in curl:
            a, b = statistics.median(curl[k]), statistics.median(od[k])
            ok = abs(a - b) <= 1.0 + 0.1 * max(a, b)
            agree &= ok
            print(f"  {k:8} curl {a:8.3f} ms  ondeck {b:8.3f} ms  {'ok' if ok else 'DIFFERS'}")
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
