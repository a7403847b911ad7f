#!/usr/bin/env bash
# The submit-path benchmark (issue #6, SPEC §4 "Bars").
#
# Builds once, then in one run on this machine:
#   * times `jianfu tokens issue --count 100000` on a fresh data dir;
#   * starts three servers on loopback: the bare actix-web handler (examples/bare_handler.rs:
#     parses the same form, answers 303, stores nothing), jianfu with group commit (the
#     default) and jianfu with one commit and fsync per submission (`JIANFU_GROUP_COMMIT=false`);
#   * drives them with wrk and bench/report.lua (a complete valid form, a fresh card per
#     request) at 32 and at 4 connections, in alternating rounds (bare, group, single, bare, ...);
#   * fails if any round shows a non-3xx answer, a socket error or an exhausted card file;
#   * afterwards checks in each database that spent cards == stored reports >= the 303s wrk saw;
#   * prints every round, the medians, the ratios to the bare handler, the peak RSS (VmHWM) of
#     the jianfu processes and a markdown table for README's Figures section.
# Only ratios from one run mean anything: wrk and the servers share the cores, and identical
# runs of the bare handler swing 4x.
#
# Usage: bench/run.sh [--rounds N] [--seconds S] [--no-single] [--keep]
#   --rounds N   alternating rounds per connection count (default 3; at least 3 for the bars)
#   --seconds S  length of one round (default 10)
#   --no-single  skip the one-commit-per-submission server
#   --keep       keep the temporary data dirs and logs
# Needs: cargo, wrk (installed with apt-get when missing and running as root), python3.
set -euo pipefail

ROUNDS=3
DURATION=10
SINGLE=1
KEEP=0
WARMUP=3
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "bench: $*" >&2
  exit 1
}
while [ $# -gt 0 ]; do
  case $1 in
  --rounds) ROUNDS=${2:?}; shift 2 ;;
  --seconds) DURATION=${2:?}; shift 2 ;;
  --no-single) SINGLE=0; shift ;;
  --keep) KEEP=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive number"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a positive number"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/jianfu
BARE_BIN=$ROOT/target/release/examples/bare_handler
LUA=$ROOT/bench/report.lua
PASSWORD="bench password 1"

command -v python3 >/dev/null || die "python3 is needed (to read the databases)"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
  command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
fi

echo "== build (cargo build --release --bin jianfu --example bare_handler)"
(cd "$ROOT" && cargo build --release --quiet --bin jianfu --example bare_handler)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jianfu-bench.XXXXXX")
declare -A PID PORT DIR OFFSET
cleanup() {
  local name
  for name in "${!PID[@]}"; do
    kill -KILL "${PID[$name]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then
    echo "bench: data dirs and logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # PORT NAME
  local i
  for i in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "${PID[$2]}" 2>/dev/null || die "$2 exited at start-up: $(cat "$WORK/$2.log")"
    sleep 0.1
  done
  die "$2 does not listen on $1"
}

# A jianfu data dir with an investigator (so the desk key exists) and the throttle off.
# NAME GROUP_COMMIT(true|false)
prepare_jianfu() {
  local name=$1 dir=$WORK/data-$1
  DIR[$name]=$dir
  OFFSET[$name]=0
  : >"$WORK/$name.cards"
  export_env "$name" "$2"
  "$BIN" init >/dev/null
  printf '%s\n' "$PASSWORD" |
    "$BIN" user add --username bench --role investigator --password-stdin >/dev/null
  # The recovery code it printed is of no use here.
}

export_env() { # NAME GROUP_COMMIT
  export JIANFU_DATA_DIR=${DIR[$1]} JIANFU_GROUP_COMMIT=$2 RUST_LOG=warn \
    JIANFU_REPORT_ATTEMPTS=100000000 JIANFU_POOL_RELEASE_EVERY=24h
}

# Issues COUNT cards to NAME's pool file; prints the seconds it took.
issue() { # NAME COUNT
  local out=$WORK/issue.txt start end
  start=$(date +%s.%N)
  JIANFU_DATA_DIR=${DIR[$1]} "$BIN" tokens issue --count "$2" --label bench --out "$out" \
    2>/dev/null
  end=$(date +%s.%N)
  [ "$(wc -l <"$out")" -eq "$2" ] || die "tokens issue wrote $(wc -l <"$out") of $2 cards"
  cat "$out" >>"$WORK/$1.cards"
  rm -f "$out"
  python3 -c "print(f'{$end - $start:.2f}')"
}

start_jianfu() { # NAME GROUP_COMMIT
  local port
  port=$(free_port)
  (
    export_env "$1" "$2"
    exec "$BIN" serve --bind "127.0.0.1:$port"
  ) >"$WORK/$1.log" 2>&1 &
  PID[$1]=$!
  PORT[$1]=$port
  wait_port "$port" "$1"
}

