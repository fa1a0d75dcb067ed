#!/usr/bin/env bash
# The node's resident memory under JVM heap options, side by side (issue 30's RSS goals: idle ≤ 200
# MiB, peak during a 1 GiB deploy ≤ 300 MiB). For each round and each variant (alternating), starts a
# fresh node with `JAVA_OPTS="<base> <variant>"`, and prints: RSS once ready, RSS after SMALL 1 MiB
# deploys, the median 1 MiB deploy time and node CPU, then BIG deploys of 1000 MiB (median time and CPU
# per deploy), and the peak RSS (VmHWM) over the run.
# Usage: bench/heap-options.sh "variant A" "variant B" ...   ("" is the defaults)
#        env: BASE="-Xmx256m" ROUNDS=2 SMALL=30 BIG=2 BIG_MIB=1000
# Needs: curl, python3, a JDK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${BASE:--Xmx256m}"
rounds="${ROUNDS:-2}"
small="${SMALL:-30}"
big="${BIG:-2}"
big_mib="${BIG_MIB:-1000}"
out="$root/bench/out"; mkdir -p "$out"
work="$(mktemp -d "$out/heap.XXXX")"
port=19973
cluster_port=12573
pw=bench-admin-pw
node_pid=""
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
cleanup() {
  stop_node
  rm -rf "$work"
}
trap cleanup EXIT
[ $# -gt 0 ] || set -- ""
"$root/bin/deploy-node" --build

payload() { # MiB -> $work/p<MiB>.tgz (fresh random data each time)
  mkdir -p "$work/gen" && head -c $(($1 * 1048576)) /dev/urandom > "$work/gen/data.bin"
  tar cf - -C "$work/gen" . | gzip -1 > "$work/p$1.tgz" && rm -rf "$work/gen"
}
now() { date +%s.%N; }
rss() { awk '/^'"$1"':/ { printf "%.0f", $2 / 1024 }' "/proc/$jvm_pid/status"; }
deploy() { # MiB -> "seconds cpu"
  payload "$1"
  local c0 t0 t1 c1
  c0=$(cpu); t0=$(now)
  curl -sS -f -u "admin:$pw" -X POST -H 'Content-Type: application/gzip' -T "$work/p$1.tgz" \
    "http://127.0.0.1:$port/deployments?project=heap" > "$work/answer"
  t1=$(now); c1=$(cpu)
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc)"
}

printf "%-45s %6s %6s %9s %9s %9s %9s %6s\n" "variant (base: $base)" "ready" "small" "1MiB s" "1MiB cpu" \
  "${big_mib}MiB s" "cpu" "peak"
for r in $(seq 1 "$rounds"); do
  for variant in "$@"; do
    rm -rf "$work/data"
    start_node "$root" "$work/data" "$work/node.log" "$base $variant"
    ready=$(rss VmRSS)
    : > "$work/small"; for _ in $(seq 1 "$small"); do deploy 1 >> "$work/small"; done
    after_small=$(rss VmRSS)
    : > "$work/big"; for _ in $(seq 1 "$big"); do deploy "$big_mib" >> "$work/big"; done
    printf "%-45s %6s %6s %9.4f %9.4f %9.3f %9.3f %6s\n" "${variant:-(defaults)}" "$ready" "$after_small" \
      "$(cut -d' ' -f1 "$work/small" | median)" "$(cut -d' ' -f2 "$work/small" | median)" \
      "$(cut -d' ' -f1 "$work/big" | median)" "$(cut -d' ' -f2 "$work/big" | median)" "$(rss VmHWM)"
    stop_node
  done
done
