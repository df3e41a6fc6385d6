#!/usr/bin/env bash
# A local Kubernetes control plane with fake GPU nodes, for tests ("tier C"): etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler as host processes, plus kwok, which plays the kubelet
# for N fake nodes advertising nvidia.com/gpu. No containers run; pods only change phase.
#
# Usage: e2e/local-cluster.sh up|down|status|kueue [--dir DIR] [--nodes N] [--gpus G] [--owner-pid PID] [--kueue]
#   --dir DIR        work directory (default e2e/.work/cluster): kubeconfig, pki, pids, logs, etcd data
#   --nodes N        number of fake GPU nodes (default 4)
#   --gpus G         nvidia.com/gpu per node (default 8)
#   --owner-pid PID  (up) stop the cluster by itself once process PID has exited, e.g. a test JVM
#                    that was killed before it could call `down`
#   --kueue          (up) also start Kueue, as `kueue` does; `kueue` starts it in a running cluster
#                    (idempotent): its CRDs and its controller (e2e/build-kueue.sh) as a host process
#
# Binaries come from e2e/build-k8s.sh. Everything listens on 127.0.0.1 on ports that were free at
# start, so several clusters (different --dir) can run at once.
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$E2E/$(basename "${BASH_SOURCE[0]}")

usage() { sed -n '6,13p' "$SELF" | sed 's/^# \{0,1\}//' >&2; }
die() { echo "local-cluster.sh: error: $*" >&2; exit 1; }
log() { echo "local-cluster.sh: $*" >&2; }

CMD=${1:-}
[[ $CMD == -h || $CMD == --help ]] && { usage; exit 0; }
[[ $CMD == up || $CMD == down || $CMD == status || $CMD == kueue ]] ||
  { usage; die "expected up, down, status or kueue as first argument, got '${CMD}'"; }
shift
DIR=$E2E/.work/cluster
NODES=4
GPUS=8
OWNER_PID=""
KUEUE=false
while (($#)); do
  case $1 in
    --dir) DIR=${2:?--dir needs a value}; shift 2 ;;
    --nodes) NODES=${2:?--nodes needs a value}; shift 2 ;;
    --gpus) GPUS=${2:?--gpus needs a value}; shift 2 ;;
    --owner-pid) OWNER_PID=${2:?--owner-pid needs a value}; shift 2 ;;
    --kueue) KUEUE=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown option '$1'" ;;
  esac
