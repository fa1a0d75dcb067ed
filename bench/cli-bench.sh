#!/usr/bin/env bash
# deployctl benchmark (issue 7): deploys a directory of SIZE_MIB (default 1024) of incompressible
# files with bin/deployctl and reports the CLI's own peak RSS (GNU time's "Maximum resident set
# size") and its wall time, next to a shell pipeline doing the same upload in the same run:
#   tar cf - DIR | gzip -1 | curl -T - (the usual hand-rolled deploy script).
# Each is the best of ROUNDS (default 2) runs, alternating which goes first; every deploy is a project
# of its own. Both tools pack deterministically, so from round 2 on the node already holds the bytes
# (it still hashes, validates and extracts them): the same for both, and the upload is what differs.
# Usage: bench/cli-bench.sh          env: SIZE_MIB=1024 ROUNDS=2 BENCH_DIR=<dir> (default bench/out)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${SIZE_MIB:-1024}"
rounds="${ROUNDS:-2}"
http_port=19935
cluster_port=12561
bench_dir="${BENCH_DIR:-$root/bench/out}"
mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/cli.XXXX")"
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built" "$root/cli/target/.built"

echo "generating $size_mib MiB in $work/component ..." >&2
mkdir -p "$work/component/assets"
files=$(( size_mib / 16 ))
for i in $(seq 1 "$files"); do head -c $((16 * 1048576)) /dev/urandom > "$work/component/assets/blob-$i.bin"; done
echo "<h1>bench</h1>" > "$work/component/index.html"
sync

DEPLOY_DATA_DIR="$work/node" DEPLOY_HTTP_PORT=$http_port DEPLOY_CLUSTER_PORT=$cluster_port \
  DEPLOY_ADMIN_PASSWORD=bench-admin-pw DEPLOY_NODE_NAME=bench-node JAVA_OPTS="-Xms64m -Xmx256m -XX:+UseSerialGC" \
  "$root/bin/deploy-node" > "$work/node.log" 2>&1 & node_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null || { cat "$work/node.log"; exit 1; }

export DEPLOY_URL="http://127.0.0.1:$http_port" DEPLOY_USER=admin DEPLOY_PASSWORD=bench-admin-pw
cli_run() { # round
  /usr/bin/time -f "%e %M" -o "$work/time" "$root/bin/deployctl" deploy "$work/component" --project "cli$1" \
    > "$work/cli.out" 2>&1 || { cat "$work/cli.out"; exit 1; }
  read -r secs rss_kib < "$work/time"
  echo "$secs $rss_kib"
}
pipe_run() { # round
  local t0 t1
  t0=$(date +%s.%N)
  tar cf - -C "$work/component" . | gzip -1 | curl -sS -f -u admin:bench-admin-pw -X POST -T - -H 'Content-Type: application/gzip' \
    "http://127.0.0.1:$http_port/deployments?project=pipe$1&timeout=600" > "$work/pipe.out"
  t1=$(date +%s.%N)
  grep -q '"status":"succeeded"' "$work/pipe.out" || { cat "$work/pipe.out"; exit 1; }
  python3 -c "print(f'{$t1 - $t0:.2f}')"
}

cli_best=""; rss_max=0; pipe_best=""
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then r=$(cli_run "$round"); p=$(pipe_run "$round"); else p=$(pipe_run "$round"); r=$(cli_run "$round"); fi
  read -r s k <<< "$r"
  echo "round $round: deployctl ${s}s peak RSS $((k / 1024)) MB; tar|gzip -1|curl ${p}s" >&2
  cli_best=$(python3 -c "print(min(x for x in [$s, ${cli_best:-1e9}]))")
  pipe_best=$(python3 -c "print(min(x for x in [$p, ${pipe_best:-1e9}]))")
  rss_max=$(( k > rss_max ? k : rss_max ))
done
echo
echo "payload: ${size_mib} MiB in $((files + 1)) files (random bytes), node -Xmx256m, ROUNDS=$rounds, best wall time"
printf '%-28s %10s %14s\n' "" "wall_s" "peak_RSS_MB"
printf '%-28s %10s %14s\n' "bin/deployctl deploy DIR" "$cli_best" "$((rss_max / 1024))"
printf '%-28s %10s %14s\n' "tar | gzip -1 | curl -T -" "$pipe_best" "-"
python3 -c "print(f'deployctl / pipeline wall time: {$cli_best / $pipe_best:.2f}x')"
tail -3 "$work/cli.out"
