#!/usr/bin/env bash
# Simulates a payload's fan-out to many nodes with the runtime's own scheduling code
# (dev.deployrt.fanout.PiecePlan and PieceSelector; the simulator is FanOutSimulation in runtime's
# test sources), beside the whole-blob binary tree it replaces.
#
#   bench/fanout-sim.sh [payloadMiB [mbitPerSecond [latencyMs [pieceMiB [nodes...]]]]]
#   bench/fanout-sim.sh                       # 1024 MiB, 1000 Mbit/s, 1 ms, 4 MiB pieces, 10/100/1000 nodes
#   bench/fanout-sim.sh 200 200 2 4 3 5       # the capped lab's set-up (config/lab), 3 and 5 nodes
#
# Prints, per cluster size and mode, the time until every node holds every piece, one node-to-node
# transfer's time alone on its link, their ratio, and the copies of the payload the origin and the
# busiest node sent. What the model includes and leaves out: FanOutSimulation's class comment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${SKIP_BUILD:-}" != 1 ]; then
  (cd "$root" && ./mvnw -B -q -DskipTests install -pl testkit,persistence >/dev/null \
    && ./mvnw -B -q test-compile -pl runtime)
fi
exec java -cp "$root/runtime/target/classes:$root/runtime/target/test-classes" \
  dev.deployrt.fanout.FanOutSimulation "$@"