done
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive integer, got '$NODES'"
[[ $GPUS =~ ^[0-9]+$ ]] || die "--gpus must be a non-negative integer, got '$GPUS'"
[[ -z $OWNER_PID || $OWNER_PID =~ ^[0-9]+$ ]] || die "--owner-pid must be a process id, got '$OWNER_PID'"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PIDS=$DIR/pids
LOGS=$DIR/logs
PKI=$DIR/pki
# Stop order: the watchdog first, then clients before the API server, etcd last.
COMPONENTS=(watchdog kueue kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

# ---- process bookkeeping -------------------------------------------------------------------------

# Prints the pid of a component if it is alive and still the process we started (not a reused pid).
alive_pid() {
  local f=$PIDS/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ -d /proc/$pid ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR" || return 1
  echo "$pid"
}

# Starts a component detached from the caller (own session, no inherited stdio, so a caller that
# reads our output, like a test JVM, is not kept waiting), logging to logs/<name>.log.
start() {
  local name=$1; shift
  setsid "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

stop_all() {
  local name pid pids=()
  for name in "${COMPONENTS[@]}"; do
    pid=$(alive_pid "$name") || continue
    # The watchdog runs `down` itself (exec'd), so it must not kill itself.
    [[ $pid == "$$" ]] && continue
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    # Wait for each before stopping the next, so clients never hang on a vanished API server.
    wait_gone "$name" "$pid" 30 || { log "$name ($pid) ignored SIGTERM for 30 s; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; wait_gone "$name" "$pid" 10 || die "$name ($pid) does not exit"; }
  done
  rm -f "$PIDS"/*.pid
}

# Polls until a pid is gone, at most $3 seconds.
wait_gone() {
  local deadline=$((SECONDS + $3))
  while [[ -d /proc/$2 ]] && ! grep -q '^State:.*Z' "/proc/$2/status" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- helpers -------------------------------------------------------------------------------------

source "$(dirname "${BASH_SOURCE[0]}")/lib/free-port.sh"

# Polls a command until it succeeds, at most $1 seconds; on timeout names what did not come up.
wait_for() {
  local timeout=$1 what=$2 deadline; shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "$what did not come up within ${timeout} s; see the logs in $LOGS"
    fi
    check_running
    sleep 0.5
  done
}

# Fails fast, with the log tail, if a component started by this run has exited.
check_running() {
  local name
  for name in "${STARTED[@]}"; do
    if ! alive_pid "$name" >/dev/null; then
      # /proc/PID/cmdline reads empty while a process is between two execs (Kueue goes setsid, env, unshare, sh,
      # kueue): look once more before calling it dead. CI met this as "kueue exited" with an empty log.
      sleep 1
      alive_pid "$name" >/dev/null && continue
      log "$name exited; last lines of $LOGS/$name.log:"
      tail -n 20 "$LOGS/$name.log" >&2 || true
      die "$name exited during start-up"
    fi
  done
}

# ---- PKI -----------------------------------------------------------------------------------------

# Issues a certificate signed by the cluster CA (or by $CA). $1 name, $2 subject, $3 extendedKeyUsage, $4 SANs.
issue() {
  local name=$1 subj=$2 eku=$3 san=${4:-} ca=${CA:-ca}
  openssl req -new -newkey rsa:2048 -nodes -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# RSA keys throughout: every client (kubectl, Fabric8, curl) reads RSA PEM keys; Fabric8 7.5 does not
# read PKCS#8 EC keys.
make_pki() {
  mkdir -p "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=milan-local-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  # 10.96.0.1 is the first address of the service range: the in-cluster name of the API server.
  issue apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  issue admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  issue controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue scheduler "/CN=system:kube-scheduler" clientAuth
  # kwok writes node and pod status for every fake node, which no narrower built-in role allows.
  issue kwok "/O=system:masters/CN=kwok" clientAuth
  # Front proxy (request-header authentication): lets aggregated API servers and the controllers'
  # delegated authentication trust requests the API server forwards.
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=milan-local-front-proxy-ca" -keyout "$PKI/front-proxy-ca.key" -out "$PKI/front-proxy-ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  CA=front-proxy-ca issue front-proxy-client "/CN=front-proxy-client" clientAuth
  # Service-account tokens are signed with this key (apiserver) and issued by the token controller (kcm).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  chmod 600 "$PKI"/*.key
}

# Writes a kubeconfig with embedded certificates (so it works from any working directory).
kubeconfig() {
  local file=$1 user=$2
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: milan-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$user.crt")
    client-key-data: $(base64 -w0 "$PKI/$user.key")
contexts:
- name: milan-local
  context: {cluster: milan-local, user: $user}
current-context: milan-local
EOF
  chmod 600 "$file"
}

# ---- fake GPU nodes ------------------------------------------------------------------------------

node_manifests() {
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-gpu-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-gpu-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    nvidia.com/gpu.present: "true"
    nvidia.com/gpu.count: "$GPUS"
status:
  addresses:
  - {type: InternalIP, address: 10.0.0.$((i + 10))}
  - {type: Hostname, address: kwok-gpu-$i}
  capacity: {cpu: "64", memory: 512Gi, pods: "110", nvidia.com/gpu: "$GPUS"}
  allocatable: {cpu: "64", memory: 512Gi, pods: "110", nvidia.com/gpu: "$GPUS"}
EOF
  done
}

nodes_ready() {
  local ready
  ready=$("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  ((ready == NODES))
}

# ---- commands ------------------------------------------------------------------------------------

find_binaries() {
  BIN=$("$E2E/build-k8s.sh" --print-bin-dir)
  local b missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [[ -x $BIN/$b ]] || missing+=("$b")
  done
  ((${#missing[@]} == 0)) || die "Kubernetes binaries missing in $BIN (${missing[*]}); build them with e2e/build-k8s.sh (or e2e/ensure-prereqs.sh) first"
  local tool
  for tool in openssl ss setsid base64 curl; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed; run e2e/ensure-prereqs.sh"
  done
}

cmd_up() {
  find_binaries
  local running=() core=0 name
  for name in "${COMPONENTS[@]}"; do
    alive_pid "$name" >/dev/null || continue
    running+=("$name")
    [[ $name == watchdog || $name == kueue ]] || core=$((core + 1))
  done
  if ((${#running[@]} > 0)); then
    # All five cluster processes up (the watchdog and Kueue are optional): nothing to do but Kueue if asked.
    if ((core == ${#COMPONENTS[@]} - 2)) && [[ -f $DIR/kubeconfig ]]; then
      log "already running in $DIR (kubeconfig $DIR/kubeconfig)"
      if $KUEUE; then cmd_kueue; fi
      return 0
    fi
    die "a partly running cluster is in $DIR (${running[*]}); run: $SELF down --dir $DIR"
  fi

  local start_time=$SECONDS
  # Every `up` starts from an empty cluster: fresh etcd data, fresh certificates.
  rm -rf "$PKI" "$LOGS" "$PIDS" "$DIR/etcd" "$DIR/kwok" "$DIR/kueue" "$DIR"/*.kubeconfig "$DIR/kubeconfig" "$DIR/cluster.env"
  mkdir -p "$PIDS" "$LOGS" "$DIR/kwok"
  STARTED=()
  # On any failure below, stop what was started so nothing is left running.
  trap 'rc=$?; if ((rc != 0)); then log "start-up failed; stopping what was started"; stop_all; fi' EXIT

  make_pki
  free_port ETCD_PORT; free_port ETCD_PEER_PORT; free_port API_PORT; free_port KCM_PORT; free_port SCHED_PORT
  kubeconfig "$DIR/kubeconfig" admin
  kubeconfig "$DIR/controller-manager.kubeconfig" controller-manager
  kubeconfig "$DIR/scheduler.kubeconfig" scheduler
  kubeconfig "$DIR/kwok.kubeconfig" kwok

  # etcd: one member, loopback only. No fsync: the data is thrown away with the cluster.
  start etcd "$BIN/etcd" --name local --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync
  STARTED+=(etcd)

  # kube-apiserver: RBAC, the default admission plugins (plus NodeRestriction), service-account tokens.
  # The endpoint reconciler is off because the `kubernetes` Service may not point at a loopback address;
  # nothing in this cluster connects to the API server through that Service (there is no pod network).
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --endpoint-reconciler-type none \
    --cert-dir "$PKI" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged \
    --service-cluster-ip-range 10.96.0.0/16 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key"
  STARTED+=(kube-apiserver)
  wait_for 120 "kube-apiserver (https://127.0.0.1:$API_PORT/readyz)" \
    "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get --raw /readyz

  # kube-controller-manager: Jobs, EndpointSlices, namespaces, service accounts and their tokens, GC.
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --cert-dir "$DIR/kcm-certs" --leader-elect=false \
    --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range 10.96.0.0/16
  STARTED+=(kube-controller-manager)

  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --cert-dir "$DIR/scheduler-certs" --leader-elect=false
  STARTED+=(kube-scheduler)

  # kwok: manages only nodes annotated kwok.x-k8s.io/node=fake, with the stages in e2e/kwok/stages.yaml.
  # HOME points into the work dir so a ~/.kwok/kwok.yaml of the user cannot change its behaviour.
  start kwok env HOME="$DIR/kwok" "$BIN/kwok" --kubeconfig "$DIR/kwok.kubeconfig" \
    --config "$E2E/kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --manage-nodes-with-label-selector= --manage-single-node= \
    --cidr 10.244.0.0/16 --node-lease-duration-seconds 40
  STARTED+=(kwok)

  node_manifests | "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" create -f - >/dev/null
  wait_for 120 "$NODES fake GPU nodes (Ready)" nodes_ready
  # The service-account controller creating `default` proves the controller manager is working.
  wait_for 120 "kube-controller-manager (ServiceAccount default/default)" \
    "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get serviceaccount default -n default
  wait_for 60 "kube-scheduler (https://127.0.0.1:$SCHED_PORT/readyz)" \
    curl -fsSk "https://127.0.0.1:$SCHED_PORT/readyz"

  if [[ -n $OWNER_PID ]]; then
    # Watchdog: when the owner (e.g. a killed test JVM) is gone, stop the cluster.
    start watchdog bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" down --dir "$3"' \
      watchdog "$OWNER_PID" "$SELF" "$DIR"
  fi

  cat >"$DIR/cluster.env" <<EOF
KUBECONFIG=$DIR/kubeconfig
BIN_DIR=$BIN
API_SERVER=https://127.0.0.1:$API_PORT
NODES=$NODES
GPUS=$GPUS
EOF
  if $KUEUE; then start_kueue; fi
  trap - EXIT
  log "up in $((SECONDS - start_time)) s: $NODES nodes x $GPUS nvidia.com/gpu, API server https://127.0.0.1:$API_PORT"
  log "kubeconfig: $DIR/kubeconfig   (export KUBECONFIG=$DIR/kubeconfig; kubectl: $BIN/kubectl)"
}

cmd_down() {
  stop_all
  log "stopped (logs kept in $LOGS)"
}

cmd_status() {
  local name pid rc=0
  for name in "${COMPONENTS[@]}"; do
    if pid=$(alive_pid "$name"); then
      printf '%-24s running (pid %s)\n' "$name" "$pid"
    elif [[ $name == watchdog ]]; then
      printf '%-24s not running (only started with --owner-pid)\n' "$name"
    elif [[ $name == kueue ]]; then
      printf '%-24s not running (only started with --kueue or the kueue command)\n' "$name"
    else
      printf '%-24s stopped\n' "$name"
      rc=1
    fi
  done
  if ((rc == 0)); then
    cat "$DIR/cluster.env"
    BIN=$(sed -n 's/^BIN_DIR=//p' "$DIR/cluster.env")
    "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get nodes
  fi
  return $rc
}

# ---- Kueue ---------------------------------------------------------------------------------------

# Starts Kueue's controller manager out of cluster against this cluster, with its CRDs (e2e/kueue.sh, which the
# Kind cluster uses too); its pid and log are kept with the other components', so `down` stops it.
start_kueue() {
  "$E2E/kueue.sh" start --kubeconfig "$DIR/kubeconfig" --dir "$DIR/kueue" --pid-file "$PIDS/kueue.pid" \
    --log "$LOGS/kueue.log"
  echo "KUEUE=$(<"$DIR/kueue/home")" >>"$DIR/cluster.env"
}

cmd_kueue() {
  [[ -f $DIR/cluster.env ]] || die "no cluster in $DIR; run: $SELF up --dir $DIR --kueue"
  if alive_pid kueue >/dev/null; then
    log "Kueue already runs in $DIR"
    return 0
  fi
  BIN=$(sed -n 's/^BIN_DIR=//p' "$DIR/cluster.env")
  STARTED=()
  sed -i '/^KUEUE=/d' "$DIR/cluster.env"
  start_kueue
}

# Ports are picked free and bound a moment later, so a cluster starting beside this one (another test JVM, a
# developer's cluster beside CI) can take one in between: a start-up that lost that race starts again on new ports.
up_on_free_ports() {
  local try
  for try in 1 2 3; do
    (cmd_up) && return 0
    grep -qs "address already in use" "$LOGS"/*.log || exit 1
    log "another process took a port during start-up (try $try of 3); starting again on new ports"
  done
  die "three start-ups lost their ports to other processes; see the logs in $LOGS"
}

if [[ $CMD == up ]]; then up_on_free_ports; else "cmd_$CMD"; fi
