#!/usr/bin/env python3
"""Rotating the desk key at scale (issue #10, P5): seeds N synthetic released reports with the
development-only `jianfu dev seed`, then runs `jianfu desk rotate` twice against the data dir
and times each run. The first rotation finds every report still in the box it was released in
(two X25519 agreements each, the release box and the filed one inside it: no investigator
has signed in since the release); the second finds them in desk boxes (what a rotation or a
session leaves: symmetric only), the usual case.

Each figure is the command's wall-clock time (including the Argon2id sign-in) and the time it
reports for its one transaction. The server need not run: the command line works on the data
dir directly.

Usage: python3 bench/rotate.py [--reports 10000] [--rounds 3]
"""
import argparse, os, re, shutil, sqlite3, statistics, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "jianfu")
PASSWORD = "bench password 1"


def rotate(env):
    start = time.perf_counter()
    out = subprocess.run([BIN, "desk", "rotate", "--username", "desk", "--password-stdin"],
                         input=PASSWORD + "\n", text=True, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - start
    inner = float(re.search(r"Rotated the desk key in ([0-9.]+) s", out.stderr).group(1))
    return wall, inner


def boxed_counts(data):
    db = sqlite3.connect(os.path.join(data, "jianfu.db"))
    counts = dict(db.execute("SELECT boxed, count(*) FROM reports GROUP BY 1").fetchall())
    db.close()
    return counts


def one_round(reports):
    work = tempfile.mkdtemp(prefix="jianfu-rotate-bench-")
    data = os.path.join(work, "data")
    env = dict(os.environ, JIANFU_DATA_DIR=data, RUST_LOG="warn")
    try:
        subprocess.run([BIN, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "user", "add", "--username", "desk", "--role", "investigator", "--password-stdin"],
                       input=PASSWORD + "\n", text=True, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "dev", "seed", "--reports", str(reports)], env=dict(env, JIANFU_DEV="1"),
                       check=True, stderr=subprocess.DEVNULL)
        before = boxed_counts(data)
        released = rotate(env)
        after = boxed_counts(data)
        boxed = rotate(env)
        print(f"  {before} -> {after}: as released {released[0]:.2f} s ({released[1]:.2f} s in the transaction), "
              f"desk boxes {boxed[0]:.2f} s ({boxed[1]:.2f} s)", flush=True)
        return released, boxed
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "jianfu"], cwd=ROOT, check=True)
    rounds = [one_round(args.reports) for _ in range(args.rounds)]
    med = lambda xs: statistics.median(xs)
    load = open("/proc/loadavg").read().split()[0]
    print()
    print(f"| rotation figure ({time.strftime('%Y-%m-%d')}, {args.reports} released reports, median of {args.rounds}, load average {load}) | wall clock (sign-in included) | the transaction |")
    print("|---|---|---|")
    print(f"| every report still in its release box (two X25519 agreements each) | {med([r[0][0] for r in rounds]):.2f} s | {med([r[0][1] for r in rounds]):.2f} s |")
    print(f"| every report in a desk box (the usual case) | {med([r[1][0] for r in rounds]):.2f} s | {med([r[1][1] for r in rounds]):.2f} s |")


if __name__ == "__main__":
    main()
