#!/usr/bin/env bash
# Fan-out under real link limits: clusters of node JVMs in network namespaces (config/lab/netns-lab.sh)
# on PostgreSQL, every node's link capped with tc in both directions, so that each node's transfers
# and not this machine's two cores are the limit.
#
#   bench/fanout-lab.sh                        # 1, 3 and 5 nodes, 200 MiB, 200mbit, 3 rounds each
#   SIZES="3 5" ROUNDS=2 SIZE_MIB=100 RATE=100mbit bench/fanout-lab.sh
#
# Per round and size, alternating, a fresh cluster takes one small warm-up deploy and then a fresh
# random payload through node-1 (wait=true). Printed per round:
#   - dist s: from the record's "distribution started" event to the last node's "is active" event;
#   - all fetched s: from the same event to the last node's "fetch finished" (the replica's push
#     counts as its fetch), which leaves out the last extraction and switch;
#   - one-link s: the payload's bytes at the cap (what a single transfer needs at best);
#   - each node's egress in copies of the payload (bytes its interface sent, from ip -s link);
#   - each node's CPU seconds during the round and the busiest node's share of one core.
# Then the medians per cluster size. Root only (namespaces, tc); the lab is taken down at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lab="$root/config/lab/netns-lab.sh"
SIZES="${SIZES:-1 3 5}"
ROUNDS="${ROUNDS:-3}"
SIZE_MIB="${SIZE_MIB:-200}"
RATE="${RATE:-200mbit}"
export LAB_DIR="${LAB_DIR:-/tmp/deploy-fanout-lab}"
PASSWORD="lab-admin-password"
[ "$(id -u)" = 0 ] || { echo "fanout-lab: needs root" >&2; exit 1; }

rate_bytes_per_s() { # 200mbit -> bytes per second
  python3 -c "
import re, sys
m = re.fullmatch(r'(\d+(?:\.\d+)?)(k|m|g)?bit', sys.argv[1].lower())
print(float(m.group(1)) * {None: 1, 'k': 1e3, 'm': 1e6, 'g': 1e9}[m.group(2)] / 8)" "$1"
}

tx_bytes() { ip -n "dlab-n$1" -s -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["bytes"])'; }

# CPU seconds used so far by node $1's JVM (bin/deploy-node execs it under the recorded pid).
cpu_seconds() { ps -o times= -p "$(cat "$LAB_DIR/node-$1.pid")" 2>/dev/null | awk '{print $1 + 0}'; }

trap '"$lab" down >/dev/null 2>&1 || true' EXIT
"$lab" down >/dev/null 2>&1 || true
rm -rf "$LAB_DIR"
mkdir -p "$LAB_DIR"
payload_bytes=$((SIZE_MIB << 20))
link_s=$(python3 -c "print(round($payload_bytes / $(rate_bytes_per_s "$RATE"), 2))")
: >"$LAB_DIR/rows"
for round in $(seq 1 "$ROUNDS"); do
  for n in $SIZES; do
    # A fresh cluster per size and round, the sizes alternating, so the machine's drift spreads over
    # all of them; one small deploy first takes each node past its first, cold deploy.
    LAB_NODES=$n LAB_RATE=$RATE "$lab" up >/dev/null
    work="$LAB_DIR/payload"
    rm -rf "$work" && mkdir -p "$work/src"
    echo warm-up >"$work/src/index.html"
    tar czf "$work/warm-up.tar.gz" -C "$work/src" .
    curl -sS -m 300 -o /dev/null -u "admin:$PASSWORD" -H 'Content-Type: application/gzip' \
      --data-binary @"$work/warm-up.tar.gz" "http://10.77.0.11:9925/deployments?project=warm-up&wait=true"
    head -c "$payload_bytes" /dev/urandom >"$work/src/data.bin"
    echo "round $round" >"$work/src/index.html"
    tar cf - -C "$work/src" . | gzip -1 >"$work/payload.tar.gz"
    declare -A tx0 cpu0
    for i in $(seq 1 "$n"); do tx0[$i]=$(tx_bytes "$i"); cpu0[$i]=$(cpu_seconds "$i"); done
    started=$(date +%s.%N)
    answer=$(curl -sS -m 900 -u "admin:$PASSWORD" -H 'Content-Type: application/gzip' \
      --data-binary @"$work/payload.tar.gz" "http://10.77.0.11:9925/deployments?project=web&wait=true&timeout=600")
    wall=$(python3 -c "import time; print(round(time.time() - $started, 2))")
    id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["deployment_id"])' <<<"$answer")
    full=$(curl -sS -u "admin:$PASSWORD" "http://10.77.0.11:9925/deployments/$id")
    [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' <<<"$full")" = succeeded ] \
      || echo "round $round: $(python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["status"], d["error"], [e["message"] for e in d["events"] if e["type"] in ("warning", "error")])' <<<"$full")" >&2
    row=$(python3 - "$full" "$n" "$link_s" "$wall" "$(stat -c %s "$work/payload.tar.gz")" \
      "$(for i in $(seq 1 "$n"); do echo -n "$(( $(tx_bytes "$i") - tx0[$i] )) "; done)" \
      "$(for i in $(seq 1 "$n"); do echo -n "$(python3 -c "print($(cpu_seconds "$i") - ${cpu0[$i]})") "; done)" <<'EOF'
import json, sys
from datetime import datetime
d = json.loads(sys.argv[1]); n = int(sys.argv[2]); link_s = float(sys.argv[3])
wall = float(sys.argv[4]); size = int(sys.argv[5])
tx = [int(x) for x in sys.argv[6].split()]; cpu = [float(x) for x in sys.argv[7].split()]
t = lambda e: datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
dist = [t(e) for e in d["events"] if e["type"] == "phase" and e["message"].startswith("distribution started")]
active = [t(e) for e in d["events"] if e["type"] == "node" and e["message"].endswith(" is active")]
spread = round(max(active) - dist[0], 2) if dist and active else float("nan")
fetched = [t(e) for e in d["events"] if e["type"] == "phase" and e["message"] == "fetch finished"]
all_fetched = round(max(fetched) - dist[0], 2) if dist and fetched else float("nan")
copies = " ".join(f"{x / size:.2f}" for x in tx)
busiest = max(cpu) / wall if wall > 0 else 0
warnings = [e["message"] for e in d["events"] if e["type"] == "warning"]
print(f"{d['status']:9} nodes {n}  dist {spread:6.2f} s  all fetched {all_fetched:6.2f} s  one-link {link_s:5.2f} s  wall {wall:6.2f} s  "
      f"egress copies [{copies}]  cpu s [{' '.join(f'{c:.1f}' for c in cpu)}]  busiest {busiest:.0%} of a core"
      + (f"  warnings {len(warnings)}: {warnings[0][:160]}" if warnings else ""))
EOF
    )
    echo "$row"
    echo "$row" >>"$LAB_DIR/rows"
    "$lab" down >/dev/null
  done
done
echo
for n in $SIZES; do
  grep -E "nodes $n  " "$LAB_DIR/rows" | python3 -c "
import re, statistics, sys
lines = sys.stdin.read().splitlines()
d = [float(re.search(r'dist +([0-9.nan]+) s', l).group(1)) for l in lines]
print(f'nodes $n: median dist {statistics.median(d):.2f} s over {len(d)} rounds ({\" \".join(f\"{x:.2f}\" for x in d)}), one link $link_s s')"
done
