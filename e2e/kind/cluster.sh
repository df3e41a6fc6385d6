#!/usr/bin/env bash
# A real Kind cluster on this machine, with no container registry (tier A of shared/research/offline-kind.md): a
# control plane and (default) two workers. The node image comes from e2e/kind/build.sh, the project's images are
# loaded into the nodes, and the operator is installed from charts/milan-operator.
#   Pod network: kindnet's design without kindnetd (not on the Go module proxy): each node gets a ptp CNI config
#   for its own podCIDR and a route to every other node's podCIDR via that node's IP (pod_network below).
#   NetworkPolicy: kindnet's agent kube-network-policies on every node (network_policy below;
#   MILAN_KIND_NETWORK_POLICY=0 leaves it out).
#   Storage: the default StorageClass "standard" (local-path) on a directory shared by all nodes (one host
#   directory mounted into each), so a claim is ReadWriteMany as on a cluster's NFS/CephFS: the ranks of a run on
#   different nodes read one dataset, and rank 0's checkpoints reach the next attempt wherever it lands.
#
# Usage: e2e/kind/cluster.sh COMMAND [--name NAME] [--kubeconfig FILE] [--workers N]
#   up                 build what is missing (cached), create the cluster (or reuse a running one of the same
#                      shape), wait until every node, CoreDNS and the storage provisioner are ready
#   down               delete the cluster (its node containers, volumes and shared directory)
#   status             exit 0 if the cluster answers and every node is Ready
#   load-images        load milan/trainer and milan/operator (MILAN_VERSION, default 0.1.0) into every node;
#                      first brings them up to date with images/build.sh (incremental)
#   install-operator   CRDs + `helm upgrade --install` of the chart (namespace milan-system), images set to the
#                      loaded tags, never pulled; waits for the operator to be ready
#   smoke              runs the trainer image's `milan-trainer --help` as a pod and waits for it to complete
#   object-store       MinIO in the cluster (e2e/kind/minio.yaml, namespace milan-minio, http://minio.milan-minio:9000):
#                      builds its image (images/minio.sh, cached), loads it, deploys it with random root credentials
#                      (Secret minio-root), waits until it is ready. Only the tests that need it run it; not in `all`
#   all                up, load-images, install-operator
#   kueue              Kueue v0.17.0 (e2e/build-kueue.sh, cached) as a host process against the cluster's API server,
#                      with its CRDs (e2e/kueue.sh; state and log in e2e/.work/kind/NAME-kueue/); `down` stops it
# --name        cluster name (default milan; env MILAN_KIND_CLUSTER)
# --kubeconfig  where the admin kubeconfig is written (default e2e/.work/kind/kubeconfig)
# --workers     worker nodes besides the control plane (default 2; env MILAN_KIND_WORKERS; 0 = one node that
#               runs everything)
source "$(dirname "${BASH_SOURCE[0]}")/../lib/strict.sh"
{
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E=$(dirname "$HERE")
ROOT=$(dirname "$E2E")
CACHE_ROOT=${MILAN_CACHE:-/var/cache/milan}
VERSION=${MILAN_VERSION:-0.1.0}
TRAINER_IMAGE=milan/trainer:$VERSION
OPERATOR_IMAGE=milan/operator:$VERSION
HELM=$CACHE_ROOT/helm-v3.22.0/helm
NAMESPACE=milan-system
RELEASE=milan

usage() { sed -n '13,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }
die() { echo "kind/cluster.sh: error: $*" >&2; exit 1; }
log() { echo "kind/cluster.sh: $*" >&2; }

CMD=${1:-}
case $CMD in
  up | down | status | load-images | install-operator | smoke | object-store | all | kueue) shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage; die "expected a command, got '$CMD'" ;;
esac
NAME=${MILAN_KIND_CLUSTER:-milan}
KUBECONFIG_FILE=$E2E/.work/kind/kubeconfig
WORKERS=${MILAN_KIND_WORKERS:-2}
while (($#)); do
  case $1 in
    --name) NAME=${2:?--name needs a value}; shift 2 ;;
    --kubeconfig) KUBECONFIG_FILE=${2:?--kubeconfig needs a value}; shift 2 ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    *) usage; die "unknown option '$1'" ;;
  esac
