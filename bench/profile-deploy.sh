#!/usr/bin/env bash
# Where a deploy's time and CPU go, on one warm node (issue 30). Starts a node (-Xmx256m), makes
# WARMUP deploys of SIZE_MIB fresh random MiB, then attaches async-profiler (fetched once from Maven
# Central into bench/out/async-profiler) and profiles DEPLOYS more. Prints each profiled deploy's
# wall time and the node's CPU seconds, their medians, the event times of the last deploy (where its
# wall time went), and the profile's hottest frames (self samples) and threads. Leaves the full
# profile in bench/out/profile-<event>.collapsed (flame-graph input).
# Usage: bench/profile-deploy.sh   env: SIZE_MIB=1 WARMUP=60 DEPLOYS=100 EVENT=cpu (or wall, alloc;
#                                       none: no profile, only the times, CPU and RSS)
#                                       JAVA_OPTS_EXTRA= (added to the node's JVM options)
# Needs: curl, python3, a JDK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${SIZE_MIB:-1}"
warmup="${WARMUP:-60}"
deploys="${DEPLOYS:-100}"
event="${EVENT:-cpu}"
out="$root/bench/out"; mkdir -p "$out"
work="$(mktemp -d "$out/profile.XXXX")"
port=19971
pw=bench-admin-pw
ap_version=4.6
ap="$out/async-profiler/$ap_version"
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -f "$ap/linux-x64/libasyncProfiler.so" ]; then
  mkdir -p "$ap" && curl -sSf -o "$ap/ap.jar" \
    "https://repo.maven.apache.org/maven2/tools/profiler/async-profiler/$ap_version/async-profiler-$ap_version-linux-x64.jar"
  (cd "$ap" && python3 -m zipfile -e ap.jar .)
fi
lib="$ap/linux-x64/libasyncProfiler.so"

DEPLOY_DATA_DIR="$work/data" DEPLOY_HTTP_PORT=$port DEPLOY_CLUSTER_PORT=12571 \
  DEPLOY_ADMIN_PASSWORD="$pw" DEPLOY_NODE_NAME=profile-node \
  JAVA_OPTS="-Xmx256m ${JAVA_OPTS_EXTRA:-}" "$root/bin/deploy-node" > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null || { tail "$work/node.log"; exit 1; }
jvm_pid=$(pgrep -P "$node_pid" java || echo "$node_pid")

cpu() { awk -v hz="$(getconf CLK_TCK)" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.3f", (f[12] + f[13]) / hz }' "/proc/$jvm_pid/stat"; }
now() { date +%s.%N; }
deploy() { # -> "seconds cpu"; the deployment in $work/answer
  mkdir -p "$work/gen" && head -c $((size * 1048576)) /dev/urandom > "$work/gen/data.bin"
  tar cf - -C "$work/gen" . | gzip -1 > "$work/payload.tgz" && rm -rf "$work/gen"
  local c0 t0 t1 c1
  c0=$(cpu); t0=$(now)
  curl -sS -f -u "admin:$pw" -X POST -H 'Content-Type: application/gzip' -T "$work/payload.tgz" \
    "http://127.0.0.1:$port/deployments?project=bench" > "$work/answer"
  t1=$(now); c1=$(cpu)
  grep -q '"status":"succeeded"' "$work/answer" || { cat "$work/answer" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc)"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

for _ in $(seq 1 "$warmup"); do deploy > /dev/null; done
prof="$out/profile-$event"
# jcmd's JVMTI.agent_load loses the options after the first comma: load the agent through the Attach API.
cat > "$work/AgentLoad.java" <<'JAVA'
public class AgentLoad {
  public static void main(String[] a) throws Exception {
    var vm = com.sun.tools.attach.VirtualMachine.attach(a[0]);
    try { vm.loadAgentPath(a[1], a[2]); } finally { vm.detach(); }
  }
}
JAVA
profiler() { java "$work/AgentLoad.java" "$jvm_pid" "$lib" "$1"; }
[ "$event" = none ] || profiler "start,event=$event,interval=1ms,threads"
: > "$work/rows"
for _ in $(seq 1 "$deploys"); do deploy >> "$work/rows"; done
[ "$event" = none ] || profiler "stop,file=$prof.collapsed,collapsed"
printf "%s MiB, %s deploys after %s warm-up: median %.4f s, node CPU %.4f s per deploy\n" "$size" \
  "$deploys" "$warmup" "$(cut -d' ' -f1 "$work/rows" | median)" "$(cut -d' ' -f2 "$work/rows" | median)"
awk '/VmRSS|VmHWM/ { printf "%s %.0f MiB  ", $1, $2 / 1024 } END { print "" }' "/proc/$jvm_pid/status"
echo "the last deploy's events (ms since its first):"
python3 - "$work/answer" <<'PY'
import json, sys, datetime
d = json.load(open(sys.argv[1]))
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
t0 = t(d["events"][0]["time"])
for e in d["events"]:
    print(f'{(t(e["time"]) - t0).total_seconds() * 1000:8.1f}  {e["type"]:9} {e.get("phase") or "":9} {e["message"]}')
PY
[ "$event" = none ] && exit 0
python3 - "$prof.collapsed" <<'PY'
import collections, re, sys
by_frame, by_thread, total = collections.Counter(), collections.Counter(), 0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(" ")
    n = int(n); total += n
    frames = stack.split(";")
    by_thread[re.sub(r"[-#]?\d+(?=\]|$)", "N", frames[0])] += n
    by_frame[frames[-1]] += n
print(f"{total} samples; by thread:")
for k, v in by_thread.most_common(15): print(f"  {100 * v / total:5.1f}%  {k}")
print("hottest frames (self):")
for k, v in by_frame.most_common(25): print(f"  {100 * v / total:5.1f}%  {k[:150]}")
PY
echo "profile: $prof.collapsed"
