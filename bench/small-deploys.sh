#!/usr/bin/env bash
# Small deploys side by side across checkouts (issue 30): for each round, and each checkout given
# (alternating), starts a fresh node from that checkout (-Xmx256m), makes WARMUP deploys of one 1 MiB
# payload, then DEPLOYS more, and prints their medians: the time to the record (curl's
# time_starttransfer: the node answers "100 Continue" once the deployment is recorded, before it
# reads the body), the rest (upload, store, activate, answer), the total, and the node's CPU per
# deploy. Compare two commits with a worktree: git worktree add /tmp/base <commit>.
# Usage: bench/small-deploys.sh [checkout ...]   (default: this one)
#        env: ROUNDS=2 WARMUP=60 DEPLOYS=40 JAVA_OPTS_EXTRA=
# Needs: curl, python3, a JDK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-2}"
warmup="${WARMUP:-60}"
deploys="${DEPLOYS:-40}"
out="$root/bench/out"; mkdir -p "$out"
work="$(mktemp -d "$out/small.XXXX")"
port=19975
cluster_port=12575
pw=bench-admin-pw
node_pid=""
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
cleanup() {
  stop_node
  rm -rf "$work"
}
trap cleanup EXIT
[ $# -gt 0 ] || set -- "$root"
for checkout in "$@"; do "$checkout/bin/deploy-node" --build; done

mkdir -p "$work/gen" && head -c 1048576 /dev/urandom > "$work/gen/data.bin"
tar cf - -C "$work/gen" . | gzip -1 > "$work/p.tgz"
deploy() {
  curl -sS -f -o "$work/answer" -w '%{time_starttransfer} %{time_total}\n' -u "admin:$pw" -X POST \
    -H 'Content-Type: application/gzip' --data-binary @"$work/p.tgz" \
    "http://127.0.0.1:$port/deployments?project=small$((RANDOM % 3))"
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
}

printf "%-40s %10s %10s %10s %14s\n" "checkout" "record ms" "rest ms" "total ms" "CPU ms/deploy"
for _ in $(seq 1 "$rounds"); do
  for checkout in "$@"; do
    rm -rf "$work/data"
    start_node "$checkout" "$work/data" "$work/node.log" "-Xmx256m ${JAVA_OPTS_EXTRA:-}"
    for _ in $(seq 1 "$warmup"); do deploy > /dev/null; done
    c0=$(cpu)
    for _ in $(seq 1 "$deploys"); do deploy; done > "$work/rows"
    c1=$(cpu)
    stop_node
    python3 - "$checkout" "$c0" "$c1" "$deploys" "$work/rows" <<'PY'
import statistics as s, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[5])]
med = lambda xs: s.median(list(xs)) * 1000
print("%-40s %10.1f %10.1f %10.1f %14.1f" % (sys.argv[1][-40:], med(r[0] for r in rows),
      med(r[1] - r[0] for r in rows), med(r[1] for r in rows),
      (float(sys.argv[3]) - float(sys.argv[2])) / int(sys.argv[4]) * 1000))
PY
  done
done