done
[[ $WORKERS =~ ^[0-9]$ ]] || die "--workers must be a number from 0 to 9, got '$WORKERS'"
mkdir -p "$(dirname "$KUBECONFIG_FILE")"
export KUBECONFIG=$KUBECONFIG_FILE
NODE=$NAME-control-plane
# The node containers kind names for this shape: NAME-control-plane, NAME-worker, NAME-worker2, ...
NODES=("$NODE")
for ((i = 1; i <= WORKERS; i++)); do
  if ((i == 1)); then NODES+=("$NAME-worker"); else NODES+=("$NAME-worker$i"); fi
done
# Nodes that run pods: the workers (kind keeps the control plane's NoSchedule taint when it has workers).
if ((WORKERS > 0)); then POD_NODES=("${NODES[@]:1}"); else POD_NODES=("$NODE"); fi
# One host directory behind every node's /var/local-path-provisioner: the shared filesystem of the claims.
SHARED=/var/lib/milan-kind/$NAME/volumes
POD_SUBNET=10.244.0.0/16
# Kueue's state (certificates, config, pid, log) when `kueue` started it for this cluster.
KUEUE_DIR=$E2E/.work/kind/$NAME-kueue

KIND=$("$HERE/build.sh" --print-bin-dir)/kind
KUBECTL=$("$E2E/build-k8s.sh" --print-bin-dir)/kubectl
kubectl() { "$KUBECTL" "$@"; }

node_running() { [[ $(docker inspect -f '{{.State.Running}}' "${1:-$NODE}" 2>/dev/null) == true ]]; }
# The cluster's node containers, whatever shape it was created with.
existing_nodes() { docker ps -a --filter "label=io.x-k8s.kind.cluster=$NAME" --format '{{.Names}}' | sort; }
cluster_ready() {
  kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1 || return 1
  local ready
  ready=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null) || return 1
  [[ $(grep -c '^True$' <<<"$ready") == "${#NODES[@]}" ]]
}

# Shows why nodes did not come up: the last lines of their kubelet and containerd journals.
node_diagnostics() {
  local n
  for n in "${NODES[@]}"; do
    echo "--- $n"
    node_running "$n" || { docker logs --tail 30 "$n" 2>&1 || true; continue; }
    docker exec "$n" journalctl --no-pager -n 40 -u kubelet -u containerd 2>&1 || true
  done
}

