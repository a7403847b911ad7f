#!/usr/bin/env python3
"""The jianfu benchmark (issues #6 and #12, SPEC §4).

Builds once, then on this machine, in one run:
  * times `jianfu tokens issue --count 100000`;
  * drives the durable submit path (`POST /report`, fresh card per request, fsync'd before
    the 303), a bare actix-web handler that parses the same form and answers 303, and a
    *durable* bare handler that also appends the form to a file and fdatasyncs it before
    answering (`examples/bare_handler.rs --durable`), with the same load tool (wrk), at 32
    and at 4 connections, in alternating rounds;
  * repeats the 32-connection jianfu rounds with one commit per submission (group commit
    off) to show what group commit buys;
  * reads the peak resident memory of the jianfu process.
Only ratios from the same run mean anything: identical runs of the bare handler swing 4x.

Usage: python3 bench/run.py [--rounds 3] [--seconds 10]
"""
import argparse, os, re, shutil, signal, socket, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "release")


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def parse_latency(text, pct):
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port, conns, seconds, cards_file):
    threads = min(2, conns)
    env = dict(os.environ, CARDS=cards_file, WRK_THREADS=str(threads))
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency",
         "-s", os.path.join(ROOT, "bench", "report.lua"), f"http://127.0.0.1:{port}/report"],
        env=env, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        sys.exit(f"errors in a round:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": parse_latency(out, 50), "p99": parse_latency(out, 99)}


def cpu_by_thread(pid):
    """CPU seconds used so far by each kind of thread of `pid` (numbered names merged)."""
    used = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = re.sub(r"[:#]?\d+$", "", stat[stat.index("(") + 1:stat.rindex(")")])
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        used[name] = used.get(name, 0) + ticks / os.sysconf("SC_CLK_TCK")
    return used


