#!/usr/bin/env bash
# Operator at scale: N MilanPretrain runs of P pods each, created at once, against a local control plane with kwok
# fake nodes (e2e/local-cluster.sh). Prints the time until every Job exists and every run is Running, reconcile
# duration quantiles, API requests per run, and the operator's heap and RSS after it settled. Figures are printed,
# never asserted.
#
# Usage: operator/bench/scale.sh [--runs 1000] [--pods 2] [--nodes N] [--dir DIR] [--jfr] [--keep]
#   --runs N    runs created at once (default 1000)
#   --pods P    spec.nodes of each run = pods per run (default 2)
#   --nodes N   fake nodes (default: enough for 40 pods per node, at least 4; each takes 110 pods, 64 CPUs)
#   --dir DIR   work directory (default: a new /tmp/milan-scale.XXXXXX): cluster, operator log, results
#   --jfr       record the operator with JFR (DIR/operator.jfr; profile with `jfr print --events ExecutionSample`)
#   --nmt       native memory tracking: prints where the operator's committed memory is (DIR/nmt.txt)
#   --keep      leave the cluster and the operator running at the end (stop: local-cluster.sh down --dir DIR/cluster)
# Env: OPERATOR_JVM_FLAGS (default: the operator image's flags under the Helm chart's 512Mi memory limit),
#      OPERATOR_MALLOC_ARENA_MAX (default 2, as in the image; glibc by itself allows 8 per core);
#      OPERATOR_JAR (default operator/target/quarkus-app/quarkus-run.jar), e.g. an older build to compare.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "scale.sh: error: $*" >&2; exit 1; }
log() { echo "scale.sh: $*" >&2; }

RUNS=1000
PODS=2
NODES=""
DIR=""
JFR=false
NMT=false
KEEP=false
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --pods) PODS=${2:?--pods needs a value}; shift 2 ;;
    --nodes) NODES=${2:?--nodes needs a value}; shift 2 ;;
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --jfr) JFR=true; shift ;;
    --nmt) NMT=true; shift ;;
    --keep) KEEP=true; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
[[ $PODS =~ ^[1-9][0-9]*$ ]] || die "--pods must be a positive integer, got '$PODS'"
[[ -z $NODES ]] && NODES=$(( (RUNS * PODS + 39) / 40 )) && ((NODES < 4)) && NODES=4
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive integer, got '$NODES'"
((RUNS * PODS <= NODES * 64)) || die "$((RUNS * PODS)) pods do not fit on $NODES nodes of 64 CPUs (1 CPU per pod); raise --nodes"
[[ -z $DIR ]] && DIR=$(mktemp -d /tmp/milan-scale.XXXXXX)
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

# The image's entrypoint flags and environment (operator/src/main/docker/Dockerfile.jvm) with the JVM sized as
# under the chart's memory limit of 512Mi (charts/*/values.yaml): MaxRAM stands in for the container limit.
JVM_FLAGS=${OPERATOR_JVM_FLAGS:--XX:MaxRAM=512m -XX:+UseSerialGC -XX:MaxRAMPercentage=75.0 -XX:MinHeapFreeRatio=10 \
-XX:MaxHeapFreeRatio=20 -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=32m -Xss512k -XX:+ExitOnOutOfMemoryError}
OPERATOR_MALLOC_ARENA_MAX=${OPERATOR_MALLOC_ARENA_MAX:-2}
$NMT && JVM_FLAGS+=" -XX:NativeMemoryTracking=summary"
$JFR && JVM_FLAGS+=" -XX:StartFlightRecording=filename=$DIR/operator.jfr,settings=profile,dumponexit=true"

JAR=${OPERATOR_JAR:-$ROOT/operator/target/quarkus-app/quarkus-run.jar}
if [[ ! -f $JAR ]]; then
  log "building the operator ($JAR missing)"
  (cd "$ROOT" && ./mvnw -o -q -B -pl operator package -DskipTests)
fi
command -v jcmd >/dev/null || die "jcmd (JDK) is needed for the heap figures"

