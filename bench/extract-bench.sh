#!/usr/bin/env bash
# The extractor alone against `tar xzf`, on the same archive and file system, without the node, the
# upload or the disk's swings (by default on tmpfs): what the extraction code costs, warm, and the
# garbage collections it causes. bench/deploy-bench.sh measures the node's whole extract phase.
# Usage: bench/extract-bench.sh [archive, default bench/out/small-40000.tar.gz (made by deploy-bench.sh)]
#        env: ROUNDS=6 DIR=/dev/shm/extract-bench JAVA_OPTS="-Xms64m -Xmx256m -XX:+UseSerialGC"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
archive="${1:-$root/bench/out/small-40000.tar.gz}"
rounds="${ROUNDS:-6}"; dir="${DIR:-/dev/shm/extract-bench}"
[ -f "$archive" ] || { echo "no $archive: run bench/deploy-bench.sh once, or pass a .tar.gz" >&2; exit 1; }
rm -rf "$dir"; mkdir -p "$dir"; trap 'rm -rf "$dir"' EXIT
"$root/bin/deploy-node" --build
for round in $(seq 1 "$rounds"); do
  mkdir "$dir/tar-$round"
  start=$(date +%s.%N); tar xzf "$archive" -C "$dir/tar-$round"; end=$(date +%s.%N)
  printf 'tar xzf   round %d: %.3f s\n' "$round" "$(echo "$end - $start" | bc)"
  rm -rf "$dir/tar-$round"
done
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
java ${JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC} \
  -cp "$root/runtime/target/classes:$root/http-api/target/lib/*" "$root/bench/ExtractBench.java" "$archive" "$dir" "$rounds"
