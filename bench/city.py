#!/usr/bin/env python3
"""A city and its districts at scale (issue #15, SPEC §4 desk bars, P11).

Makes a data dir with the city desk and D district desks, each with its first investigator,
seeds R synthetic released reports filed to each district with the development-only
`jianfu dev seed --desk` (each has a copy for its district and one for the city desk, as
real filings do), then for the city desk (D × R reports) and for one district desk (R
reports): unlock (the investigator's login, timed after a first login has boxed the reports
under the desk key), queue, a filter (set by POST, as the desk sets it) and statistics, 20
requests each, on loopback; and the server's memory.

Usage: python3 bench/city.py [--districts 6] [--reports 10000]
"""
import argparse, os, re, shutil, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desk import BIN, ROOT, request, rss_mib, serve  # noqa: E402

PASSWORD = "bench password 1"


def add_investigator(env, username, desk):
    subprocess.run([BIN, "user", "add", "--username", username, "--role", "investigator",
                    "--desk", desk, "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, check=True, stdout=subprocess.DEVNULL)


def login(port, username):
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD})
    resp, _, ms = request(port, "POST", "/staff/login", body)
    if resp.status != 303:
        sys.exit(f"login of {username}: {resp.status}")
    return resp.getheader("Set-Cookie").split(";")[0], ms


def wait_boxed(db_path, desk):
    """Until the desk's first session has stored its reports boxed under the desk key."""
    db = sqlite3.connect(db_path)
    start = time.perf_counter()
    query = ("SELECT count(*) FROM reports WHERE boxed = 'public' "
             "AND desk_id = (SELECT id FROM desks WHERE code = ?)")
    while db.execute(query, (desk,)).fetchone()[0]:
        if time.perf_counter() - start > 900:
            sys.exit("the desk boxes were never stored")
        time.sleep(0.2)
    db.close()


def timed(port, cookie, method, path, body=None, n=20):
    times = []
    for _ in range(n):
        resp, _, ms = request(port, method, path, body=body, cookie=cookie)
        if resp.status not in (200, 303):
            sys.exit(f"{path}: {resp.status}")
        times.append(ms)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def csrf_of(port, cookie):
    _, data, _ = request(port, "GET", "/staff/team", cookie=cookie)
    return re.search(rb'name="csrf" value="([0-9a-f]{64})"', data).group(1).decode()


def desk_figures(port, cookie):
    figures = {"queue": timed(port, cookie, "GET", "/staff/reports?tab=all")}
    body = urllib.parse.urlencode({"csrf": csrf_of(port, cookie), "tab": "all",
                                   "category": "certificate", "listed": "no"})
    request(port, "POST", "/staff/reports", body=body, cookie=cookie)
    figures["filter"] = timed(port, cookie, "GET", "/staff/reports?tab=all")
    figures["statistics"] = timed(port, cookie, "GET", "/staff/stats")
    return figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--districts", type=int, default=6)
    ap.add_argument("--reports", type=int, default=10_000, help="per district")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "jianfu"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="jianfu-city-bench-")
    data = os.path.join(work, "data")
    env = dict(os.environ, JIANFU_DATA_DIR=data, RUST_LOG="warn")
    server = None
    try:
        subprocess.run([BIN, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        add_investigator(env, "city1", "city")
        start = time.perf_counter()
        for d in range(1, args.districts + 1):
            code = f"d{d}"
            subprocess.run([BIN, "desk", "add", "--code", code, "--name", f"第{d}区委社会工作部"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            add_investigator(env, f"{code}user", code)
            subprocess.run([BIN, "dev", "seed", "--reports", str(args.reports), "--desk", code],
                           env=dict(env, JIANFU_DEV="1"), check=True, stderr=subprocess.DEVNULL)
        seed_secs = time.perf_counter() - start
        server, port = serve(env)
        rows = []
        for name, user, desk, count in [("city desk", "city1", "city", args.districts * args.reports),
                                        ("one district desk", "d1user", "d1", args.reports)]:
            _, first_ms = login(port, user)
            wait_boxed(os.path.join(data, "jianfu.db"), desk)
            cookie, unlock_ms = login(port, user)
            figures = desk_figures(port, cookie)
            rows.append((name, count, first_ms, unlock_ms, figures))
            print(name, count, f"unlock {unlock_ms:.0f} ms", figures, flush=True)
        rss = rss_mib(server.pid)
        print()
        print(f"| {args.districts} districts × {args.reports:,} reports "
              f"({time.strftime('%Y-%m-%d')}, `python3 bench/city.py`) | city desk | one district desk | bar |")
        print("|---|---|---|---|")
        (_, c_n, c_first, c_unlock, c_f), (_, d_n, d_first, d_unlock, d_f) = rows
        print(f"| reports it reads | {c_n:,} | {d_n:,} | |")
        print(f"| first unlock after the release (X25519 per report) | {c_first / 1000:.2f} s | {d_first / 1000:.2f} s | |")
        ok = lambda ms, bar: "✓" if ms <= bar else "✗"
        print(f"| unlock (login, every report opened) | {c_unlock / 1000:.2f} s | {d_unlock / 1000:.2f} s "
              f"| ≤ 5 s {ok(max(c_unlock, d_unlock), 5000)} |")
        for page in ("queue", "filter", "statistics"):
            worst = max(c_f[page][1], d_f[page][1])
            print(f"| {page} p50 / p95 | {c_f[page][0]:.1f} / {c_f[page][1]:.1f} ms "
                  f"| {d_f[page][0]:.1f} / {d_f[page][1]:.1f} ms | ≤ 50 ms {ok(worst, 50)} |")
        print(f"| server memory (RSS), both sessions unlocked | {rss:.0f} MiB | | |")
        print(f"| seeding (development only) | {seed_secs:.0f} s | | |")
    finally:
        if server:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