CLUSTER=$DIR/cluster
OPERATOR_PID=""
LOAD_PID=""
cleanup() {
  [[ -n $LOAD_PID ]] && kill "$LOAD_PID" 2>/dev/null || true
  $KEEP && { log "kept running: operator pid ${OPERATOR_PID:-none}, cluster $CLUSTER"; return; }
  if [[ -n $OPERATOR_PID ]] && kill -0 "$OPERATOR_PID" 2>/dev/null; then
    kill -TERM "$OPERATOR_PID"; wait "$OPERATOR_PID" 2>/dev/null || true
  fi
  "$ROOT/e2e/local-cluster.sh" down --dir "$CLUSTER" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "starting the local cluster with $NODES fake nodes in $CLUSTER"
owner=(--owner-pid $$)
$KEEP && owner=()
"$ROOT/e2e/local-cluster.sh" up --dir "$CLUSTER" --nodes "$NODES" --gpus 8 "${owner[@]}"
# shellcheck disable=SC1091
source "$CLUSTER/cluster.env"
k() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG" "$@"; }

k apply -f "$ROOT/crds/manifests/" >/dev/null
# Until the CRDs are served (kubectl wait fails while a new CRD has no conditions yet).
for _ in $(seq 120); do
  k get milanpretrains -A >/dev/null 2>&1 && k get milanfinetunes -A >/dev/null 2>&1 && break
  sleep 0.5
done
k get milanpretrains -A >/dev/null 2>&1 || die "the MilanPretrain CRD is not served after 60 s"
k create namespace milan-system >/dev/null
k create namespace bench >/dev/null
# The operator runs as deployed: its ServiceAccount under the least-privilege RBAC. Its own identity also lets the
# API server count its requests apart (APF flow schema "service-accounts"; the controllers use kube-system ones).
k apply -f "$ROOT/operator/src/main/kubernetes/rbac.yaml" >/dev/null
TOKEN=$(k -n milan-system create token milan-operator --duration 4h)
cat >"$DIR/operator.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: $API_SERVER, certificate-authority-data: $(base64 -w0 "$CLUSTER/pki/ca.crt")}
users:
- name: milan-operator
  user: {token: $TOKEN}
contexts:
- name: local
  context: {cluster: local, user: milan-operator, namespace: milan-system}
current-context: local
EOF
chmod 600 "$DIR/operator.kubeconfig"

# The run: examples/quickstart-cpu-pretrain.yaml with spec.nodes = P, and its output in an emptyDir (no claim: a
# claim without a volume would leave the pods unschedulable). Pods ask for 1 CPU and 2Gi; kwok makes them Running.
cat >"$DIR/run.yaml" <<EOF
apiVersion: milan.io/v1alpha1
kind: MilanPretrain
metadata:
  name: template
spec:
  model: vit_tiny
  inputSize: 32
  patchSize: 4
  batchSize: 64
  accumIter: 1
  epochs: 4
  warmupEpochs: 1
  lr: 1.0e-3
  weightDecay: 0.05
  maskRatio: 0.75
  teacher:
    kind: encoder
    model: vit_tiny
    weights: {path: /opt/milan/teachers/fashion-mnist-vit-tiny-32.safetensors}
  promptingDecoder: true
  semanticMasking: true
  checkpointInterval: 1
  numWorkers: 2
  dataset: {path: /opt/milan/datasets/fashion-mnist}
  output: {path: /output}
  nodes: $PODS
  gpusPerNode: 0
  resources:
    requests: {cpu: "1", memory: 2Gi}
    limits: {memory: 4Gi}
  restartPolicy: {maxRestarts: 2, backoffSeconds: 5}
EOF

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log "starting the operator: java $JVM_FLAGS -jar $JAR (port $PORT, log $DIR/operator.log)"
start_ns=$(date +%s%N)
# shellcheck disable=SC2086
KUBECONFIG=$DIR/operator.kubeconfig QUARKUS_HTTP_PORT=$PORT MALLOC_ARENA_MAX=$OPERATOR_MALLOC_ARENA_MAX java $JVM_FLAGS -jar "$JAR" >"$DIR/operator.log" 2>&1 &
OPERATOR_PID=$!
until curl -fs "http://127.0.0.1:$PORT/q/health/ready" 2>/dev/null | grep -q '"UP"'; do
  kill -0 "$OPERATOR_PID" 2>/dev/null || { tail -n 30 "$DIR/operator.log" >&2; die "the operator exited"; }
  (( $(date +%s%N) - start_ns < 120000000000 )) || die "the operator was not ready within 120 s; see $DIR/operator.log"
  sleep 0.05
done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo "operator ready (process start -> /q/health/ready UP) in $ready_ms ms; RSS $(awk '/VmRSS/{print int($2/1024)}' "/proc/$OPERATOR_PID/status") MiB"

# Load average every 5 s while the load runs.
( while sleep 5; do echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg)"; done ) >"$DIR/loadavg.txt" &
LOAD_PID=$!
echo "machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average: //')"
echo "operator JVM flags: $JVM_FLAGS (MALLOC_ARENA_MAX=$OPERATOR_MALLOC_ARENA_MAX)"
echo "load: $RUNS MilanPretrain runs x $PODS pods, $NODES kwok nodes"
# The driver shares the 2 cores with what it measures: C1 only and SerialGC keep its own CPU small.
java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$ROOT/operator/target/quarkus-app/lib/main/*" \
  "$ROOT/operator/bench/ScaleLoad.java" \
  --kubeconfig "$KUBECONFIG" --namespace bench --template "$DIR/run.yaml" --runs "$RUNS" \
  --operator-metrics "http://127.0.0.1:$PORT/q/metrics" --operator-pid "$OPERATOR_PID" --cluster-pids "$CLUSTER/pids" 2> >(grep -v 'WARN\|SLF4J' >&2)
kill "$LOAD_PID" 2>/dev/null; LOAD_PID=""
echo "load average during the run (1 min): max $(awk '{print $2}' "$DIR/loadavg.txt" | sort -n | tail -1), samples in $DIR/loadavg.txt"
echo "load after: $(uptime | sed 's/.*load average: //')"
if $NMT; then
  jcmd "$OPERATOR_PID" VM.native_memory summary scale=MB >"$DIR/nmt.txt"
  echo "native memory (committed MB; $DIR/nmt.txt):"
  grep -E '^Total|^-  *[A-Z]' "$DIR/nmt.txt" | sed -E 's/reserved=[0-9]+MB, //; s/^-  */  /' | head -20
fi
$JFR && jcmd "$OPERATOR_PID" JFR.dump filename="$DIR/operator.jfr" >/dev/null && echo "JFR recording: $DIR/operator.jfr"
echo "results and logs in $DIR"
