#!/usr/bin/env bash
# Runs Kueue's controller manager (e2e/build-kueue.sh) as a host process, out of cluster, against any cluster whose
# API server this machine reaches through a kubeconfig: the local control plane (e2e/local-cluster.sh --kueue) and
# the Kind cluster (e2e/kind/cluster.sh kueue). Installs Kueue's CRDs from the same module first.
#
# Usage: e2e/kueue.sh start|stop|status --dir DIR [--kubeconfig FILE] [--pid-file FILE] [--log FILE]
#   start        CRDs, namespace kueue-system, then the controller; waits until it is ready (idempotent: a Kueue
#                already running from DIR is kept)
#   stop         SIGTERM (SIGKILL after 30 s) to the Kueue started from DIR, if it runs
#   status       exit 0 if the Kueue started from DIR runs
#   --dir        state directory: certificates, config.yaml, and by default kueue.pid and kueue.log
#   --kubeconfig the cluster's admin kubeconfig (start)
#   --pid-file   where the pid is kept (default DIR/kueue.pid)
#   --log        the controller's log (default DIR/kueue.log)
#
# Configured as the tests need it: only the batch/job integration, only Jobs with a queue-name label; no internal
# certificate management, no visibility server; a webhook server with a self-signed certificate but no webhook
# configurations (the API server cannot reach a host process through a Service; the operator creates queued Jobs
# suspended itself). Kueue reads its metrics certificate from the fixed path /etc/kueue/metrics/certs: it runs in a
# private mount namespace whose /etc is an overlay adding that directory, so the host's /etc is untouched (root).
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '6,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }
die() { echo "kueue.sh: error: $*" >&2; exit 1; }
log() { echo "kueue.sh: $*" >&2; }

CMD=${1:-}
case $CMD in
  start | stop | status) shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage; die "expected start, stop or status as first argument, got '$CMD'" ;;
esac
DIR="" KUBECONFIG_FILE="" PID_FILE="" LOG_FILE=""
while (($#)); do
  case $1 in
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --kubeconfig) KUBECONFIG_FILE=${2:?--kubeconfig needs a value}; shift 2 ;;
    --pid-file) PID_FILE=${2:?--pid-file needs a value}; shift 2 ;;
    --log) LOG_FILE=${2:?--log needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage; die "unknown option '$1'" ;;
  esac
done
[[ -n $DIR ]] || { usage; die "--dir is required"; }
DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)
PID_FILE=${PID_FILE:-$DIR/kueue.pid}
LOG_FILE=${LOG_FILE:-$DIR/kueue.log}

# The pid of the Kueue started from DIR, if it is alive and still that process (its command line names DIR's
# config.yaml). /proc/PID/cmdline reads empty while the process is between two execs (setsid, env, unshare, sh,
# kueue): look once more before calling it gone. CI met this as "kueue exited" with an empty log.
alive_pid() {
  local pid try cmdline
  [[ -f $PID_FILE ]] || return 1
  pid=$(<"$PID_FILE")
  for try in 1 2; do
    [[ -d /proc/$pid ]] || return 1
    # Read whole, not piped into grep -q: under pipefail a reader that stops early can fail the writer.
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ $cmdline == *"$DIR/config.yaml"* ]]; then
      echo "$pid"
      return 0
    fi
    ((try == 1)) && sleep 1
  done
  return 1
}

source "$(dirname "${BASH_SOURCE[0]}")/lib/free-port.sh"

cmd_start() {
  [[ -n $KUBECONFIG_FILE && -f $KUBECONFIG_FILE ]] || die "start needs --kubeconfig naming an existing file, got '$KUBECONFIG_FILE'"
  if alive_pid >/dev/null; then
    log "Kueue already runs from $DIR (pid $(alive_pid))"
    return 0
  fi
  local kueue_home kubectl crt tool
  kueue_home=$("$E2E/build-kueue.sh" --print-dir)
  [[ -x $kueue_home/bin/kueue && -d $kueue_home/crds ]] ||
    die "Kueue is not built in $kueue_home; run e2e/build-kueue.sh first (run-tests.sh does)"
  kubectl=$("$E2E/build-k8s.sh" --print-bin-dir)/kubectl
  [[ -x $kubectl ]] || die "kubectl is missing at $kubectl; build it with e2e/build-k8s.sh"
  for tool in unshare mount openssl curl ss setsid; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed; run e2e/ensure-prereqs.sh"
  done
  ((EUID == 0)) || die "Kueue runs in a private mount namespace (its metrics certificate path is fixed): needs root"
  rm -rf "${DIR:?}/certs" "${DIR:?}/etc" && mkdir -p "$DIR/certs" "$DIR/etc/kueue/metrics/certs" "$(dirname "$PID_FILE")" \
    "$(dirname "$LOG_FILE")"
  for crt in "$DIR/certs" "$DIR/etc/kueue/metrics/certs"; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 -subj "/CN=kueue-local" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$crt/tls.key" -out "$crt/tls.crt" 2>/dev/null
  done
  "$kubectl" --kubeconfig "$KUBECONFIG_FILE" apply --server-side --force-conflicts -f "$kueue_home/crds" >/dev/null
  "$kubectl" --kubeconfig "$KUBECONFIG_FILE" wait --for condition=Established --timeout 60s \
    -f "$kueue_home/crds" >/dev/null
  "$kubectl" --kubeconfig "$KUBECONFIG_FILE" create namespace kueue-system >/dev/null 2>&1 || true
  local health metrics webhook
  free_port health; free_port metrics; free_port webhook
  cat >"$DIR/config.yaml" <<EOF
apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: kueue-system
health:
  healthProbeBindAddress: 127.0.0.1:$health
metrics:
  bindAddress: 127.0.0.1:$metrics
webhook:
  host: 127.0.0.1
  port: $webhook
  certDir: $DIR/certs
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
manageJobsWithoutQueueName: false
integrations:
  frameworks: ["batch/job"]
featureGates:
  VisibilityOnDemand: false
EOF
  # Detached (own session, no inherited stdio), so a caller that reads our output, like a test JVM, is not kept
  # waiting.
  setsid env KUBECONFIG="$KUBECONFIG_FILE" unshare -m --propagation private sh -c \
    'mount -t overlay overlay -o "lowerdir=$1:/etc" /etc && exec "$2" --config "$3" --zap-log-level=2' \
    kueue "$DIR/etc" "$kueue_home/bin/kueue" "$DIR/config.yaml" </dev/null >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + 120))
  until curl -fs "http://127.0.0.1:$health/readyz" >/dev/null 2>&1; do
    if ! alive_pid >/dev/null; then
      log "Kueue exited; last lines of $LOG_FILE:"
      tail -n 20 "$LOG_FILE" >&2 || true
      die "Kueue exited during start-up"
    fi
    ((SECONDS < deadline)) || { cmd_stop; die "Kueue (http://127.0.0.1:$health/readyz) did not come up within 120 s; see $LOG_FILE"; }
    sleep 0.5
  done
  echo "$kueue_home" >"$DIR/home"
  log "Kueue up: $kueue_home/bin/kueue (pid $(<"$PID_FILE")), log $LOG_FILE"
}

cmd_stop() {
  local pid deadline
  pid=$(alive_pid) || { rm -f "$PID_FILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while [[ -d /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "Kueue ($pid) ignored SIGTERM for 30 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "Kueue ($pid) stopped"
}

cmd_status() {
  local pid
  pid=$(alive_pid) || { echo "Kueue from $DIR is not running"; exit 1; }
  echo "Kueue from $DIR runs (pid $pid, log $LOG_FILE)"
}

"cmd_$CMD"
