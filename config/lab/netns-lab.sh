#!/usr/bin/env bash
# A cluster on PostgreSQL (three nodes unless LAB_NODES says, at most 9), each node in a network
# namespace of its own, on one machine. LAB_RATE (e.g. 200mbit) caps each node's link in both
# directions with a token bucket (tc tbf): each node's transfers, not the machine's cores, are then the
# limit (bench/fanout-lab.sh). This kernel has no netem, so no delay is added.
#
#   config/lab/netns-lab.sh up           bridge + 3 namespaces + PostgreSQL relay, then start the 3 nodes
#   config/lab/netns-lab.sh status       each node's process and its view of the cluster
#   config/lab/netns-lab.sh partition N  cut node N's link (it can reach neither the others nor PostgreSQL)
#   config/lab/netns-lab.sh heal N       restore node N's link, and start it again if it exited
#   config/lab/netns-lab.sh deploy N DIR deploy DIR (packed as tar.gz) through node N, project "web"
#   config/lab/netns-lab.sh scenario     up, deploy, partition node 3, deploy during the partition,
#                                        show the split-brain resolver's decision, heal, and check that
#                                        the cluster converged; exits non-zero if it did not
#   config/lab/netns-lab.sh down         stop the nodes, remove namespaces, bridge, relay and database
#
# Needs root (ip netns), iproute2, socat, curl, python3 and the local PostgreSQL (started if down).
# Addresses: bridge dlab0 10.77.0.1/24 on the host; node N at 10.77.0.1N in namespace dlab-nN, API on
# :9925, cluster on :2551. PostgreSQL listens on the host's loopback only, so socat relays
# 10.77.0.1:5432 to it; the nodes use database deploy_lab (created fresh by `up`). Nothing leaves
# this machine: every address is the bridge's or a namespace's.
# Files: $LAB_DIR (default /tmp/deploy-lab): node-N/ (data), node-N.log, node-N.pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_DIR="${LAB_DIR:-/tmp/deploy-lab}"
NODES="${LAB_NODES:-3}"
[ "$NODES" -ge 1 ] && [ "$NODES" -le 9 ] || { echo "LAB_NODES must be 1..9" >&2; exit 2; }
NET=10.77.0
HOST_IP="$NET.1"
BRIDGE=dlab0
DB=deploy_lab
PASSWORD=lab-admin-password
SECRET=lab-cluster-secret-not-for-production
CONVERGE_TIMEOUT="${CONVERGE_TIMEOUT:-180}"

node_ip() { echo "$NET.1$1"; }
ns() { echo "dlab-n$1"; }
veth() { echo "dlab-h$1"; }
api() { echo "http://$(node_ip "$1"):9925"; }
say() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "FAILED: $*"; exit 1; }

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -c "$1"; }

ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting the local PostgreSQL"
    pg_ctlcluster 15 main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
    die "PostgreSQL did not start"
  fi
}

network_up() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for i in $(seq 1 $NODES); do
    ip netns add "$(ns "$i")"
    ip link add "$(veth "$i")" type veth peer name eth0 netns "$(ns "$i")"
    ip link set "$(veth "$i")" master "$BRIDGE" up
    ip -n "$(ns "$i")" addr add "$(node_ip "$i")/24" dev eth0
    ip -n "$(ns "$i")" link set eth0 up
    ip -n "$(ns "$i")" link set lo up
    if [ -n "${LAB_RATE:-}" ]; then
      # The node's egress, and its ingress (the host side's egress towards it).
      ip netns exec "$(ns "$i")" tc qdisc add dev eth0 root tbf rate "$LAB_RATE" burst 256kb latency 50ms
      tc qdisc add dev "$(veth "$i")" root tbf rate "$LAB_RATE" burst 256kb latency 50ms
    fi
  done
  socat "TCP-LISTEN:5432,bind=$HOST_IP,fork,reuseaddr" TCP:127.0.0.1:5432 &
  echo $! > "$LAB_DIR/relay.pid"
}

