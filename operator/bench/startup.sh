#!/usr/bin/env bash
# Operator start-up: from starting the process (`java ... -jar operator/target/quarkus-app/quarkus-run.jar`) to
# /q/health/ready answering UP (ready = its informers run), polled every 20 ms, against a local control plane
# (e2e/local-cluster.sh with one fake node, or an existing one with --kubeconfig). Prints each run, the median, and
# Quarkus's own "started in" figure. Printed, never asserted.
#
# Usage: operator/bench/startup.sh [--repeat 5] [--kubeconfig FILE]
# Env: OPERATOR_JVM_FLAGS (default: the operator image's flags under the Helm chart's 512Mi memory limit; the
#      operator runs with MALLOC_ARENA_MAX=2 as in the image).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "startup.sh: error: $*" >&2; exit 1; }

REPEAT=5
KUBECONFIG_FILE=""
while (($#)); do
  case $1 in
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --kubeconfig) KUBECONFIG_FILE=${2:?--kubeconfig needs a value}; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer, got '$REPEAT'"
JVM_FLAGS=${OPERATOR_JVM_FLAGS:--XX:MaxRAM=512m -XX:+UseSerialGC -XX:MaxRAMPercentage=75.0 -XX:MinHeapFreeRatio=10 \
-XX:MaxHeapFreeRatio=20 -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=32m -Xss512k -XX:+ExitOnOutOfMemoryError}
JAR=$ROOT/operator/target/quarkus-app/quarkus-run.jar
if [[ ! -f $JAR ]]; then
  (cd "$ROOT" && ./mvnw -o -q -B -pl operator package -DskipTests)
fi

WORK=$(mktemp -d /tmp/milan-op-startup.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  [[ -z $KUBECONFIG_FILE ]] && "$ROOT/e2e/local-cluster.sh" down --dir "$WORK/cluster" >/dev/null 2>&1
  true
}
trap cleanup EXIT
if [[ -z $KUBECONFIG_FILE ]]; then
  "$ROOT/e2e/local-cluster.sh" up --dir "$WORK/cluster" --nodes 1 --owner-pid $$ 2>/dev/null
  KUBECONFIG_FILE=$WORK/cluster/kubeconfig
  # shellcheck disable=SC1091
  BIN_DIR=$(sed -n 's/^BIN_DIR=//p' "$WORK/cluster/cluster.env")
  "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" apply -f "$ROOT/crds/manifests/" >/dev/null
  for _ in $(seq 120); do
    "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" get milanpretrains,milanfinetunes -A >/dev/null 2>&1 && break
    sleep 0.5
  done
fi

echo "machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average: //')"
echo "operator JVM flags: $JVM_FLAGS"
times=()
for ((i = 1; i <= REPEAT; i++)); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log=$WORK/operator-$i.log
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  KUBECONFIG=$KUBECONFIG_FILE QUARKUS_HTTP_PORT=$port MALLOC_ARENA_MAX=2 java $JVM_FLAGS -jar "$JAR" >"$log" 2>&1 &
  PID=$!
  until curl -fs "http://127.0.0.1:$port/q/health/ready" 2>/dev/null | grep -q '"UP"'; do
    kill -0 "$PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "the operator exited; see $log"; }
    (( $(date +%s%N) - start < 120000000000 )) || die "not ready within 120 s; see $log"
    sleep 0.02
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$PID/status")
  kill "$PID"; wait "$PID" 2>/dev/null || true
  PID=""
  quarkus=$(grep -o 'started in [0-9.]*s' "$log" | head -1)
  echo "run $i: ready in $ms ms (Quarkus: $quarkus; RSS at ready $rss MiB)"
  times+=("$ms")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}')
echo "operator start -> /q/health/ready UP: median $median ms over $REPEAT runs"
echo "load after: $(uptime | sed 's/.*load average: //')"
