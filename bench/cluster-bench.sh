#!/usr/bin/env bash
# Cluster distribution benchmark (issue 3). Starts clusters of 1, 3 and 5 node JVMs on this machine
# (127.0.0.1, shared PostgreSQL journal) and deploys a payload of SIZE_MIB (default 200) random MiB,
# a fresh payload each round so that no node holds it already. For each cluster size it reports:
#   - apply time: from the moment the origin has received the last byte of the upload (the last
#     "progress" event) until the deployment is succeeded (every node active). For 1 node that is the
#     single-node apply time (commit + extract + switch) that larger clusters are compared with;
#   - the split: storing (commit) until distribution starts, then distribution (the replica push, peer
#     fetches streamed into extraction, switches);
#   - copies served by the origin and by peers, from the deployment's events (the replica push, and
#     each node's "fetched N bytes from X");
#   - the CPU time all node JVMs spent from the start of the upload to all active, and the wall time
#     it implies on this machine's cores: all nodes share two cores here, so a
#     cluster of n needs about n times the single node's CPU work, which a real cluster spreads over
#     n machines.
# Every figure is the best of ROUNDS (default 3) after one warm-up deploy; all sizes run in one go so
# their ratios are measured side by side.
# Usage: bench/cluster-bench.sh [cluster sizes, default "1 3 5"]
#        env: SIZE_MIB=200 ROUNDS=3 HEAP=256m NODE_JAVA_OPTS=<extra JVM options> BENCH_DIR=<dir> (nodes' data; default bench/out; a tmpfs
#             such as /dev/shm keeps five nodes from queueing on this one disk, which a real cluster,
#             one disk per node, does not do) PGURL=postgresql://postgres@127.0.0.1:5432
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes="${1:-1 3 5}"
size_mib="${SIZE_MIB:-200}"
rounds="${ROUNDS:-3}"
heap="${HEAP:-256m}"
pgurl="${PGURL:-postgresql://postgres@127.0.0.1:5432}"
out="$root/bench/out"; mkdir -p "$out"
bench_dir="${BENCH_DIR:-$out}"; mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/cluster.XXXX")"
pids=(); dbs=()
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  local status=$?
  stop_nodes
  if [ "$status" != 0 ]; then
    mkdir -p "$out/cluster-logs" && cp "$work"/*.log "$out/cluster-logs/" 2>/dev/null || true
    echo "node logs kept in $out/cluster-logs" >&2
  fi
  for db in "${dbs[@]}"; do psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built"

payload() { # round -> path of a .tar.gz of SIZE_MIB random MiB, distinct per round
  local f="$out/cluster-payload-${size_mib}m-$1.tar.gz"
  if [ ! -f "$f" ]; then
    mkdir -p "$work/gen" && head -c "$((size_mib * 1048576))" /dev/urandom > "$work/gen/data.bin"
    tar cf - -C "$work/gen" data.bin | gzip -1 > "$f.tmp" && mv "$f.tmp" "$f" && rm -rf "$work/gen"
  fi
  echo "$f"
}

port() { echo $((19940 + $1)); }
start_cluster() { # size
  local n=$1 db="deploy_bench_$$_$1"
  dbs+=("$db"); psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  for i in $(seq 1 "$n"); do
    local seeds=""; [ "$i" -gt 1 ] && seeds="127.0.0.1:$((12560 + 1))"
    DEPLOY_NODE_NAME="node-$i" DEPLOY_DATA_DIR="$work/c$n/node-$i" DEPLOY_HTTP_PORT="$(port "$i")" \
      DEPLOY_CLUSTER_PORT=$((12560 + i)) DEPLOY_SEED_NODES="$seeds" DEPLOY_ADMIN_PASSWORD=bench-admin-pw \
      DEPLOY_DB_URL="jdbc:postgresql://127.0.0.1:5432/$db" DEPLOY_DB_USER=postgres JAVA_OPTS="-Xmx$heap ${NODE_JAVA_OPTS:-}" \
      "$root/bin/deploy-node" > "$work/c$n-node-$i.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 300); do
    up=$(curl -s -u admin:bench-admin-pw "http://127.0.0.1:$(port 1)/cluster/nodes" 2>/dev/null \
      | python3 -c "import json,sys; print(sum(1 for m in json.load(sys.stdin)['nodes'] if m['status']=='up'))" 2>/dev/null || echo 0)
    ready=1; for i in $(seq 1 "$n"); do curl -sf "http://127.0.0.1:$(port "$i")/health/ready" >/dev/null || ready=0; done
    [ "$up" = "$n" ] && [ "$ready" = 1 ] && return 0
    sleep 0.5
  done
  echo "cluster of $n did not form (up: $up, ready: $ready); logs in $work" >&2
  curl -s -u admin:bench-admin-pw "http://127.0.0.1:$(port 1)/cluster/nodes" >&2 || true
  for i in $(seq 1 "$n"); do curl -s "http://127.0.0.1:$(port "$i")/health/ready" >&2 || true; done
  exit 1
}

deploy() { # file, project -> deployment id (answer once stored and replicated: wait=false)
  curl -sS -u admin:bench-admin-pw -X POST -T "$1" -H 'Content-Type: application/gzip' \
    "http://127.0.0.1:$(port 1)/deployments?project=$2&wait=false" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['deployment_id'])"
}
await_done() { # id
  for _ in $(seq 1 6000); do
    s=$(curl -s -u admin:bench-admin-pw "http://127.0.0.1:$(port 1)/deployments/$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['status'])")
    case "$s" in succeeded) return 0;; failed|partial|superseded) echo "deployment $1 ended $s" >&2; exit 1;; esac
    sleep 0.05
  done
}
analyse() { # id, payload bytes -> "apply_s store_s distribute_s origin_copies peer_copies"
  curl -s -u admin:bench-admin-pw "http://127.0.0.1:$(port 1)/deployments/$1" | tee "$out/cluster-last-deployment.json" | python3 -c "
import json, sys, datetime
d = json.load(sys.stdin); size = int(sys.argv[1])
t = lambda s: datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))
received = max(t(e['time']) for e in d['events'] if e['type'] == 'progress' and e['data'].get('bytes') == size)
stored = next(t(e['time']) for e in d['events'] if e['type'] == 'phase' and e['message'].startswith('distribution started'))
done = t(d['completed_at']); origin = d['origin_node']
copies = {}
for e in d['events']:
    if e['type'] == 'log' and e['message'].startswith('payload copied to '):
        copies[origin] = copies.get(origin, 0) + len(e['message'][len('payload copied to '):].split(' before')[0].split(', '))
    if e['type'] == 'log' and e['message'].startswith('fetched '):
        src = e['message'].split(' from ')[1].split(' in ')[0]
        copies[src] = copies.get(src, 0) + 1
peer = sum(v for k, v in copies.items() if k != origin)
print(f'{(done - received).total_seconds():.3f} {(stored - received).total_seconds():.3f} {(done - stored).total_seconds():.3f} {copies.get(origin, 0)} {peer}')
" "$2"
}

cpu_ticks() { # total utime+stime of the node JVMs, in clock ticks
  local total=0
  for p in "${pids[@]}"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$total"
}

best_row() { python3 -c "
import sys
rows = [list(map(float, r.split())) for r in sys.argv[1:]]
b = min(rows, key=lambda r: r[0])
print(f'{b[0]:.3f} {b[1]:.3f} {b[2]:.3f} {int(max(r[3] for r in rows))} {int(min(r[4] for r in rows))} {b[5]:.2f}')" "$@"; }

declare -A result
for n in $sizes; do
  echo "cluster of $n node(s)..." >&2
  start_cluster "$n"
  for w in 0 4; do await_done "$(deploy "$(payload "$w")" warm)"; done  # two warm-ups: five fresh JVMs JIT-compile the paths
  rows=()
  for r in $(seq 1 "$rounds"); do
    f="$(payload "$r")"; bytes=$(stat -c %s "$f")
    c0=$(cpu_ticks); id="$(deploy "$f" "bench")"; await_done "$id"; c1=$(cpu_ticks)
    rows+=("$(analyse "$id" "$bytes") $(python3 -c "print(($c1 - $c0) / $(getconf CLK_TCK))")")
  done
  result[$n]="$(best_row "${rows[@]}")"
  stop_nodes
  rm -rf "$work/c$n"
done

single="${result[1]:-}"
cores=$(nproc)
printf '\n%-6s %9s %10s %12s %8s %14s %13s %9s %13s\n' nodes apply_s store_s distribute_s vs_1node \
  origin_copies peer_copies cpu_s cpu/cores_s
for n in $sizes; do
  read -r apply replica dist oc pc cpu <<< "${result[$n]}"
  ratio="-"; [ -n "$single" ] && ratio=$(python3 -c "print(f'{$apply / ${single%% *}:.2f}x')")
  printf '%-6s %9s %10s %12s %8s %14s %13s %9s %13s\n' "$n" "$apply" "$replica" "$dist" "$ratio" "$oc" "$pc" \
    "$cpu" "$(python3 -c "print(f'{$cpu / $cores:.2f}')")"
done
echo "(payload ${size_mib} MiB random; best of $rounds rounds by apply time; origin_copies = the most any round"
echo " served from the origin, peer_copies = the fewest served by peers; apply = last byte received -> all active;"
echo " cpu_s = CPU of all node JVMs from the upload's first byte to all active, cpu/cores_s = that over $(nproc) cores)"
