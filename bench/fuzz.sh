#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer). `./mvnw verify` only replays the saved inputs; this searches for
# new ones.
#
#   bench/fuzz.sh <target> [duration]          e.g. bench/fuzz.sh structured-archives 30m
#
# Targets: structured-archives, arbitrary-bytes (runtime: ArchiveFuzzTest, the archive validator and
# extractor); deploy-parameters, multipart-bodies (http-api: UploadRequestFuzzTest, upload request
# parsing, the latter against a live in-JVM node).
#
# Runs one fuzz test (Jazzer fuzzes one per JVM) for the duration, then prints libFuzzer's final
# line (runs, coverage, corpus). A finding fails the run, prints the input, and saves it under
# <module>/src/test/resources/dev/deployrt/.../<TestClass>Inputs/<test>/, where every later build
# replays it as a regression test. The corpus grows in <module>/.cifuzz-corpus/ (ignored by git) and
# is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-structured-archives}
duration=${2:-30m}
case "$target" in
  structured-archives|arbitrary-bytes) module=runtime ;;
  deploy-parameters|multipart-bodies) module=http-api ;;
  *) echo "usage: $0 structured-archives|arbitrary-bytes|deploy-parameters|multipart-bodies [duration]" >&2; exit 2 ;;
esac
mkdir -p bench/out
log=bench/out/fuzz-$target-$(date +%Y%m%d-%H%M%S).log
./mvnw -B -q install -DskipTests -pl $module -am >/dev/null
start=$(date +%s)
status=0
JAZZER_MAX_DURATION=$duration ./mvnw -B -DskipFuzz=false surefire:test@fuzz-$target -pl $module >"$log" 2>&1 || status=$?
end=$(date +%s)
echo "fuzz $target for $duration: wall $((end - start)) s, exit $status, log $log"
grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" || true
grep -E 'FuzzTestFinding|Caused by|archive:|^  type ' "$log" | head -40 || true
exit $status