# kindnet's pod network, set up once from outside: every node gets a ptp CNI config for the podCIDR that
# kube-controller-manager gave it, a route to each other node's podCIDR via that node's IP, and masquerading for
# traffic that leaves the pod network. The kubelet reports a node Ready once its CNI config exists.
pod_network() {
  local n cidr ip other
  declare -A cidr_of ip_of
  for n in "${NODES[@]}"; do
    cidr=""
    for _ in $(seq 120); do
      cidr=$(kubectl get node "$n" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
      [[ -n $cidr ]] && break
      sleep 1
    done
    [[ -n $cidr ]] || die "node $n got no podCIDR within 120 s (is it registered? kubectl get nodes)"
    ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$n")
    [[ $ip =~ ^[0-9.]+$ ]] || die "cannot read the IP address of node container $n ('$ip')"
    cidr_of[$n]=$cidr
    ip_of[$n]=$ip
  done
  for n in "${NODES[@]}"; do
    for other in "${NODES[@]}"; do
      if [[ $other != "$n" ]]; then docker exec "$n" ip route replace "${cidr_of[$other]}" via "${ip_of[$other]}"; fi
    done
    docker exec "$n" sh -c "iptables -t nat -C POSTROUTING -s ${cidr_of[$n]} ! -d $POD_SUBNET -j MASQUERADE 2>/dev/null ||
      iptables -t nat -A POSTROUTING -s ${cidr_of[$n]} ! -d $POD_SUBNET -j MASQUERADE"
    printf '%s\n' '{"cniVersion":"0.4.0","name":"milan-ptp","plugins":[' \
      ' {"type":"ptp","ipMasq":false,"mtu":1500,"ipam":{"type":"host-local","dataDir":"/run/cni-ipam-state",' \
      "  \"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"ranges\":[[{\"subnet\":\"${cidr_of[$n]}\"}]]}}," \
      ' {"type":"portmap","capabilities":{"portMappings":true}}]}' |
      docker exec -i "$n" sh -c 'mkdir -p /etc/cni/net.d && cat >/etc/cni/net.d/.milan-ptp.tmp &&
        mv /etc/cni/net.d/.milan-ptp.tmp /etc/cni/net.d/10-milan-ptp.conflist'
    log "pod network on $n: ${cidr_of[$n]} via ${ip_of[$n]}"
  done
}

# NetworkPolicy enforcement, as kindnet has it: kube-network-policies (e2e/build-kube-network-policies.sh), SIG
# Network's agent, runs on every node from outside, as the pod network is set up. It watches pods, namespaces and
# NetworkPolicies with a ServiceAccount of its own and gives a verdict on the first packet of each pod connection
# that the kernel hands it through NFQUEUE. Its own nftables rules use the nft "queue" expression, which these
# hosts' kernels lack (CONFIG_NFT_QUEUE is not set: "Could not process rule: No such file or directory"), so it
# logs that its rule sync failed and the same rules come from iptables' NFQUEUE target (xt_NFQUEUE through
# nft_compat), which they have: new connections from or to a pod, forwarded by the node, go to queue 100.
# --queue-bypass: while no agent listens (before it starts), packets pass, as without a policy agent.
# MILAN_KIND_NETWORK_POLICY=0 leaves it out (docs/e2e.md).
NETPOL_QUEUE=100
NETPOL_BIN=/usr/local/bin/kube-network-policies
network_policy() {
  [[ ${MILAN_KIND_NETWORK_POLICY:-1} == 1 ]] || { log "NetworkPolicy enforcement left out (MILAN_KIND_NETWORK_POLICY=0)"; return; }
  local bin n server token ca
  bin=$("$E2E/build-kube-network-policies.sh" | tail -1)
  # The agent's ServiceAccount, with the upstream install.yaml's read-only rights, and a token Secret that lives
  # as long as the cluster (the agent runs outside any pod, so nothing would renew a projected token).
  kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-network-policies, namespace: kube-system}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: kube-network-policies-token
  namespace: kube-system
  annotations: {kubernetes.io/service-account.name: kube-network-policies}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kube-network-policies}
rules:
- {apiGroups: [""], resources: [pods, namespaces], verbs: [list, watch]}
- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-network-policies}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-network-policies}
subjects: [{kind: ServiceAccount, name: kube-network-policies, namespace: kube-system}]
YAML
  for _ in $(seq 60); do
    token=$(kubectl -n kube-system get secret kube-network-policies-token -o jsonpath='{.data.token}' 2>/dev/null || true)
    [[ -n $token ]] && break
    sleep 1
  done
  [[ -n $token ]] || die "the token controller filled no token into kube-system/kube-network-policies-token in 60 s"
  ca=$(kubectl -n kube-system get secret kube-network-policies-token -o jsonpath='{.data.ca\.crt}')
  server=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NODE")
  for n in "${NODES[@]}"; do
    # The in-cluster configuration the agent reads (rest.InClusterConfig): the node's own filesystem, not a pod's.
    docker exec "$n" mkdir -p /var/run/secrets/kubernetes.io/serviceaccount
    base64 -d <<<"$token" | docker exec -i "$n" sh -c 'cat >/var/run/secrets/kubernetes.io/serviceaccount/token'
    base64 -d <<<"$ca" | docker exec -i "$n" sh -c 'cat >/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'
    echo kube-system | docker exec -i "$n" sh -c 'cat >/var/run/secrets/kubernetes.io/serviceaccount/namespace'
    docker exec "$n" sh -c "iptables -N MILAN-NETPOL 2>/dev/null || iptables -F MILAN-NETPOL
      iptables -A MILAN-NETPOL -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
      iptables -A MILAN-NETPOL -s $POD_SUBNET -j NFQUEUE --queue-num $NETPOL_QUEUE --queue-bypass
      iptables -A MILAN-NETPOL -d $POD_SUBNET -j NFQUEUE --queue-num $NETPOL_QUEUE --queue-bypass
      iptables -C FORWARD -j MILAN-NETPOL 2>/dev/null || iptables -I FORWARD 1 -j MILAN-NETPOL"
    if ! docker exec "$n" pgrep -f "^$NETPOL_BIN" >/dev/null; then
      docker cp "$bin" "$n:$NETPOL_BIN" >/dev/null
      # The nodes' containerd has no NRI socket: the agent logs that and learns pod IPs from the API server.
      docker exec -d -e KUBERNETES_SERVICE_HOST="$server" -e KUBERNETES_SERVICE_PORT=6443 "$n" sh -c \
        "exec $NETPOL_BIN --hostname-override=$n --nfqueue-id=$NETPOL_QUEUE \
          --netfilter-bug-1766-fix=false --metrics-bind-address=127.0.0.1:9080 --v=2 \
          >>/var/log/kube-network-policies.log 2>&1"
    fi
  done
  for n in "${NODES[@]}"; do
    for _ in $(seq 60); do
      docker exec "$n" grep -q "^ *$NETPOL_QUEUE " /proc/net/netfilter/nfnetlink_queue 2>/dev/null && break
      sleep 1
    done
    docker exec "$n" grep -q "^ *$NETPOL_QUEUE " /proc/net/netfilter/nfnetlink_queue ||
      die "kube-network-policies on $n does not listen on queue $NETPOL_QUEUE in 60 s: $(docker exec "$n" tail -20 /var/log/kube-network-policies.log)"
  done
  log "NetworkPolicy enforced on ${NODES[*]} by kube-network-policies (queue $NETPOL_QUEUE)"
}