seeds() {
  local out=""
  for i in $(seq 1 $NODES); do out="$out${out:+,}$(node_ip "$i"):2551"; done
  echo "$out"
}

start_node() {
  local i=$1
  mkdir -p "$LAB_DIR/node-$i"
  echo "----- start $(date -Is)" >> "$LAB_DIR/node-$i.log"
  ip netns exec "$(ns "$i")" env \
    DEPLOY_CONFIG="$ROOT/config/cluster.conf" \
    DEPLOY_NODE_NAME="node-$i" DEPLOY_DATA_DIR="$LAB_DIR/node-$i" \
    DEPLOY_CLUSTER_HOST="$(node_ip "$i")" DEPLOY_CLUSTER_PORT=2551 \
    DEPLOY_HTTP_HOST="$(node_ip "$i")" DEPLOY_HTTP_PORT=9925 \
    DEPLOY_SEED_NODES="$(seeds)" DEPLOY_CLUSTER_SECRET="$SECRET" \
    DEPLOY_DB_URL="jdbc:postgresql://$HOST_IP:5432/$DB" DEPLOY_DB_USER=postgres DEPLOY_DB_POOL=8 \
    DEPLOY_ADMIN_PASSWORD="$PASSWORD" JAVA_OPTS="${LAB_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}" \
    setsid "$ROOT/bin/deploy-node" >> "$LAB_DIR/node-$i.log" 2>&1 < /dev/null &
  echo $! > "$LAB_DIR/node-$i.pid"
}

alive() { [ -f "$LAB_DIR/node-$1.pid" ] && kill -0 "$(cat "$LAB_DIR/node-$1.pid")" 2>/dev/null; }

# Waits until $2 (a command) succeeds, at most $1 seconds.
wait_for() {
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 1
  done
}

ready() { curl -sf -m 3 "$(api "$1")/health/ready"; }

get() { curl -sf -m 10 -u "admin:$PASSWORD" "$(api "$1")$2"; }

# Members with status "up" in node $1's view, as a count.
up_members() {
  get "$1" /cluster/nodes | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin)["nodes"] if n["status"]=="up"))'
}

all_up_seen_by() { [ "$(up_members "$1")" = "$NODES" ]; }

deploy() { # node, dir, wait → deployment JSON
  tar czf - -C "$2" . | curl -sS -m 300 -u "admin:$PASSWORD" -H 'Content-Type: application/gzip' \
    --data-binary @- "$(api "$1")/deployments?project=web&wait=$3&description=lab"
}

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

status_of() { get "$1" "/deployments/$2" | json_field '["status"]'; }

# True when node $1's current release of project web is deployment $2 (read on its disk).
active_on() { [ "$(basename "$(readlink "$LAB_DIR/node-$1/projects/web/current" 2>/dev/null)")" = "$2" ]; }

cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (ip netns)"
  for tool in ip socat curl python3 psql; do command -v $tool >/dev/null || die "needs $tool"; done
  [ -e "/run/netns/$(ns 1)" ] && die "the lab is already up (config/lab/netns-lab.sh down first)"
  mkdir -p "$LAB_DIR"
  ensure_postgres
  "$ROOT/bin/deploy-node" --build
  network_up
  psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  psql_admin "CREATE DATABASE $DB"
  say "starting node-1 (first seed), then the other $((NODES - 1))"
  start_node 1
  wait_for 120 ready 1 || die "node-1 did not become ready (see $LAB_DIR/node-1.log)"
  for i in $(seq 2 $NODES); do start_node "$i"; done
  for i in $(seq 2 $NODES); do
    wait_for 120 ready "$i" || die "node-$i did not become ready (see $LAB_DIR/node-$i.log)"
  done
  wait_for 60 all_up_seen_by 1 || die "node-1 does not see $NODES members up"
  say "up${LAB_RATE:+, links capped at $LAB_RATE each way}: $(for i in $(seq 1 $NODES); do printf '%s ' "$(api "$i")"; done)(admin / $PASSWORD)"
}

