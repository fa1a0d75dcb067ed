#!/usr/bin/env bash
# Retention benchmark: DEPLOYS (default 1000) deploys of a SIZE_MIB (default 1) MiB incompressible
# project on one node with keep_releases=KEEP_RELEASES (3) and keep_payloads=KEEP_PAYLOADS (5). After
# every deploy it samples the data directory's size (du, excluding the embedded database, which holds
# the history and grows with it by design) and the deploy's wall time. Reports the largest size seen
# against (keep_releases + keep_payloads) x payload size, and the median latency of deploys 1-20
# against 981-1000 (medians of 20, since single deploys are noisy on a shared machine).
# Usage: bench/retention-bench.sh     env: DEPLOYS=1000 SIZE_MIB=1 KEEP_RELEASES=3 KEEP_PAYLOADS=5
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploys="${DEPLOYS:-1000}"
size_mib="${SIZE_MIB:-1}"
keep_releases="${KEEP_RELEASES:-3}"
keep_payloads="${KEEP_PAYLOADS:-5}"
http_port=19945
cluster_port=12571
bench_dir="${BENCH_DIR:-$root/bench/out}"
mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/retention.XXXX")"
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built" "$root/cli/target/.built"

DEPLOY_DATA_DIR="$work/node" DEPLOY_HTTP_PORT=$http_port DEPLOY_CLUSTER_PORT=$cluster_port \
  DEPLOY_ADMIN_PASSWORD=bench-admin-pw DEPLOY_NODE_NAME=bench-node \
  "$root/bin/deploy-node" > "$work/node.log" 2>&1 & node_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null || { cat "$work/node.log"; exit 1; }
api="http://127.0.0.1:$http_port"
auth=(-u admin:bench-admin-pw)
curl -sf "${auth[@]}" -X PUT -H 'Content-Type: application/json' \
  -d "{\"keep_releases\":$keep_releases,\"keep_payloads\":$keep_payloads}" "$api/projects/bench/settings" > /dev/null

mkdir -p "$work/component"
payload_bytes=0
: > "$work/samples"
for i in $(seq 1 "$deploys"); do
  head -c $((size_mib * 1048576)) /dev/urandom > "$work/component/data.bin"
  echo "$i" > "$work/component/version.txt"
  tar czf "$work/payload.tgz" -C "$work/component" .
  payload_bytes=$(stat -c %s "$work/payload.tgz")
  t0=$(date +%s%N)
  curl -sS -f "${auth[@]}" -H 'Content-Type: application/gzip' --data-binary @"$work/payload.tgz" \
    "$api/deployments?project=bench" > "$work/answer"
  t1=$(date +%s%N)
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer"; exit 1; }
  bytes=$(du -sb --exclude=db "$work/node" | cut -f1)
  echo "$i $(( (t1 - t0) / 1000000 )) $bytes" >> "$work/samples"
done

python3 - "$work/samples" "$payload_bytes" "$keep_releases" "$keep_payloads" "$size_mib" <<'PY'
import statistics, sys
rows = [tuple(map(int, line.split())) for line in open(sys.argv[1])]
payload, keep_r, keep_p, size_mib = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
release = size_mib * 1048576
bound = keep_p * payload + keep_r * release
peak = max(r[2] for r in rows)
first = statistics.median(r[1] for r in rows[:20])
last = statistics.median(r[1] for r in rows[-20:])
print(f"deploys: {len(rows)}, payload {payload} B, release {release} B")
print(f"data dir (without db/): peak {peak} B, end {rows[-1][2]} B; "
      f"keep_payloads x payload + keep_releases x release = {bound} B; overhead at peak {peak - bound} B")
print(f"deploy latency, median ms: first 20 {first:.0f}, last 20 {last:.0f}, ratio {last / first:.2f}")
PY
echo "db/ at the end: $(du -sb "$work/node/db" | cut -f1) B (the history of $deploys deployments)"
