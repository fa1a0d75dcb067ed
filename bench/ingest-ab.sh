#!/usr/bin/env bash
# Side-by-side A/B of the upload path: two nodes on one machine with different JVM options, fed the
# same fresh random payloads in alternating order. By default node "a" writes staging files through
# the page cache (deploy.upload.direct-io=false) and node "b" with direct I/O (the default). Reports
# each deploy's ingest time (upload until stored, wait=false answer), the node's CPU seconds for it,
# the medians, and each node's peak RSS (VmHWM) at the end.
# Usage: bench/ingest-ab.sh [size MiB, default 1024]
#        env: ROUNDS=4 WARMUP=3 HEAP=256m A_OPTS=-Ddeploy.upload.direct-io=false B_OPTS=-Ddeploy.upload.direct-io=true
#             A_SMALL_WARMUP=0 B_SMALL_WARMUP=0: that many extra fresh 1 MiB deploys to that node first (to
#             compare a node whose control plane the JIT has compiled with one that only saw WARMUP deploys)
#             (an empty A_OPTS or B_OPTS means no extra options, not the default)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mib="${1:-1024}"; rounds="${ROUNDS:-4}"; heap="${HEAP:-256m}"
a_opts="${A_OPTS--Ddeploy.upload.direct-io=false}"; b_opts="${B_OPTS--Ddeploy.upload.direct-io=true}"
echo "a: $a_opts"; echo "b: $b_opts"
mkdir -p "$root/bench/out"
work="$(mktemp -d "$root/bench/out/ab.XXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built"

start() { # name, http port, cluster port, JVM options
  DEPLOY_DATA_DIR="$work/$1" DEPLOY_HTTP_PORT=$2 DEPLOY_CLUSTER_PORT=$3 DEPLOY_ADMIN_PASSWORD=bench-admin-pw \
    DEPLOY_NODE_NAME="$1" JAVA_OPTS="-Xms64m -Xmx$heap -XX:+UseSerialGC $4" \
    exec "$root/bin/deploy-node" > "$work/$1.log" 2>&1
}
start a 19941 12571 "$a_opts" & pids+=($!)
start b 19942 12572 "$b_opts" & pids+=($!)
declare -A port=([a]=19941 [b]=19942) token=() jpid=()
for n in a b; do
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:${port[$n]}/health/ready" >/dev/null && break; sleep 1; done
  token[$n]="$(curl -sS -u admin:bench-admin-pw -H 'Content-Type: application/json' -d '{"description":"ab"}' \
    "http://127.0.0.1:${port[$n]}/tokens" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")"
  jpid[$n]="$(for p in $(pgrep java); do grep -qz "DEPLOY_HTTP_PORT=${port[$n]}" "/proc/$p/environ" 2>/dev/null && echo "$p"; done | head -1 || true)"
done

payload() { # [size MiB, default the measured size]
  mkdir -p "$work/gen" && head -c "$((${1:-$mib} * 1048576))" /dev/urandom > "$work/gen/data.bin"
  tar cf - -C "$work/gen" data.bin | gzip -1 > "$work/p.tgz" && rm -rf "$work/gen" && sync
}
cpu() { awk '{print $14 + $15}' "/proc/${jpid[$1]}/stat"; }
deploy() { # node, project -> "seconds cpu_seconds"
  local c0 t0 t1 c1 out
  c0=$(cpu "$1"); t0=$(date +%s.%N)
  out="$(curl -sS -H "Authorization: Bearer ${token[$1]}" -X POST -T "$work/p.tgz" -H 'Content-Type: application/gzip' \
    "http://127.0.0.1:${port[$1]}/deployments?project=$2&wait=false")"
  t1=$(date +%s.%N); c1=$(cpu "$1")
  echo "$out" | grep -q '"deployment_id"' || { echo "deploy to $1 failed: $out" >&2; exit 1; }
  python3 -c "print(f'{$t1 - $t0:.3f} {($c1 - $c0) / 100:.2f}')"
}

for n in a b; do
  small="$([ "$n" = a ] && echo "${A_SMALL_WARMUP:-0}" || echo "${B_SMALL_WARMUP:-0}")"
  for _ in $(seq 1 "$small"); do payload 1; deploy "$n" small >/dev/null; done
done
for _ in $(seq 1 "${WARMUP:-3}"); do payload; deploy a warm >/dev/null; deploy b warm >/dev/null; done   # JIT warm-up, unreported
declare -A times=() cpus=()
for r in $(seq 1 "$rounds"); do
  payload
  order="a b"; [ $((r % 2)) = 0 ] && order="b a"
  for n in $order; do
    sync; sleep 2   # let the disk finish the previous upload's writes, so the order does not decide
    read -r s c < <(deploy "$n" "ab$r")
    times[$n]+="$s "; cpus[$n]+="$c "
    printf 'round %d %s %6.3f s %5.0f MB/s  node cpu %5.2f s\n' "$r" "$n" "$s" "$(python3 -c "print($mib * 1.048576 / $s)")" "$c"
  done
done
for n in a b; do echo "node $n peak RSS $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' "/proc/${jpid[$n]}/status")"; done
python3 - "$mib" "${times[a]}" "${times[b]}" "${cpus[a]}" "${cpus[b]}" <<'PY'
import statistics as st, sys
mib = int(sys.argv[1]); a, b, ca, cb = ([float(x) for x in v.split()] for v in sys.argv[2:])
ma, mb = st.median(a), st.median(b)
print(f"median ingest of {mib} MiB: a {ma:.3f} s ({mib*1.048576/ma:.0f} MB/s), b {mb:.3f} s "
      f"({mib*1.048576/mb:.0f} MB/s): b takes {mb/ma:.2f}x a's time; node CPU median a {st.median(ca):.2f} s, b {st.median(cb):.2f} s")
PY