def machine_busy():
    """(busy, total) jiffies of the whole machine so far."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


class Jianfu:
    def __init__(self, workdir, group_commit=True):
        self.dir = os.path.join(workdir, "data-group" if group_commit else "data-single")
        self.env = dict(os.environ, JIANFU_DATA_DIR=self.dir, JIANFU_REPORT_ATTEMPTS="1000000000",
                        JIANFU_GROUP_COMMIT="true" if group_commit else "false", RUST_LOG="warn")
        self.bin = os.path.join(TARGET, "jianfu")
        sh(self.bin, "init", env=self.env, stdout=subprocess.DEVNULL)
        subprocess.run([self.bin, "user", "add", "--username", "bench", "--role", "investigator",
                        "--password-stdin"], input="bench password 1\n", text=True, env=self.env,
                       check=True, stdout=subprocess.DEVNULL)
        self.port = free_port()
        self.proc = subprocess.Popen([self.bin, "serve", "--bind", f"127.0.0.1:{self.port}"],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def issue(self, count, out):
        start = time.perf_counter()
        sh(self.bin, "tokens", "issue", "--count", str(count), "--label", "bench", "--out", out,
           env=self.env, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) / 1024

    def consistency(self):
        db = sqlite3.connect(os.path.join(self.dir, "jianfu.db"))
        spent = db.execute("SELECT (SELECT SUM(issued) FROM batches) - (SELECT COUNT(*) FROM cards)").fetchone()[0]
        stored = db.execute("SELECT (SELECT COUNT(*) FROM pending) + (SELECT COUNT(*) FROM reports)").fetchone()[0]
        return spent, stored

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    sh("cargo", "build", "--release", "--quiet", "--bin", "jianfu", "--example", "bare_handler", cwd=ROOT)
    work = tempfile.mkdtemp(prefix="jianfu-bench-")
    servers = []
    try:
        jf = Jianfu(work)
        servers.append(jf)
        issue_secs = jf.issue(100_000, os.path.join(work, "cards-0.txt"))
        # Enough fresh cards for every jianfu round: a batch per round and connection count,
        # each enough for a round at the bar's rate (0.20 of a bare handler at ~150,000 req/s);
        # a round that runs out fails with the service's refusals.
        per_round = max(100_000, 30_000 * args.seconds)
        card_files = {}
        for conns in (32, 4):
            for r in range(args.rounds):
                path = os.path.join(work, f"cards-{conns}-{r}.txt")
                jf.issue(per_round, path)
                card_files[(conns, r)] = path
        example = os.path.join(TARGET, "examples", "bare_handler")
        bare_port, durable_port = free_port(), free_port()
        bare = subprocess.Popen([example, f"127.0.0.1:{bare_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        durable = subprocess.Popen([example, f"127.0.0.1:{durable_port}", "--durable",
                                    os.path.join(work, "durable.log")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(bare_port)
        wait_port(durable_port)
        results = {}
        # CPU of each of the service's threads per submission, and how busy the machine was,
        # in the 32-connection rounds: where the time goes, without a profiler.
        per_thread, busy = {}, []
        for conns in (32, 4):
            for r in range(args.rounds):
                for name, port in (("bare", bare_port), ("durable", durable_port), ("jianfu", jf.port)):
                    threads_before, busy_before = cpu_by_thread(jf.proc.pid), machine_busy()
                    res = wrk(port, conns, args.seconds, card_files[(conns, r)])
                    results.setdefault((name, conns), []).append(res)
                    if name == "jianfu" and conns == 32:
                        threads_after, busy_after = cpu_by_thread(jf.proc.pid), machine_busy()
                        submissions = res["rps"] * args.seconds
                        for thread, cpu in threads_after.items():
                            spent = cpu - threads_before.get(thread, 0)
                            per_thread.setdefault(thread, []).append(spent / submissions * 1e6)
                        busy.append((busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]))
                    print(f"round {r + 1} {name:6} c={conns:2}: {res['rps']:9.0f} req/s  "
                          f"p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms", flush=True)
        rss = jf.peak_rss_mib()
        spent, stored = jf.consistency()
        if spent != stored:
            sys.exit(f"spent cards {spent} != stored reports {stored}")
        for p in (bare, durable):
            p.terminate()
            p.wait()
        jf.stop()

        single = Jianfu(work, group_commit=False)
        servers.append(single)
        single_cards = os.path.join(work, "cards-single.txt")
        single.issue(per_round, single_cards)
        single_runs = [wrk(single.port, 32, args.seconds, single_cards) for _ in range(1)]
        single.stop()

        med = lambda name, conns, key: statistics.median(x[key] for x in results[(name, conns)])
        tp_ratio = med("jianfu", 32, "rps") / med("bare", 32, "rps")
        p99_ratio = med("jianfu", 4, "p99") / med("durable", 4, "p99")
        single_rps = statistics.median(x["rps"] for x in single_runs)
        print()
        print(f"| figure ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, `python3 bench/run.py`) | value | bar |")
        print("|---|---|---|")
        print(f"| bare handler, 32 connections (median of {args.rounds}) | {med('bare', 32, 'rps'):.0f} req/s | baseline |")
        print(f"| durable submit, 32 connections (median of {args.rounds}) | {med('jianfu', 32, 'rps'):.0f} req/s | |")
        print(f"| durable bare handler (append + fdatasync), 32 connections | {med('durable', 32, 'rps'):.0f} req/s | |")
        print(f"| throughput ratio submit / bare, 32 connections | {tp_ratio:.2f} | ≥ 0.20 {'✓' if tp_ratio >= 0.20 else '✗'} |")
        print(f"| p99 at 4 connections: bare / durable bare / submit | {med('bare', 4, 'p99'):.2f} / {med('durable', 4, 'p99'):.2f} / {med('jianfu', 4, 'p99'):.2f} ms | |")
        print(f"| p99 ratio submit / durable bare, 4 connections | {p99_ratio:.2f} | ≤ 2 {'✓' if p99_ratio <= 2 else '✗'} |")
        print(f"| one commit per submission (group commit off), 32 connections | {single_rps:.0f} req/s ({single_rps / med('jianfu', 32, 'rps'):.2f}× group commit) | |")
        print(f"| peak RSS of jianfu under load | {rss:.1f} MiB | ≤ 100 {'✓' if rss <= 100 else '✗'} |")
        print(f"| issue 100,000 cards | {issue_secs:.2f} s | ≤ 10 {'✓' if issue_secs <= 10 else '✗'} |")
        print(f"| spent cards = stored reports after the load | {spent} = {stored} | |")
        print()
        print(f"CPU per submission by thread, 32 connections (median of {args.rounds}); "
              f"the machine was {statistics.median(busy) * 100:.0f} % busy:")
        total = 0.0
        for thread, values in sorted(per_thread.items(), key=lambda kv: -statistics.median(kv[1])):
            us = statistics.median(values)
            total += us
            if us >= 0.5:
                print(f"  {thread:24} {us:7.1f} µs")
        print(f"  {'the service in all':24} {total:7.1f} µs")
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