# local-path's shared-filesystem mode: one path mounted on every node, claims of any access mode, volumes without
# node affinity. The provisioner would reload its ConfigMap once the kubelet updates the mounted file (up to a
# minute); a restart reads it before the first claim. The class binds at once (Immediate), as NFS/CephFS classes
# do: with kind's WaitForFirstConsumer, a claim being provisioned for the first pod's node pins every other pod
# that uses it to that node (the scheduler's VolumeBinding filter follows the claim's selected-node annotation),
# so a run's second rank could never land on another worker. The field is immutable: the class is recreated.
shared_storage() {
  kubectl -n local-path-storage patch configmap local-path-config --type merge \
    -p '{"data":{"config.json":"{\"sharedFileSystemPath\": \"/var/local-path-provisioner\"}"}}' >/dev/null
  kubectl -n local-path-storage rollout restart deployment/local-path-provisioner >/dev/null
  kubectl get storageclass standard -o json |
    jq '.volumeBindingMode = "Immediate" | del(.metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
        .metadata.managedFields)' | kubectl replace --force -f - >/dev/null
}

cmd_up() {
  local image t=$SECONDS
  "$ROOT/images/dockerd.sh"
  image=$("$HERE/build.sh" | tail -1)
  # Kind's own advice for many pods (the kubelet and containerd watch files); the VM's default is 128.
  sysctl -qw fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288 || true
  if node_running && [[ $(docker inspect -f '{{.Config.Image}}' "$NODE") == "$image" ]] &&
    [[ $(existing_nodes) == "$(printf '%s\n' "${NODES[@]}" | sort)" ]]; then
    log "cluster $NAME already runs; reusing it"
    "$KIND" get kubeconfig --name "$NAME" >"$KUBECONFIG_FILE"
  else
    # A Kueue left from the cluster this replaces would talk to an API server that is gone.
    "$E2E/kueue.sh" stop --dir "$KUEUE_DIR"
    "$KIND" delete cluster --name "$NAME" >/dev/null 2>&1 || true
    rm -rf "$SHARED"
    mkdir -p "$SHARED"
    local config=$E2E/.work/kind/$NAME.yaml role
    # disableDefaultCNI: pod_network sets up the pod network once the nodes have their podCIDRs (docs/e2e.md).
    # failCgroupV1: false keeps the kubelet working on these cgroup v1 hosts (the default from 1.35 on).
    {
      printf '%s\n' 'kind: Cluster' 'apiVersion: kind.x-k8s.io/v1alpha4' 'networking:' '  disableDefaultCNI: true' \
        "  podSubnet: $POD_SUBNET" 'nodes:'
      for role in control-plane $(for ((i = 0; i < WORKERS; i++)); do echo worker; done); do
        printf '%s\n' "- role: $role" '  extraMounts:' "  - hostPath: $SHARED" '    containerPath: /var/local-path-provisioner'
      done
      printf '%s\n' 'kubeadmConfigPatches:' '- |' '  kind: KubeletConfiguration' '  failCgroupV1: false'
    } >"$config"
    log "creating Kind cluster $NAME (control plane + $WORKERS workers) from $image"
    # No --wait: the nodes become Ready only after pod_network.
    if ! "$KIND" create cluster --name "$NAME" --image "$image" --config "$config" --kubeconfig "$KUBECONFIG_FILE" \
      --retain; then
      node_diagnostics >&2
      die "kind create cluster failed (nodes kept for inspection: docker exec $NODE journalctl -u kubelet; remove them with: $0 down)"
    fi
    pod_network
    shared_storage
  fi
  network_policy
  if ! kubectl wait --for=condition=Ready nodes --all --timeout=300s >/dev/null; then
    node_diagnostics >&2
    die "the nodes of cluster $NAME are not Ready after 300 s"
  fi
  # Pods the suite relies on: cluster DNS (the trainers find rank 0 by name) and volumes.
  kubectl -n kube-system rollout status deployment/coredns --timeout=300s >/dev/null
  kubectl -n local-path-storage rollout status deployment/local-path-provisioner --timeout=300s >/dev/null
  log "cluster $NAME is ready in $((SECONDS - t)) s; KUBECONFIG=$KUBECONFIG_FILE"
}

