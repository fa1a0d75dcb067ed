#!/usr/bin/env bash
# Upload and extraction benchmark for one node (issue 2). Measures, in one run and on the same files:
#   - deploy of 1 MiB, 200 MiB and 1 GiB payloads: ingest time (upload until stored, wait=false),
#     end-to-end time (until succeeded), MB/s, and the node's peak RSS per payload (VmHWM);
#   - the machine's own limits for each file: openssl SHA-256, a copy to the same disk with sync,
#     a plain loopback HTTP transfer to a discarding sink, and tar xzf;
#   - the same upload to bench/IngestCeiling.java, a hand-written receiver that does only the work an
#     upload must do (SHA-256, inflate, O_DIRECT write, fsync) on its own threads, without Pekko: how
#     fast this machine can ingest, to judge the node's overhead against;
#   - extraction of a payload of many small files: the node's extract phase vs tar xzf of the same file.
# Every figure is the best of ROUNDS runs (the machine is shared and noisy), after WARMUP uncounted
# deploys of each size so the node's JIT is warm, as it is on a node that has been running (a fresh
# node's first 200 MiB deploys took 2.4, 1.1 and 1.0 CPU-s, then 0.7 from the fourth on; the JIT
# still compiled 300-450 methods during each of deploys 3-5 and ~150-250 from the eighth on, so 8).
# The warm-up deploys' ingest times are printed too (the first is the node's first of that size).
# Usage: bench/deploy-bench.sh [sizes in MiB, default "1 200 1024"]
#        env: SMALL_FILES=40000 HEAP=256m ROUNDS=3 WARMUP=8 CONTROL_WARMUP=60
#             BENCH_DIR=<dir> puts the node's data and tar's output there (default bench/out); use a
#             tmpfs such as /dev/shm to compare the extractors without the disk's own noise.
# Before any size, CONTROL_WARMUP fresh 1 MiB deploys (wait=true): the control plane (recording the
# deployment, the commit, the answer, distribution, extraction's bookkeeping) runs a few times per
# deploy, so the JIT reaches it only after dozens of deploys; 60 small deploys compiled ~4,400 methods,
# after which a 200 MiB deploy saw 40-110 compilations instead of 160-250 (a node that has been running).
# Extraction rounds alternate which of tar and the node goes first and delete nothing between timed
# runs: on this machine's disk (ext4 with discard), deleting 40k files slows the next run many-fold.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bench/out"
sizes="${1:-1 200 1024}"
small_files="${SMALL_FILES:-40000}"
heap="${HEAP:-256m}"
rounds="${ROUNDS:-3}"
warmup="${WARMUP:-8}"
control_warmup="${CONTROL_WARMUP:-60}"
http_port=19925
cluster_port=12551
sink_port=19926
ceiling_port=19927
mkdir -p "$out"
bench_dir="${BENCH_DIR:-$out}"
mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/run.XXXX")"
node_pid=""; sink_pid=""; ceiling_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  [ -n "$ceiling_pid" ] && kill "$ceiling_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
best() { python3 -c "import sys; print(f'{min(float(x) for x in sys.argv[1:]):.3f}')" "$@"; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
mbps() { python3 -c "print(f'{$1 / 1048576 / $2:.0f}')"; }

payload() { # size in MiB -> path of a fresh .tar.gz of random (incompressible) data
  # Fresh for every deploy: a payload the node already holds is not written or synced again, which
  # would flatter the ingest figure; every real release is new bytes.
  local f="$work/payload-$1m.tar.gz"
  rm -f "$f"; mkdir -p "$work/gen" && head -c "$(($1 * 1048576))" /dev/urandom > "$work/gen/data.bin"
  tar cf - -C "$work/gen" data.bin | gzip -1 > "$f" && rm -rf "$work/gen"
  sync
  echo "$f"
}

small_payload() { # many small files, like a node_modules tree
  local f="$out/small-$small_files.tar.gz"
  if [ ! -f "$f" ]; then
    python3 - "$work/small" "$small_files" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
words = [("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 9)))) for _ in range(2000)]
for i in range(n):
    d = os.path.join(root, f"pkg{i % 400}", f"lib{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i}.js"), "w") as fh:
        fh.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(50, 600))))
PY
    tar czf "$f" -C "$work/small" . && rm -rf "$work/small"
  fi
  echo "$f"
}

echo "building..." >&2
(cd "$root" && ./mvnw -q -B -DskipTests install) >&2
touch "$root/http-api/target/.built"

