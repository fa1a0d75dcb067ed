#!/usr/bin/env bash
# Does a JDK 25 AOT cache (JEP 483/514/515: classes loaded and linked, and method profiles, from a
# training run) take the cold cost off the first deploys after a node starts (issue 30's "first deploy
# after a start / a warm one" goal)? Trains a cache once on a node that makes TRAIN deploys of 1 and
# SIZE_MIB MiB, then starts fresh nodes ROUNDS times, alternating without and with the cache, and on
# each measures: start to ready, the first SIZE_MIB deploy, the first 1 MiB deploy, then the median of
# WARM more SIZE_MIB deploys. Prints per-round rows and the medians of each arm.
# Usage: bench/aot-cache.sh   env: JDK=/usr/lib/jvm/temurin-25-jdk-amd64 SIZE_MIB=200 ROUNDS=3
#                                  TRAIN=12 WARM=5
# The node is started as bin/deploy-node starts it (same JVM defaults) but from jars only, the
# checkout's config/ packed into one: an AOT cache refuses a class path with a non-empty directory.
# Needs: curl, bc, a JDK 25 or later; the project built (bin/deploy-node --build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jdk="${JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
size="${SIZE_MIB:-200}"
rounds="${ROUNDS:-3}"
train="${TRAIN:-12}"
warm="${WARM:-5}"
out="$root/bench/out"; mkdir -p "$out"
work="$(mktemp -d "$out/aot.XXXX")"
cache="$work/node.aot"
port=19975
pw=bench-admin-pw
node_pid=""
stop_node() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
    node_pid=""
  fi
}
trap 'stop_node; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$root/bin/deploy-node" --build
(cd "$root/config" && "$jdk/bin/jar" cf "$work/config.jar" .)
node_jar=$(ls "$root"/http-api/target/http-api-*.jar | grep -v -- -tests.jar)
classpath="$work/config.jar:$node_jar:$root/http-api/target/lib/*"
export PATH="$jdk/bin:$PATH" MALLOC_ARENA_MAX=2
umask 077

payload() { # $1 MiB of fresh random bytes as a .tar.gz at $work/p-$1.tgz
  mkdir -p "$work/gen" && head -c $(($1 * 1048576)) /dev/urandom > "$work/gen/data.bin"
  tar cf - -C "$work/gen" . | gzip -1 > "$work/p-$1.tgz" && rm -rf "$work/gen"
}
now() { date +%s.%N; }
deploy() { # $1 MiB -> seconds
  payload "$1"
  local t0 t1
  t0=$(now)
  curl -sS -f -u "admin:$pw" -X POST -H 'Content-Type: application/gzip' -T "$work/p-$1.tgz" \
    "http://127.0.0.1:$port/deployments?project=bench" > "$work/answer"
  t1=$(now)
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}
start_node() { # $1: extra JVM options; seconds to ready in $work/ready (not in a subshell: node_pid)
  rm -rf "$work/data"
  local t0; t0=$(now)
  # shellcheck disable=SC2086 # $1 is a list of options
  DEPLOY_DATA_DIR="$work/data" DEPLOY_HTTP_PORT=$port DEPLOY_CLUSTER_PORT=12575 \
    DEPLOY_ADMIN_PASSWORD="$pw" DEPLOY_NODE_NAME=aot-node \
    java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:Tier4InvocationThreshold=50000 \
    -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000 \
    $1 -cp "$classpath" dev.deployrt.http.NodeMain \
    > "$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null || { tail "$work/node.log"; exit 1; }
  echo "$(now) - $t0" | bc > "$work/ready"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

java -version 2>&1 | head -1
echo "training the cache: $train deploys of 1 and $size MiB"
start_node "-XX:AOTCacheOutput=$cache"
for _ in $(seq 1 "$train"); do deploy 1 > /dev/null; deploy "$size" > /dev/null; done
stop_node
[ -f "$cache" ] || { echo "no cache written"; tail -20 "$work/node.log"; exit 1; }
echo "cache: $(du -m "$cache" | cut -f1) MiB"

: > "$work/rows"
printf "%-6s %-5s %8s %10s %10s %10s %7s\n" round arm ready first-big first-1 warm-big ratio
for r in $(seq 1 "$rounds"); do
  for arm in none aot; do
    opts=""; [ "$arm" = aot ] && opts="-XX:AOTCache=$cache"
    start_node "$opts"; ready=$(cat "$work/ready")
    big=$(deploy "$size"); small=$(deploy 1)
    : > "$work/warm"; for _ in $(seq 1 "$warm"); do deploy "$size" >> "$work/warm"; done
    w=$(median < "$work/warm")
    stop_node
    ratio=$(echo "scale=2; $big / $w" | bc)
    printf "%-6s %-5s %8.2f %10.3f %10.3f %10.3f %7s\n" "$r" "$arm" "$ready" "$big" "$small" "$w" "$ratio"
    echo "$arm $ready $big $small $w $ratio" >> "$work/rows"
  done
done
echo "medians:"
for arm in none aot; do
  col() { awk -v a="$arm" -v c="$1" '$1 == a { print $c }' "$work/rows" | median; }
  printf "%-5s ready %.2f s, first %s MiB %.3f s, first 1 MiB %.3f s, warm %s MiB %.3f s, first/warm %.2f\n" \
    "$arm" "$(col 2)" "$size" "$(col 3)" "$(col 4)" "$size" "$(col 5)" "$(col 6)"
done
