#!/usr/bin/env python3
"""A flood of logins (issue #11, SPEC P9 and §4): waves of 300 concurrent POSTs to
/staff/login with random usernames against the release binary on loopback, while a reporter
opens the entry page every 20 ms. Reports the server's peak resident memory (VmHWM), the
share of logins answered 503 (beyond the password gate's bound), the login and entry-page
latencies, and whether a real investigator can still sign in between waves.

Usage: python3 bench/logins.py [--waves 5] [--concurrency 300]
(uses $CARGO_TARGET_DIR/release/jianfu, or target/release/jianfu, building it first)
"""
import argparse, http.client, os, re, secrets, shutil, socket, statistics, subprocess, sys, tempfile, threading, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "jianfu")
PASSWORD = "bench password 1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    return resp.status, data, elapsed


def status_kib(pid, field):
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(field + r":\s+(\d+)", status).group(1))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--waves", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=300)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "jianfu"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="jianfu-login-bench-")
    env = dict(os.environ, JIANFU_DATA_DIR=os.path.join(work, "data"), RUST_LOG="warn")
    server = None
    try:
        subprocess.run([BIN, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        for name, role in [("desk", "investigator"), ("admin", "admin")]:
            subprocess.run([BIN, "user", "add", "--username", name, "--role", role, "--password-stdin"],
                           input=PASSWORD + "\n", text=True, env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                request(port, "GET", "/")
                break
            except OSError:
                time.sleep(0.05)
        baseline = status_kib(server.pid, "VmHWM")

        flooding = threading.Event()
        flooding.set()
        entry = []

        def reporter():
            while flooding.is_set():
                status, _, ms = request(port, "GET", "/")
                entry.append((status, ms))
                time.sleep(0.02)

        statuses, latencies, desk_logins = {}, {}, []
        rt = threading.Thread(target=reporter)
        rt.start()
        flood_secs = 0.0
        for wave in range(args.waves):
            barrier = threading.Barrier(args.concurrency)
            results = [None] * args.concurrency

            def login(i):
                body = urllib.parse.urlencode({"username": f"f{wave}x{i}x{secrets.token_hex(4)}",
                                               "password": secrets.token_hex(8)})
                barrier.wait()
                results[i] = request(port, "POST", "/staff/login", body)

            threads = [threading.Thread(target=login, args=(i,)) for i in range(args.concurrency)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            flood_secs += time.perf_counter() - start
            for status, _, ms in results:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.setdefault(status, []).append(ms)
            # Between waves a real investigator signs in (Argon2id 19 MiB + 64 MiB unwrap).
            status, _, ms = request(port, "POST", "/staff/login",
                                    urllib.parse.urlencode({"username": "desk", "password": PASSWORD}))
            desk_logins.append((status, ms))
        flooding.clear()
        rt.join()
        peak = status_kib(server.pid, "VmHWM")
        now = status_kib(server.pid, "VmRSS")
        total = sum(statuses.values())
        print(f"{args.waves} waves × {args.concurrency} concurrent logins with random usernames, "
              f"{time.strftime('%Y-%m-%d')}")
        print(f"| figure | value |")
        print(f"|---|---|")
        print(f"| server peak RSS (VmHWM) before / after the flood | {baseline / 1024:.1f} / {peak / 1024:.1f} MiB |")
        print(f"| server RSS after the flood | {now / 1024:.1f} MiB |")
        for status in sorted(statuses):
            lat = latencies[status]
            print(f"| answered {status} | {statuses[status]} of {total} ({100 * statuses[status] / total:.1f} %), "
                  f"p50 {statistics.median(lat):.1f} ms, p99 {pct(lat, 99):.1f} ms |")
        print(f"| logins evaluated (401) per wave, of {args.concurrency} | {statuses.get(401, 0) / args.waves:.1f} |")
        print(f"| one wave, first request to last answer (mean) | {1000 * flood_secs / args.waves:.0f} ms |")
        es = [ms for _, ms in entry]
        print(f"| entry page during the flood: requests / non-200 / p50 / p99 / max | {len(es)} / "
              f"{sum(1 for s, _ in entry if s != 200)} / {statistics.median(es):.1f} / {pct(es, 99):.1f} / {max(es):.1f} ms |")
        print(f"| investigator sign-in between waves: statuses / median | "
              f"{sorted(set(s for s, _ in desk_logins))} / {statistics.median(ms for _, ms in desk_logins):.0f} ms |")
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