# Writes the next NEED unused cards of NAME's pool to $WORK/round.cards, issuing more first
# when the pool runs low.
round_cards() { # NAME NEED
  local have
  have=$(($(wc -l <"$WORK/$1.cards") - OFFSET[$1]))
  if [ "$have" -lt "$2" ]; then
    issue "$1" $(($2 - have > 100000 ? $2 - have : 100000)) >/dev/null
  fi
  sed -n "$((OFFSET[$1] + 1)),$((OFFSET[$1] + $2))p" "$WORK/$1.cards" >"$WORK/round.cards"
}

to_ms() { # wrk's "1.23ms" / "812.00us" / "1.02s"
  case $1 in
  *us) awk -v v="${1%us}" 'BEGIN { printf "%.3f", v / 1000 }' ;;
  *ms) awk -v v="${1%ms}" 'BEGIN { printf "%.3f", v }' ;;
  *s) awk -v v="${1%s}" 'BEGIN { printf "%.3f", v * 1000 }' ;;
  *) die "cannot read the latency '$1'" ;;
  esac
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
declare -A ACKED
# One wrk round. NAME CONNS SECONDS LABEL(round number, or "warm-up")
round() {
  local name=$1 conns=$2 secs=$3 label=$4 threads=2 need out rps p50 p99 reqs used
  [ "$conns" -lt "$threads" ] && threads=$conns
  kill -0 "${PID[$name]}" 2>/dev/null || die "$name is not running: $(tail -5 "$WORK/$name.log")"
  if [ "$name" = bare ]; then
    need=1000 # the bare handler stores nothing: any card will do
    head -n "$need" "$WORK/group.cards" >"$WORK/round.cards"
  else
    # Generous: 8,000 requests/s for the whole round, plus slack.
    need=$((8000 * secs + 20000))
    round_cards "$name" "$need"
  fi
  out=$WORK/wrk-$name-$conns-$label.txt
  CARDS=$WORK/round.cards WRK_THREADS=$threads \
    wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s --latency -s "$LUA" \
    "http://127.0.0.1:${PORT[$name]}/report" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
  if [ "$name" != bare ]; then
    grep -q "cards exhausted" "$out" && die "$name ran out of cards in a round:"$'\n'"$(cat "$out")"
    used=$(sed -n 's/^cards used: \([0-9]*\)$/\1/p' "$out")
    [ -n "$used" ] || die "no card count from wrk: $(cat "$out")"
    OFFSET[$name]=$((OFFSET[$name] + used))
  fi
  if grep -q "Non-2xx or 3xx responses" "$out" || grep -q "Socket errors" "$out"; then
    die "errors in the $name round at $conns connections (every answer must be 303):"$'\n'"$(cat "$out")"
  fi
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
  ACKED[$name]=$((${ACKED[$name]:-0} + reqs))
  [ "$label" = warm-up ] && return 0
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  [ -n "$rps" ] || die "cannot read wrk's output: $(cat "$out")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$label" "$rps" "$p50" "$p99" >>"$RESULTS"
  printf 'round %s  %-6s  c=%-2s  %9.0f req/s  p50 %8.2f ms  p99 %8.2f ms\n' \
    "$label" "$name" "$conns" "$rps" "$p50" "$p99"
}

SERVERS=(bare group)
[ "$SINGLE" = 1 ] && SERVERS+=(single)

echo "== data dirs in $WORK"
prepare_jianfu group true
ISSUE_SECS=$(issue group 100000)
echo "jianfu tokens issue --count 100000: $ISSUE_SECS s"
if [ "$SINGLE" = 1 ]; then
  prepare_jianfu single false
  issue single 100000 >/dev/null
fi
unset JIANFU_DATA_DIR JIANFU_GROUP_COMMIT

echo "== servers"
PORT[bare]=$(free_port)
"$BARE_BIN" "127.0.0.1:${PORT[bare]}" >"$WORK/bare.log" 2>&1 &
PID[bare]=$!
wait_port "${PORT[bare]}" bare
start_jianfu group true
[ "$SINGLE" = 1 ] && start_jianfu single false
for name in "${SERVERS[@]}"; do
  echo "$name: pid ${PID[$name]} on 127.0.0.1:${PORT[$name]}"
done

echo "== warm-up: $WARMUP s each at 32 connections (not counted)"
for name in "${SERVERS[@]}"; do round "$name" 32 "$WARMUP" warm-up; done

echo "== $ROUNDS alternating rounds of $DURATION s at 32 and at 4 connections"
for conns in 32 4; do
  for r in $(seq "$ROUNDS"); do
    for name in "${SERVERS[@]}"; do round "$name" "$conns" "$DURATION" "$r"; done
  done
done

declare -A RSS
for name in "${SERVERS[@]}"; do
  [ "$name" = bare ] && continue
  RSS[$name]=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/${PID[$name]}/status")
done

echo "== stop (SIGTERM) and check the databases"
for name in "${SERVERS[@]}"; do
  kill -TERM "${PID[$name]}"
  status=0
  wait "${PID[$name]}" || status=$?
  unset "PID[$name]"
  [ "$name" = bare ] || [ "$status" = 0 ] || die "$name exited with $status after SIGTERM"