python3 "$root/bench/discard_server.py" "$sink_port" & sink_pid=$!
java -Xmx64m "$root/bench/IngestCeiling.java" "$ceiling_port" "$work/ceiling" > "$work/ceiling.log" 2>&1 & ceiling_pid=$!

DEPLOY_DATA_DIR="$work/node" DEPLOY_HTTP_PORT=$http_port DEPLOY_CLUSTER_PORT=$cluster_port \
  DEPLOY_ADMIN_PASSWORD=bench-admin-pw DEPLOY_NODE_NAME=bench-node JAVA_OPTS="-Xms64m -Xmx$heap -XX:+UseSerialGC" \
  "$root/bin/deploy-node" > "$work/node.log" 2>&1 & node_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$http_port/health/ready" >/dev/null && break; sleep 1; done
java_pid="$(pgrep -f "DEPLOY_HTTP_PORT|dev.deployrt.http.NodeMain" | while read -r p; do
  grep -q "$http_port" "/proc/$p/environ" 2>/dev/null && echo "$p"; done | head -1)"
[ -n "$java_pid" ] || { echo "node did not start; see $work/node.log" >&2; cat "$work/node.log"; exit 1; }

# Deploys authenticate with an API token, as automation does: a password costs an Argon2id
# verification (~50 ms, by design) whenever the node's 30 s credential cache has lapsed, which would
# land in the ingest figure of every round.
token="$(curl -sS -u admin:bench-admin-pw -H 'Content-Type: application/json' -d '{"description":"deploy-bench"}' \
  "http://127.0.0.1:$http_port/tokens" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")"
deploy() { # file, project, wait -> prints the JSON response
  curl -sS -H "Authorization: Bearer $token" -X POST -T "$1" -H 'Content-Type: application/gzip' \
    "http://127.0.0.1:$http_port/deployments?project=$2&wait=$3&timeout=600"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
ceiling() { # file -> uploads it to the hand-written receiver; fails unless it answers 201
  curl -sS -f -X POST -T "$1" "http://127.0.0.1:$ceiling_port/"
}
# The next two helpers run inside the end-to-end timing, so they start no interpreter: python3 is a
# pyenv shim on some machines and costs 0.35 s a start, which once made a 1 MiB deploy look like 1.5 s.
deployment_id() { grep -o '"deployment_id":"[^"]*"' | cut -d'"' -f4; } # of the JSON response on stdin
await_done() { # deployment id
  for _ in $(seq 1 6000); do
    s="$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$http_port/deployments/$1" \
      | grep -o '"status":"[a-z]*"' | head -1 | cut -d'"' -f4)"
    case "$s" in succeeded|failed|partial|superseded) echo "$s"; return;; esac
    sleep 0.1
  done
}
phase_ms() { # deployment id, phase -> ms between "<phase> started" and "<phase> finished"
  curl -s -u admin:bench-admin-pw "http://127.0.0.1:$http_port/deployments/$1" | python3 -c "
import json, sys, datetime
d = json.load(sys.stdin); t = {}
for e in d['events']:
    if e['type'] == 'phase' and e['phase'] == '$2':
        t[e['message'].split()[-1]] = datetime.datetime.fromisoformat(e['time'].replace('Z', '+00:00'))
print(int((t['finished'] - t['started']).total_seconds() * 1000))"
}

printf '\n%-8s %9s %9s %9s %9s | %9s %9s %9s %9s | %6s %8s | %9s %6s\n' size ingest_s ingest_MB/s e2e_s peakRSS_MB \
  sha256_MB/s copy+sync loopback tar_xzf ratio% lowest ceiling ratio%
for _ in $(seq 1 "$control_warmup"); do
  f="$(payload 1)"; resp="$(deploy "$f" warm-control true)"
  echo "$resp" | grep -q '"status":"succeeded"' || { echo "control warm-up deploy failed: $resp" >&2; exit 1; }