cmd_down() {
  for i in $(seq 1 9); do
    if alive "$i"; then kill -TERM -- "-$(cat "$LAB_DIR/node-$i.pid")" 2>/dev/null || kill "$(cat "$LAB_DIR/node-$i.pid")" 2>/dev/null || true; fi
  done
  for i in $(seq 1 9); do
    for _ in $(seq 1 20); do alive "$i" || break; sleep 0.5; done
    if alive "$i"; then kill -KILL -- "-$(cat "$LAB_DIR/node-$i.pid")" 2>/dev/null || true; fi
    rm -f "$LAB_DIR/node-$i.pid"
  done
  # A node started with setsid leads its own process group; stray JVMs of this lab are found by namespace.
  for i in $(seq 1 9); do
    if [ -e "/run/netns/$(ns "$i")" ]; then
      for pid in $(ip netns pids "$(ns "$i")" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$(ns "$i")" 2>/dev/null || true
    fi
    ip link del "$(veth "$i")" 2>/dev/null || true
  done
  [ -f "$LAB_DIR/relay.pid" ] && { kill "$(cat "$LAB_DIR/relay.pid")" 2>/dev/null || true; rm -f "$LAB_DIR/relay.pid"; }
  ip link del "$BRIDGE" 2>/dev/null || true
  if pg_isready -q -h 127.0.0.1 -p 5432; then psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true; fi
  say "down"
}

cmd_status() {
  for i in $(seq 1 $NODES); do
    local state="exited"; alive "$i" && state="running (pid $(cat "$LAB_DIR/node-$i.pid"))"
    local link; link=$(ip -br link show "$(veth "$i")" 2>/dev/null | awk '{print $2}')
    printf 'node-%s %s link %s: ' "$i" "$state" "${link:-none}"
    get "$i" /cluster/nodes | python3 -c 'import json,sys; d=json.load(sys.stdin); print(", ".join(n["node"]+"="+n["status"] for n in d["nodes"]))' 2>/dev/null || echo "no answer"
  done
}

cmd_partition() { ip link set "$(veth "$1")" down; say "node-$1 cut off"; }

cmd_heal() {
  ip link set "$(veth "$1")" up
  say "node-$1 link restored"
  if ! alive "$1"; then
    say "node-$1 had exited (downed by the split-brain resolver): starting it again, as a supervisor would"
    start_node "$1"
  fi
}

sbr_decisions() { grep -h "SBR took decision" "$LAB_DIR"/node-*.log 2>/dev/null; }

cmd_scenario() {
  trap 'status=$?; [ "${KEEP_LAB:-0}" = 1 ] || cmd_down >/dev/null 2>&1 || true; exit $status' EXIT
  cmd_down >/dev/null 2>&1 || true
  rm -rf "$LAB_DIR"
  cmd_up
  local src="$LAB_DIR/src"
  mkdir -p "$src"
  echo "release one" > "$src/index.html"
  local first; first=$(deploy 1 "$src" true | json_field '["deployment_id"]')
  [ "$(status_of 1 "$first")" = succeeded ] || die "first deployment $first did not succeed"
  for i in $(seq 1 $NODES); do active_on "$i" "$first" || die "first deployment not active on node-$i"; done
  say "deployment $first active on all $NODES nodes"

  cmd_partition 3
  echo "release two, deployed during a partition" > "$src/index.html"
  # Until the split-brain resolver has decided, a deployment whose entity's shard lives on the cut-off
  # node cannot be recorded: the node answers 503 UNAVAILABLE (Retry-After) and the client retries,
  # as any client of the API should.
  local second="" answer
  for attempt in $(seq 1 30); do
    answer=$(deploy 1 "$src" false || true)
    second=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("deployment_id") or "")' 2>/dev/null || true)
    if [ -n "$second" ] && printf '%s' "$answer" | grep -q '"status"'; then break; fi
    say "attempt $attempt: $(printf '%s' "$answer" | head -c 200) (retrying in 5 s)"
    second=""
    sleep 5
  done
  [ -n "$second" ] || die "no deployment could be recorded during the partition"
  say "deployed $second through node-1 while node-3 is cut off"

  wait_for 120 sbr_decisions || die "no split-brain resolver decision within 120 s"
  wait_for 30 bash -c "[ \$(grep -h 'SBR took decision' '$LAB_DIR'/node-*.log | wc -l) -ge 2 ]" || true
  say "split-brain resolver decisions (from the nodes' logs):"
  sbr_decisions | sed -E 's/, full reachability status.*//; s/^/    /'
  wait_for 60 bash -c "! kill -0 \$(cat '$LAB_DIR/node-3.pid') 2>/dev/null" \
    && say "node-3 downed itself and exited" || say "node-3 is still running"
  wait_for 60 bash -c "[ \"\$(curl -sf -m 3 -u admin:$PASSWORD $(api 1)/deployments/$second | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"nodes\"][\"node-1\"][\"status\"])')\" = active ]" \
    || die "the deployment did not reach node-1 during the partition"
  say "during the partition: $second is active on node-1 (status $(status_of 1 "$second"))"

  cmd_heal 3
  local deadline=$((SECONDS + CONVERGE_TIMEOUT))
  local converged=0
  while [ $SECONDS -lt $deadline ]; do
    if ready 3 >/dev/null 2>&1 && all_up_seen_by 1 2>/dev/null \
        && [ "$(status_of 1 "$second" 2>/dev/null)" = succeeded ] \
        && active_on 1 "$second" && active_on 2 "$second" && active_on 3 "$second" \
        && [ "$(status_of 3 "$first" 2>/dev/null)" = succeeded ] \
        && [ "$(status_of 3 "$second" 2>/dev/null)" = succeeded ]; then
      converged=1
      break
    fi
    sleep 2
  done
  cmd_status
  if [ $converged != 1 ]; then
    say "deployment $second as node-1 sees it:"; get 1 "/deployments/$second" || true; echo
    die "the cluster did not converge within ${CONVERGE_TIMEOUT}s after heal (logs in $LAB_DIR)"
  fi
  # Both deployments are listed as succeeded on every node. An attempt answered 503 during the
  # partition may also be on record: its Create can reach the entity once the shard has moved; the
  # node then ends it failed (UNAVAILABLE, what the client was told). It must never count as succeeded.
  local n ok listed others
  for n in $(seq 1 "$NODES"); do
    ok=$(get "$n" "/deployments?project=web&status=succeeded&limit=1000" | python3 -c "
import json, sys
ids = {d['deployment_id'] for d in json.load(sys.stdin)['deployments']}
print('yes' if ids == {'$first', '$second'} else 'no: ' + ' '.join(sorted(ids)))")
    [ "$ok" = yes ] || die "node-$n lists as succeeded: $ok (expected exactly $first and $second)"
  done
  listed=$(get 3 "/deployments?project=web" | json_field '["total"]')
  others=$((listed - 2))
  if [ "$others" -gt 0 ]; then
    say "node-3 also lists the attempt(s) answered 503 during the partition: $(get 3 "/deployments?project=web&limit=1000" \
      | python3 -c "
import json, sys
print(', '.join(d['deployment_id'][:8] + ' ' + d['status'] + ' ' + ((d.get('error') or {}).get('code') or '')
                for d in json.load(sys.stdin)['deployments'] if d['deployment_id'] not in ('$first', '$second')))")"
  fi
  say "CONVERGED: $NODES nodes up, both deployment records intact on every node, $second active everywhere"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  partition) cmd_partition "${2:?node number}" ;;
  heal) cmd_heal "${2:?node number}" ;;
  deploy) deploy "${2:?node number}" "${3:?directory}" true; echo ;;
  scenario) cmd_scenario ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