done
CHECKS=$WORK/checks.tsv
: >"$CHECKS"
for name in "${SERVERS[@]}"; do
  [ "$name" = bare ] && continue
  python3 - "${DIR[$name]}/jianfu.db" "${ACKED[$name]}" "$name" >>"$CHECKS" <<'EOF' ||
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
acked, name = int(sys.argv[2]), sys.argv[3]
spent = db.execute("SELECT (SELECT SUM(issued - withdrawn) FROM batches)"
                   " - (SELECT COUNT(*) FROM cards)").fetchone()[0]
stored = db.execute("SELECT (SELECT COUNT(*) FROM pending)"
                    " + (SELECT COUNT(*) FROM reports)").fetchone()[0]
check = db.execute("PRAGMA integrity_check").fetchone()[0]
ok = spent == stored and stored >= acked and check == "ok"
print(f"{name}\t{spent}\t{stored}\t{acked}\t{check}")
print(f"{name}: spent cards {spent}, stored reports {stored}, 303s seen by wrk {acked},"
      f" integrity_check {check}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
    die "$name: the database does not hold what was acknowledged (see above)"
done

python3 - "$RESULTS" "$CHECKS" "$ISSUE_SECS" "${RSS[group]}" "${RSS[single]:-}" \
  "$ROUNDS" "$DURATION" "$(nproc)" <<'EOF'
import statistics, sys, time
results, checks, issue_secs, rss, rss_single, rounds, secs, cores = sys.argv[1:]
rows = [l.split("\t") for l in open(results).read().splitlines()]
def med(name, conns, key):
    col = {"rps": 3, "p50": 4, "p99": 5}[key]
    vals = [float(r[col]) for r in rows if r[0] == name and r[1] == str(conns)]
    return statistics.median(vals) if vals else None
def mark(ok):
    return "✓" if ok else "**missed**"
print("\n== medians")
for conns in (32, 4):
    for name in ("bare", "group", "single"):
        if med(name, conns, "rps") is None:
            continue
        print(f"{name:6} c={conns:2}: {med(name, conns, 'rps'):9.0f} req/s  "
              f"p50 {med(name, conns, 'p50'):8.2f} ms  p99 {med(name, conns, 'p99'):8.2f} ms")
tp = med("group", 32, "rps") / med("bare", 32, "rps")
p99 = med("group", 4, "p99") / med("bare", 4, "p99")
rss = float(rss)
issue = float(issue_secs)
consistency = {r[0]: r for r in (l.split("\t") for l in open(checks).read().splitlines())}
print(f"\n| figure ({time.strftime('%Y-%m-%d')}, {cores} cores, `bench/run.sh`, "
      f"{rounds} alternating rounds of {secs} s) | value | bar (SPEC §4) |")
print("|---|---|---|")
print(f"| bare handler, 32 connections (median) | {med('bare', 32, 'rps'):,.0f} req/s | baseline |")
print(f"| durable submit, 32 connections (median) | {med('group', 32, 'rps'):,.0f} req/s | |")
print(f"| throughput ratio submit / bare, 32 connections | {tp:.2f} | ≥ 0.25 {mark(tp >= 0.25)} |")
print(f"| p50 / p99 at 32 connections, bare | {med('bare', 32, 'p50'):.2f} / {med('bare', 32, 'p99'):.2f} ms | |")
print(f"| p50 / p99 at 32 connections, submit | {med('group', 32, 'p50'):.2f} / {med('group', 32, 'p99'):.2f} ms | |")
print(f"| bare handler / durable submit, 4 connections | {med('bare', 4, 'rps'):,.0f} / {med('group', 4, 'rps'):,.0f} req/s | |")
print(f"| p50 / p99 at 4 connections, bare | {med('bare', 4, 'p50'):.2f} / {med('bare', 4, 'p99'):.2f} ms | |")
print(f"| p50 / p99 at 4 connections, submit | {med('group', 4, 'p50'):.2f} / {med('group', 4, 'p99'):.2f} ms | |")
print(f"| p99 ratio submit / bare, 4 connections | {p99:.1f} | ≤ 2 {mark(p99 <= 2)} |")
if med("single", 32, "rps") is not None:
    s32, s4 = med("single", 32, "rps"), med("single", 4, "rps")
    print(f"| one commit and fsync per submission (`group_commit = false`), 32 connections "
          f"| {s32:,.0f} req/s (group commit: {med('group', 32, 'rps') / s32:.1f}×) | |")
    print(f"| the same, 4 connections: req/s, p99 | {s4:,.0f} req/s, {med('single', 4, 'p99'):.2f} ms | |")
print(f"| peak RSS (VmHWM) of the service under load | {rss:.1f} MiB | ≤ 100 MiB {mark(rss <= 100)} |")
if rss_single:
    print(f"| peak RSS, one commit per submission | {float(rss_single):.1f} MiB | |")
print(f"| `jianfu tokens issue --count 100000` | {issue:.1f} s | ≤ 10 s {mark(issue <= 10)} |")
for name, r in consistency.items():
    what = "durable submit" if name == "group" else "one commit per submission"
    print(f"| {what}: spent cards = stored reports ≥ 303s seen by wrk | "
          f"{int(r[1]):,} = {int(r[2]):,} ≥ {int(r[3]):,} | ✓ |")
EOF
