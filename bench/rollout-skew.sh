#!/usr/bin/env bash
# Two-phase switch skew (issue 29): three node JVMs on this machine (127.0.0.1, a PostgreSQL database
# the script creates and drops), project "skew" set to strategy two-phase with no health window, then
# WARMUP (default 5, not counted: the JIT is still compiling the deploy path) and then DEPLOYS
# (default 30) deploys of a small fresh payload. For each deployment the record's "activate"
# phase event gives data.skew_ms: the time between the first and the last node's switch of current
# (each node's own clock; all three share this machine's). Prints every skew, then p50, p99 and max.
# Usage: bench/rollout-skew.sh   env: DEPLOYS=30 WARMUP=5 HEAP=256m PGURL=postgresql://postgres@127.0.0.1:5432
#        NODE_JAVA_OPTS=<extra JVM options> (e.g. -Dpekko.cluster.distributed-data.notify-subscribers-interval=100ms)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploys="${DEPLOYS:-30}"
warmup="${WARMUP:-5}"
heap="${HEAP:-256m}"
pgurl="${PGURL:-postgresql://postgres@127.0.0.1:5432}"
out="$root/bench/out"; mkdir -p "$out"
work="$(mktemp -d "$out/skew.XXXX")"
db="deploy_skew_$$"
pids=()
cleanup() {
  local status=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    mkdir -p "$out/skew-logs" && cp "$work"/*.log "$out/skew-logs/" 2>/dev/null || true
    echo "node logs kept in $out/skew-logs" >&2
  fi
  psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built"

port() { echo $((19950 + $1)); }
api="http://127.0.0.1:$(port 1)"
auth=(-u admin:bench-admin-pw)
psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
for i in 1 2 3; do
  DEPLOY_NODE_NAME="node-$i" DEPLOY_DATA_DIR="$work/node-$i" DEPLOY_HTTP_PORT="$(port "$i")" \
    DEPLOY_CLUSTER_PORT=$((12580 + i)) DEPLOY_SEED_NODES="127.0.0.1:12581" DEPLOY_ADMIN_PASSWORD=bench-admin-pw \
    DEPLOY_DB_URL="jdbc:postgresql://127.0.0.1:5432/$db" DEPLOY_DB_USER=postgres \
    JAVA_OPTS="-Xmx$heap ${NODE_JAVA_OPTS:-}" "$root/bin/deploy-node" > "$work/node-$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 300); do
  up=$(curl -s "${auth[@]}" "$api/cluster/nodes" 2>/dev/null \
    | python3 -c "import json,sys; print(sum(1 for m in json.load(sys.stdin)['nodes'] if m['status']=='up'))" 2>/dev/null || echo 0)
  ready=1; for i in 1 2 3; do curl -sf "http://127.0.0.1:$(port "$i")/health/ready" >/dev/null || ready=0; done
  [ "$up" = 3 ] && [ "$ready" = 1 ] && break
  sleep 0.5
done
[ "$up" = 3 ] || { echo "the cluster did not form" >&2; exit 1; }
curl -sf "${auth[@]}" -X PUT -H 'Content-Type: application/json' \
  -d '{"rollout":{"strategy":"two-phase","health_window_s":0}}' "$api/projects/skew/settings" > /dev/null

mkdir -p "$work/component"
: > "$work/skews"
for i in $(seq 1 $((warmup + deploys))); do
  head -c 65536 /dev/urandom > "$work/component/data.bin"
  tar czf "$work/payload.tgz" -C "$work/component" .
  curl -sS -f "${auth[@]}" -H 'Content-Type: application/gzip' --data-binary @"$work/payload.tgz" \
    "$api/deployments?project=skew" > "$work/answer"
  python3 - "$work/answer" >> "$work/skews" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["status"] != "succeeded":
    sys.exit(f"deployment {d['deployment_id']} ended {d['status']}: {d.get('error')}")
skews = [e["data"]["skew_ms"] for e in d["events"] if "skew_ms" in e.get("data", {})]
if not skews:
    sys.exit(f"deployment {d['deployment_id']} has no skew event")
print(skews[0])
PY
  [ "$i" -le "$warmup" ] && sed -i '$d' "$work/skews"
done

python3 - "$work/skews" <<'PY'
import sys
in_order = [int(line) for line in open(sys.argv[1])]
print("skews in deploy order (ms):", " ".join(map(str, in_order)))
skews = sorted(in_order)
def pct(p):
    return skews[min(len(skews) - 1, round(p / 100 * (len(skews) - 1)))]

print(f"deploys: {len(skews)}, switch skew p50 {pct(50)} ms, p99 {pct(99)} ms, max {skews[-1]} ms")
PY
