# Helpers shared by bench scripts (sourced). The caller sets: root (the checkout), pw, port and
# cluster_port; start_node sets node_pid and jvm_pid, stop_node clears node_pid.

# start_node <checkout> <data dir> <log file> <JAVA_OPTS>: one node, waits until it is ready.
start_node() {
  DEPLOY_DATA_DIR="$2" DEPLOY_HTTP_PORT=$port DEPLOY_CLUSTER_PORT=$cluster_port \
    DEPLOY_ADMIN_PASSWORD="$pw" DEPLOY_NODE_NAME=bench-node JAVA_OPTS="$4" \
    "$1/bin/deploy-node" > "$3" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null || { tail "$3" >&2; exit 1; }
  jvm_pid=$(pgrep -P "$node_pid" java || echo "$node_pid")
}

stop_node() {
  [ -n "${node_pid:-}" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  node_pid=""
}

# The node JVM's CPU seconds so far (user + system).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.3f", (f[12] + f[13]) / hz }' "/proc/$jvm_pid/stat"; }

# The median of the numbers on standard input, one a line.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