done
warmups=""
for mib in $sizes; do
  warm=()
  for _ in $(seq 1 "$warmup"); do
    f="$(payload "$mib")"; t0=$(now); resp="$(deploy "$f" "warm$mib" false)"; t1=$(now); warm+=("$(secs "$t0" "$t1")")
    ceiling "$f" >/dev/null
    id="$(echo "$resp" | deployment_id)"
    [ "$(await_done "$id")" = succeeded ] || { echo "warm-up deploy of $mib MiB failed: $resp" >&2; exit 1; }
  done
  warmups+="  ${mib}MiB: ${warm[*]:-none}"$'\n'
  shas=(); copies=(); loops=(); untars=(); ceilings=(); ingests=(); e2es=(); rss=0
  for round in $(seq 1 "$rounds"); do
    f="$(payload "$mib")"; bytes=$(stat -c %s "$f")
    # machine limits, same file, same run
    sync; t0=$(now); openssl dgst -sha256 "$f" >/dev/null; t1=$(now); shas+=("$(secs "$t0" "$t1")")
    sync; t0=$(now); cp "$f" "$work/copy" && sync "$work/copy"; t1=$(now); copies+=("$(secs "$t0" "$t1")")
    rm -f "$work/copy"; sync
    t0=$(now); curl -sS -X POST -T "$f" "http://127.0.0.1:$sink_port/" >/dev/null; t1=$(now); loops+=("$(secs "$t0" "$t1")")
    mkdir -p "$work/x"; sync; t0=$(now); tar xzf "$f" -C "$work/x"; t1=$(now); untars+=("$(secs "$t0" "$t1")")
    rm -rf "$work/x"; sync
    t0=$(now); ceiling "$f" >/dev/null; t1=$(now); ceilings+=("$(secs "$t0" "$t1")")
    # the node
    echo 5 > "/proc/$java_pid/clear_refs" 2>/dev/null || true
    t0=$(now); resp="$(deploy "$f" "bench$mib" false)"; t1=$(now)
    id="$(echo "$resp" | deployment_id)"
    status="$(await_done "$id")"; t2=$(now)
    ingests+=("$(secs "$t0" "$t1")"); e2es+=("$(secs "$t0" "$t2")")
    [ "$status" = succeeded ] || { echo "deploy of $mib MiB ended $status: $resp" >&2; exit 1; }
    r=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$java_pid/status"); [ "$r" -gt "$rss" ] && rss=$r
  done
  sha=$(best "${shas[@]}"); copy=$(best "${copies[@]}"); loop=$(best "${loops[@]}"); untar=$(best "${untars[@]}")
  ingest=$(best "${ingests[@]}"); e2e=$(best "${e2es[@]}")
  ing=$(mbps "$bytes" "$ingest"); s=$(mbps "$bytes" "$sha"); c=$(mbps "$bytes" "$copy"); l=$(mbps "$bytes" "$loop")
  low=$(python3 -c "print(min($s, $c, $l))")
  ceil=$(mbps "$bytes" "$(best "${ceilings[@]}")")
  printf '%-8s %9s %9s %9s %9s | %9s %9s %9s %9s | %6s %8s | %9s %6s\n' "${mib}MiB" "$ingest" "$ing" "$e2e" "$rss" \
    "$s" "$c" "$l" "$(mbps "$bytes" "$untar")" "$(python3 -c "print(round(100 * $ing / $low))")" "$low" \
    "$ceil" "$(python3 -c "print(round(100 * $ing / $ceil))")"
done

printf '\nwarm-up deploys before the rounds, not counted (ingest s, in order):\n%s' "$warmups"

f="$(small_payload)"
deploy "$f" small-warm true > /dev/null
untars=(); extracts=()
for round in $(seq 1 "$rounds"); do
  for who in $( [ $((round % 2)) = 1 ] && echo "tar node" || echo "node tar"); do
    sync
    if [ "$who" = tar ]; then
      mkdir -p "$work/small-tar$round"; t0=$(now); tar xzf "$f" -C "$work/small-tar$round"; t1=$(now)
      untars+=("$(secs "$t0" "$t1")")
    else
      resp="$(deploy "$f" "small$round" true)"; id="$(echo "$resp" | field "d['deployment_id']")"
      [ "$(echo "$resp" | field "d['status']")" = succeeded ] || { echo "small-files deploy failed: $resp" >&2; exit 1; }
      extracts+=("$(python3 -c "print($(phase_ms "$id" extract) / 1000)")")
    fi
  done
done
untar=$(best "${untars[@]}"); extract=$(best "${extracts[@]}")
printf '\nmany small files (%s files, %s bytes): tar xzf %ss, node extract phase %ss, ratio %s\n' "$small_files" \
  "$(stat -c %s "$f")" "$untar" "$extract" "$(python3 -c "print(round($extract / $untar, 2))")"
echo "(best of $rounds rounds; MB/s = MiB/s; ratio% = ingest MB/s as a share of the lowest of sha256, copy+sync, loopback;"
echo " ingest = upload until stored (wait=false answer); e2e = until succeeded; peakRSS = node VmHWM over its rounds;"
echo " ceiling = the same upload to bench/IngestCeiling.java, the last ratio% the node's ingest as a share of it)"
