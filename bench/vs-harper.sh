#!/usr/bin/env bash
# Side by side with Harper 4.7.29's deploy_component (issue 30). Installs harperdb@4.7.29 from the npm
# registry once (into HARPER_DIR, default bench/out/harper), runs it in a network namespace that has
# only loopback (its internal port listens on every interface), and one of our nodes (-Xmx256m) beside
# it. For each size (MiB of fresh random data, gzip'd) it alternates our deploy and Harper's, ROUNDS
# times (a fresh payload per round, the same one for both), and prints per deploy the wall time and
# each server's CPU seconds; then medians, the ratio ours / Harper, and each server's peak RSS (VmHWM)
# after that size. Harper gets the payload the fastest way it takes: a CBOR body with a byte string.
# With DIR_MIB > 0 it then deploys a directory of DIR_MIB random MiB with each CLI (ours: deployctl,
# packing while sending; Harper's: harperdb.js deploy, which packs in memory).
# Usage: bench/vs-harper.sh [sizes, default "1 200 1000"]
#        env: ROUNDS=5 DIR_MIB=200 HARPER_DIR=bench/out/harper SKIP_BUILD= KEEP_WORK=
# Needs: root (unshare -n), npm, python3, curl.
# Harper's install (npm, then its root under HARPER_DIR) is kept for later runs; a first run takes a
# few minutes longer. Figures and their reading: bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes="${1:-1 200 1000}"
rounds="${ROUNDS:-5}"
dir_mib="${DIR_MIB:-200}"
out="$root/bench/out"; mkdir -p "$out"
harper_dir="${HARPER_DIR:-$out/harper}"
work="$(mktemp -d "$out/vs-harper.XXXX")"
pw=bench-admin-pw
ours_port=19961
ours_pid=""; harper_pid=""
cleanup() {
  [ -n "$ours_pid" ] && kill "$ours_pid" 2>/dev/null && wait "$ours_pid" 2>/dev/null || true
  [ -n "$harper_pid" ] && kill "$harper_pid" 2>/dev/null && wait "$harper_pid" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

if [ ! -f "$harper_dir/node_modules/harperdb/bin/harperdb.js" ]; then
  echo "installing harperdb@4.7.29 into $harper_dir..." >&2
  mkdir -p "$harper_dir" && (cd "$harper_dir" && npm install --no-audit --no-fund harperdb@4.7.29 >&2)
fi
harper_js="$harper_dir/node_modules/harperdb/bin/harperdb.js"
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests install) >&2
fi
touch "$root/http-api/target/.built" "$root/cli/target/.built"

# Harper: installed non-interactively into the work directory, then run in its own network namespace.
export TC_AGREEMENT=yes ROOTPATH="$harper_dir/root" HDB_ADMIN_USERNAME=admin HDB_ADMIN_PASSWORD="$pw" \
  DEFAULTS_MODE=dev REPLICATION_HOSTNAME=localhost
export HARPER_SET_CONFIG='{"http":{"port":"127.0.0.1:9926","securePort":null},"operationsApi":{"network":{"port":"127.0.0.1:9925","securePort":null,"domainSocket":null}},"mqtt":{"network":{"port":"127.0.0.1:1883","securePort":null}},"replication":{"securePort":null},"localStudio":{"enabled":false},"logging":{"level":"info","stdStreams":false}}'
harper_home="$harper_dir/home"
if [ ! -f "$harper_home/.harperdb/hdb_boot_properties.file" ]; then # installed once, kept for later runs
  echo "installing Harper's root into $ROOTPATH..." >&2
  rm -rf "$ROOTPATH" "$harper_home" && mkdir -p "$harper_home"
  HOME="$harper_home" node "$harper_js" install < /dev/null > "$harper_dir/install.log" 2>&1
fi
HOME="$harper_home" unshare -n bash -c "ip link set lo up && exec node '$harper_js' run" \
  > "$work/harper.log" 2>&1 & harper_pid=$!
in_ns() { nsenter -t "$harper_pid" -n "$@"; }
harper_ready() {
  in_ns curl -sf -u "admin:$pw" -H 'Content-Type: application/json' \
    -d '{"operation":"get_components"}' http://127.0.0.1:9925/ > /dev/null 2>&1
}

DEPLOY_DATA_DIR="$work/ours" DEPLOY_HTTP_PORT=$ours_port DEPLOY_CLUSTER_PORT=12591 \
  DEPLOY_ADMIN_PASSWORD="$pw" DEPLOY_NODE_NAME=bench-node JAVA_OPTS="-Xmx256m" \
  "$root/bin/deploy-node" > "$work/ours.log" 2>&1 & ours_pid=$!
for _ in $(seq 1 1200); do # Harper takes minutes to start on this machine
  curl -sf "http://127.0.0.1:$ours_port/health/ready" > /dev/null 2>&1 && harper_ready && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$ours_port/health/ready" > /dev/null || { tail "$work/ours.log"; exit 1; }
harper_ready || { tail "$work/harper.log"; exit 1; }

cpu() { # pid -> CPU seconds so far (user + system)
  awk -v hz="$(getconf CLK_TCK)" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.3f", (f[12] + f[13]) / hz }' "/proc/$1/stat"
}
peak_rss_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }

# Harper refuses a payload in which none of its components finds a file ("is this a valid
# component?"), and without a config.yaml it found none here; a config.yaml serving one static page
# makes the payload a component at the least cost to it (no JavaScript module to load).
component_marker() {
  printf "static:\n  files: 'web/*'\n" > "$1/config.yaml"
  mkdir -p "$1/web" && echo '<p>bench</p>' > "$1/web/index.html"
}
payload() { # MiB -> .tar.gz of fresh random data (and the marker)
  mkdir -p "$work/gen" && head -c $(($1 * 1048576)) /dev/urandom > "$work/gen/data.bin"
  component_marker "$work/gen"
  tar cf - -C "$work/gen" . | gzip -1 > "$work/payload.tgz" && rm -rf "$work/gen"
}
cbor_body() { # project -> $work/body.cbor: {"operation": "deploy_component", "project": P, "payload": <bytes>}
  python3 - "$1" "$work/payload.tgz" "$work/body.cbor" <<'PY'
import os, struct, sys
def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)
def text(s):
    b = s.encode()
    return head(3, len(b)) + b
project, payload, body = sys.argv[1], sys.argv[2], sys.argv[3]
with open(body, "wb") as out, open(payload, "rb") as src:
    out.write(head(5, 3) + text("operation") + text("deploy_component") + text("project") + text(project)
              + text("payload") + head(2, os.path.getsize(payload)))
    while chunk := src.read(1 << 20):
        out.write(chunk)
PY
}

deploy_ours() { # -> "seconds cpu"
  local c0 t0 t1 c1
  c0=$(cpu "$ours_pid"); t0=$(now)
  curl -sS -f -u "admin:$pw" -X POST -H 'Content-Type: application/gzip' -T "$work/payload.tgz" \
    "http://127.0.0.1:$ours_port/deployments?project=bench" > "$work/answer"
  t1=$(now); c1=$(cpu "$ours_pid")
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc)"
}
deploy_harper() { # -> "seconds cpu" (the CBOR body is built beforehand, outside the timing)
  local c0 t0 t1 c1
  cbor_body bench
  c0=$(cpu "$harper_pid"); t0=$(now)
  in_ns curl -sS -f -u "admin:$pw" -X POST -H 'Content-Type: application/cbor' -T "$work/body.cbor" \
    --request-target / http://127.0.0.1:9925/ > "$work/answer"
  t1=$(now); c1=$(cpu "$harper_pid")
  grep -q 'Successfully deployed' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc)"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
report() { # label, file of "ours_s ours_cpu harper_s harper_cpu" lines
  local os oc hs hc
  os=$(cut -d' ' -f1 "$2" | median); oc=$(cut -d' ' -f2 "$2" | median)
  hs=$(cut -d' ' -f3 "$2" | median); hc=$(cut -d' ' -f4 "$2" | median)
  printf "%-22s ours %7.3f s (cpu %6.3f s)   Harper %7.3f s (cpu %6.3f s)   ours/Harper %.2f   peak RSS ours %s / Harper %s MiB\n" \
    "$1" "$os" "$oc" "$hs" "$hc" "$(echo "$os / $hs" | bc -l)" "$(peak_rss_mib "$ours_pid")" "$(peak_rss_mib "$harper_pid")"
}

rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
echo "idle RSS after start: ours $(rss_mib "$ours_pid") MiB, Harper $(rss_mib "$harper_pid") MiB"

# The directory first, while our node is fresh: its first CLI deploy is also the "first deploy after
# a start" figure, set against the median of the warm ones that follow.
if [ "$dir_mib" -gt 0 ]; then
  mkdir -p "$work/site" && head -c $((dir_mib * 1048576)) /dev/urandom > "$work/site/data.bin"
  component_marker "$work/site"
  : > "$work/rows"
  for r in $(seq 1 "$rounds"); do
    head -c 4096 /dev/urandom > "$work/site/fresh.bin"
    t0=$(now); c0=$(cpu "$ours_pid")
    DEPLOY_URL="http://127.0.0.1:$ours_port" DEPLOY_USER=admin DEPLOY_PASSWORD="$pw" \
      "$root/bin/deployctl" deploy "$work/site" --project site > /dev/null
    o="$(echo "$(now) - $t0" | bc) $(echo "$(cpu "$ours_pid") - $c0" | bc)"
    t0=$(now); c0=$(cpu "$harper_pid")
    (cd "$work/site" && in_ns node "$harper_js" deploy target=http://127.0.0.1:9925 username=admin \
      password="$pw" project=site > /dev/null)
    h="$(echo "$(now) - $t0" | bc) $(echo "$(cpu "$harper_pid") - $c0" | bc)"
    echo "directory round $r: ours $o, Harper $h" >&2
    echo "$o $h" >> "$work/rows"
  done
  first=$(head -1 "$work/rows" | cut -d' ' -f1)
  tail -n +2 "$work/rows" > "$work/warm"
  if [ -s "$work/warm" ]; then
    warm=$(cut -d' ' -f1 "$work/warm" | median)
    printf "first CLI deploy after start %.3f s, warm median %.3f s: first / warm %.2f\n" \
      "$first" "$warm" "$(echo "$first / $warm" | bc -l)"
    report "$dir_mib MiB dir, CLI to CLI (warm)" "$work/warm"
  fi
fi

for size in $sizes; do
  : > "$work/rows"
  for r in $(seq 1 "$rounds"); do
    payload "$size"
    if [ $((r % 2)) = 1 ]; then o=$(deploy_ours); h=$(deploy_harper); else h=$(deploy_harper); o=$(deploy_ours); fi
    echo "$size MiB round $r: ours $o, Harper $h" >&2
    echo "$o $h" >> "$work/rows"
  done
  report "$size MiB (median of $rounds)" "$work/rows"
done
echo "RSS at the end: ours $(rss_mib "$ours_pid") MiB, Harper $(rss_mib "$harper_pid") MiB"