image_id() { docker image inspect -f '{{.Id}}' "$1"; }

# Brings both images up to date with the checkout. Not "build when missing": an image left from an older checkout
# would run old code against the new CRDs. images/build.sh is incremental (jars only when older than their
# sources, then Docker cache hits), so an up-to-date pair costs seconds and keeps its image IDs.
build_images() {
  log "bringing $TRAINER_IMAGE and $OPERATOR_IMAGE up to date with images/build.sh"
  "$ROOT/images/build.sh" --no-test trainer operator
}

cmd_load_images() {
  node_running || die "cluster $NAME is not running; run: $0 up"
  build_images
  local t=$SECONDS image loaded=()
  for image in "$TRAINER_IMAGE" "$OPERATOR_IMAGE"; do
    load_image "$image"
    [[ -z $LOADED_ON ]] || loaded+=("$image on $LOADED_ON")
  done
  ((${#loaded[@]})) || { log "the nodes already hold these images"; return; }
  log "images loaded in $((SECONDS - t)) s: ${loaded[*]}"
}

# load_image IMAGE: loads a local Docker image into the nodes that run pods unless they hold it already, and sets
# LOADED_ON to the nodes it loaded (empty when there was nothing to do). kind would compare image IDs with crictl, which the nodes lack, so it loads every time
# (~85 s); each node keeps a note of the image IDs it was given instead (a new node starts without notes). Only nodes
# that run pods get them: the tainted control plane never runs a trainer, the operator or MinIO.
load_image() {
  local image=$1 id note held node todo=()
  LOADED_ON=""
  id=$(image_id "$image")
  note=/var/lib/milan-images/${image//[:\/]/_}
  for node in "${POD_NODES[@]}"; do
    held=$(docker exec "$node" ctr -n k8s.io images ls -q)
    if [[ $(docker exec "$node" cat "$note" 2>/dev/null) != "$id" ]] || ! grep -qx "docker.io/$image" <<<"$held"; then
      todo+=("$node")
    fi
  done
  ((${#todo[@]})) || return 0
  "$KIND" load docker-image --name "$NAME" --nodes "$(IFS=,; echo "${todo[*]}")" "$image"
  for node in "${todo[@]}"; do
    docker exec "$node" sh -c "mkdir -p /var/lib/milan-images && echo '$id' > '$note'"
  done
  LOADED_ON=${todo[*]}
}

cmd_install_operator() {
  cluster_ready || die "cluster $NAME is not ready; run: $0 up"
  [[ -x $HELM ]] || die "helm is missing at $HELM; build it once with charts/test.sh"
  # CRDs first and server-side: `helm upgrade` never updates a chart's crds/.
  kubectl apply --server-side --force-conflicts -f "$ROOT/charts/milan-operator/crds/" >/dev/null
  # The image ID as a pod annotation: a rebuilt image under the same tag rolls the operator out again.
  local image_id
  image_id=$(image_id "$OPERATOR_IMAGE" | cut -d: -f2 | cut -c1-12)
  "$HELM" upgrade --install "$RELEASE" "$ROOT/charts/milan-operator" --namespace "$NAMESPACE" --create-namespace \
    --set image.repository="${OPERATOR_IMAGE%:*}" --set image.tag="$VERSION" --set image.pullPolicy=Never \
    --set trainer.image="$TRAINER_IMAGE" --set-string "podAnnotations.milan\.io/image-id=$image_id" \
    --wait --timeout 5m >/dev/null
  kubectl -n "$NAMESPACE" rollout status deployment --timeout=300s >/dev/null
  log "operator installed: $(kubectl -n "$NAMESPACE" get pods -o name | tr '\n' ' ')"
}

# Kueue runs out of cluster, as in the local control plane: Kind publishes its API server on 127.0.0.1, and the
# operator creates queued Jobs suspended itself, so no webhook has to reach it from inside the cluster.
cmd_kueue() {
  cluster_ready || die "cluster $NAME is not ready; run: $0 up"
  "$E2E/build-kueue.sh" >/dev/null
  "$E2E/kueue.sh" start --kubeconfig "$KUBECONFIG_FILE" --dir "$KUEUE_DIR"
}

cmd_smoke() {
  cluster_ready || die "cluster $NAME is not ready; run: $0 up"
  kubectl delete pod milan-smoke --ignore-not-found --wait >/dev/null
  kubectl run milan-smoke --image="$TRAINER_IMAGE" --image-pull-policy=Never --restart=Never \
    --command -- milan-trainer --help >/dev/null
  kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/milan-smoke --timeout=180s >/dev/null ||
    { kubectl describe pod milan-smoke >&2; die "the trainer pod did not complete"; }
  kubectl get pod milan-smoke -o wide
  kubectl logs milan-smoke | sed -n 1,5p
  kubectl delete pod milan-smoke --wait=false >/dev/null
}

# The tests' S3-compatible server (docs/e2e.md): built and loaded only here, so `all` (the demo) never pays for it.
# Idempotent: a second call finds the image on the nodes, the Secret and the Deployment as they are, in seconds.
MINIO_NAMESPACE=milan-minio
cmd_object_store() {
  cluster_ready || die "cluster $NAME is not ready; run: $0 up"
  local t=$SECONDS image
  image=$("$ROOT/images/minio.sh" | tail -n 1)
  load_image "$image"
  [[ -z $LOADED_ON ]] || log "$image loaded on $LOADED_ON"
  kubectl get namespace "$MINIO_NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$MINIO_NAMESPACE" >/dev/null
  # Random root credentials, made once per cluster; they reach kubectl on its standard input, never a command line.
  if ! kubectl -n "$MINIO_NAMESPACE" get secret minio-root >/dev/null 2>&1; then
    kubectl -n "$MINIO_NAMESPACE" create secret generic minio-root --from-env-file=/dev/stdin >/dev/null <<EOF
MINIO_ROOT_USER=milan-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
MINIO_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
EOF
  fi
  sed "s#image: MINIO_IMAGE#image: $image#" "$HERE/minio.yaml" | kubectl apply -f - >/dev/null
  kubectl -n "$MINIO_NAMESPACE" rollout status deployment/minio --timeout=300s >/dev/null ||
    { kubectl -n "$MINIO_NAMESPACE" describe pods >&2; die "MinIO did not become ready in 300 s"; }
  log "MinIO ($image) ready in $((SECONDS - t)) s: http://minio.$MINIO_NAMESPACE:9000 in the cluster, root credentials in Secret $MINIO_NAMESPACE/minio-root"
}

case $CMD in
  up) cmd_up ;;
  down)
    "$E2E/kueue.sh" stop --dir "$KUEUE_DIR"
    "$KIND" delete cluster --name "$NAME"; rm -f "$KUBECONFIG_FILE"; rm -rf "$SHARED" ;;
  status) node_running && cluster_ready ;;
  load-images) cmd_load_images ;;
  install-operator) cmd_install_operator ;;
  smoke) cmd_smoke ;;
  kueue) cmd_kueue ;;
  object-store) cmd_object_store ;;
  all) cmd_up; cmd_load_images; cmd_install_operator ;;
esac
exit 0
}
