#!/usr/bin/env bash
# Read-model and live-tail benchmark (issue 4).
#   1. List latency: ROWS (default 100,000) deployments seeded into the read model (bench/ReadModelSeed.java)
#      over PROJECTS (default 100) projects; one node; GET /deployments?project=<random>&limit=50 timed
#      over one kept-alive connection (bench/list_latency.py): p50, p99, max. On embedded H2 and on
#      PostgreSQL, in one run.
#   2. SSE latency: a cluster of SSE_NODES (default 2) JVMs on 127.0.0.1 with a PostgreSQL journal;
#      WARMUP (default 200) unreported deploys, then DEPLOYS (default 30) deploys through node-1
#      while a reader on each node follows the deployment's stream (bench/sse_latency.py): entity to
#      reader latency of every live event, per node (at least one reader is on a node that does not
#      host the deployment). The warm-up matters here: after 20 deploys half of the nodes' CPU still
#      goes to the JIT, and the nodes share this machine's 2 cores with the readers; with 3 nodes the
#      cores stay saturated and the figures measure the queue for them.
# Usage: bench/readmodel-bench.sh   env: ROWS PROJECTS REQUESTS=2000 SSE_NODES=2 WARMUP=200 DEPLOYS=30 HEAP=256m
#        PGURL=postgresql://postgres@127.0.0.1:5432 BENCH_DIR=<dir> (default bench/out)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rows="${ROWS:-100000}"; projects="${PROJECTS:-100}"; requests="${REQUESTS:-2000}"; deploys="${DEPLOYS:-30}"
sse_nodes="${SSE_NODES:-2}"; warmup="${WARMUP:-200}"
heap="${HEAP:-256m}"
# One client sends as fast as the node answers: the per-user request rate (100/s) would measure itself.
no_rate_limit="-Ddeploy.limits.requests-per-second-per-user=0"
pgurl="${PGURL:-postgresql://postgres@127.0.0.1:5432}"
out="$root/bench/out"; mkdir -p "$out"
bench_dir="${BENCH_DIR:-$out}"; mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/readmodel.XXXX")"
db="bench_readmodel_$$"
pids=()
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_nodes
  psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built"
cp="$root/http-api/target/classes:$root/config:$root/http-api/target/lib/*"

start_node() { # name http-port cluster-port seeds db-url
  DEPLOY_DATA_DIR="$work/$1" DEPLOY_NODE_NAME="$1" DEPLOY_HTTP_PORT="$2" DEPLOY_CLUSTER_PORT="$3" \
    DEPLOY_SEED_NODES="$4" DEPLOY_DB_URL="$5" DEPLOY_DB_USER=postgres DEPLOY_ADMIN_PASSWORD=bench-admin-pw \
    DEPLOY_CLUSTER_SECRET=bench-secret JAVA_OPTS="-Xmx$heap $no_rate_limit" \
    "$root/bin/deploy-node" > "$work/$1.log" 2>&1 &
  pids+=("$!")
}
await_ready() { # port
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && return; sleep 1; done
  echo "node on port $1 did not become ready" >&2; exit 1
}

list_bench() { # label db-url
  local data="$work/list-$1"
  java -cp "$cp" "$root/bench/ReadModelSeed.java" "$data" "$2" "$rows" "$projects" >&2
  DEPLOY_DATA_DIR="$data" DEPLOY_NODE_NAME=list DEPLOY_HTTP_PORT=19951 DEPLOY_CLUSTER_PORT=12581 \
    DEPLOY_DB_URL="$2" DEPLOY_DB_USER=postgres DEPLOY_ADMIN_PASSWORD=bench-admin-pw JAVA_OPTS="-Xmx$heap $no_rate_limit" \
    "$root/bin/deploy-node" > "$work/list-$1.log" 2>&1 &
  pids+=("$!")
  await_ready 19951
  printf '%-10s ' "$1"; python3 "$root/bench/list_latency.py" 127.0.0.1 19951 bench-admin-pw "$projects" "$requests"
  stop_nodes
}

pg_isready -q -h 127.0.0.1 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; }
echo "== GET /deployments?project=...&limit=50 with $rows deployments in the read model"
list_bench h2 ""
psql -q "$pgurl/postgres" -c "CREATE DATABASE $db" >/dev/null
list_bench postgresql "jdbc:postgresql://127.0.0.1:5432/$db"

echo "== SSE: entity to reader on each of $sse_nodes nodes, $deploys deploys through node-1 after $warmup (PostgreSQL)"
psql -q "$pgurl/postgres" -c "DROP DATABASE $db" -c "CREATE DATABASE $db" >/dev/null
url="jdbc:postgresql://127.0.0.1:5432/$db"
urls=()
for i in $(seq 1 "$sse_nodes"); do
  start_node "node-$i" $((19960 + i)) $((12590 + i)) "127.0.0.1:12591" "$url"
  [ "$i" = 1 ] && await_ready 19961
  urls+=("http://127.0.0.1:$((19960 + i))")
done
for i in $(seq 1 "$sse_nodes"); do await_ready $((19960 + i)); done
for _ in $(seq 1 60); do
  [ "$(curl -s -u admin:bench-admin-pw http://127.0.0.1:19961/cluster/nodes | python3 -c \
    "import json,sys; print(sum(n['status'] == 'up' for n in json.load(sys.stdin)['nodes']))")" = "$sse_nodes" ] && break
  sleep 1
done
python3 "$root/bench/sse_latency.py" bench-admin-pw "$warmup" "${urls[@]}" > /dev/null
python3 "$root/bench/sse_latency.py" bench-admin-pw "$deploys" "${urls[@]}"
