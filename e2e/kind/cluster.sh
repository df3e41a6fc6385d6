#!/usr/bin/env bash
# A real single-node Kind cluster on this machine, with no container registry (tier A of
# shared/research/offline-kind.md): the node image comes from e2e/kind/build.sh, the project's images are
# loaded into the node, and the operator is installed from charts/milan-operator.
#
# Usage: e2e/kind/cluster.sh COMMAND [--name NAME] [--kubeconfig FILE]
#   up                 build what is missing (cached), create the cluster (or reuse a running one), wait
#                      until the node, CoreDNS and the storage provisioner are ready
#   down               delete the cluster (its node container and volumes)
#   status             exit 0 if the cluster answers and its node is Ready
#   load-images        load milan/trainer and milan/operator (MILAN_VERSION, default 0.1.0) into the node;
#                      builds them with images/build.sh if Docker lacks them
#   install-operator   CRDs + `helm upgrade --install` of the chart (namespace milan-system), images set to the
#                      loaded tags, never pulled; waits for the operator to be ready
#   smoke              runs the trainer image's `milan-trainer --help` as a pod and waits for it to complete
#   all                up, load-images, install-operator
# --name        cluster name (default milan; env MILAN_KIND_CLUSTER)
# --kubeconfig  where the admin kubeconfig is written (default e2e/.work/kind/kubeconfig)
set -euo pipefail
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

usage() { sed -n '6,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }
die() { echo "kind/cluster.sh: error: $*" >&2; exit 1; }
log() { echo "kind/cluster.sh: $*" >&2; }

CMD=${1:-}
case $CMD in
  up | down | status | load-images | install-operator | smoke | all) shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage; die "expected a command, got '$CMD'" ;;
esac
NAME=${MILAN_KIND_CLUSTER:-milan}
KUBECONFIG_FILE=$E2E/.work/kind/kubeconfig
while (($#)); do
  case $1 in
    --name) NAME=${2:?--name needs a value}; shift 2 ;;
    --kubeconfig) KUBECONFIG_FILE=${2:?--kubeconfig needs a value}; shift 2 ;;
    *) usage; die "unknown option '$1'" ;;
  esac
done
mkdir -p "$(dirname "$KUBECONFIG_FILE")"
export KUBECONFIG=$KUBECONFIG_FILE
NODE=$NAME-control-plane

KIND=$("$HERE/build.sh" --print-bin-dir)/kind
KUBECTL=$("$E2E/build-k8s.sh" --print-bin-dir)/kubectl
kubectl() { "$KUBECTL" "$@"; }

node_running() { [[ $(docker inspect -f '{{.State.Running}}' "$NODE" 2>/dev/null) == true ]]; }
cluster_ready() {
  kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1 &&
    [[ $(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# Shows why a node did not come up: the last lines of its kubelet and containerd journals.
node_diagnostics() {
  node_running || { docker logs --tail 30 "$NODE" 2>&1 || true; return; }
  docker exec "$NODE" journalctl --no-pager -n 40 -u kubelet -u containerd 2>&1 || true
}

cmd_up() {
  local image t=$SECONDS
  "$ROOT/images/dockerd.sh"
  image=$("$HERE/build.sh" | tail -1)
  # Kind's own advice for many pods (the kubelet and containerd watch files); the VM's default is 128.
  sysctl -qw fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288 || true
  if node_running && [[ $(docker inspect -f '{{.Config.Image}}' "$NODE") == "$image" ]]; then
    log "cluster $NAME already runs; reusing it"
    "$KIND" get kubeconfig --name "$NAME" >"$KUBECONFIG_FILE"
  else
    "$KIND" delete cluster --name "$NAME" >/dev/null 2>&1 || true
    local config=$E2E/.work/kind/$NAME.yaml
    # disableDefaultCNI: the node image carries a static ptp CNI config (single node; see docs/e2e.md).
    # failCgroupV1: false keeps the kubelet working on these cgroup v1 hosts (the default from 1.35 on).
    cat >"$config" <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
- role: control-plane
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  failCgroupV1: false
EOF
    log "creating Kind cluster $NAME from $image"
    if ! "$KIND" create cluster --name "$NAME" --image "$image" --config "$config" --kubeconfig "$KUBECONFIG_FILE" \
      --wait 5m --retain; then
      node_diagnostics >&2
      die "kind create cluster failed (node kept for inspection: docker exec $NODE journalctl -u kubelet; remove it with: $0 down)"
    fi
  fi
  kubectl wait --for=condition=Ready "node/$NODE" --timeout=300s >/dev/null
  # Pods the suite relies on: cluster DNS (the trainers find rank 0 by name) and volumes.
  kubectl -n kube-system rollout status deployment/coredns --timeout=300s >/dev/null
  kubectl -n local-path-storage rollout status deployment/local-path-provisioner --timeout=300s >/dev/null
  log "cluster $NAME is ready in $((SECONDS - t)) s; KUBECONFIG=$KUBECONFIG_FILE"
}

image_id() { docker image inspect -f '{{.Id}}' "$1"; }

ensure_image() {
  docker image inspect "$1" >/dev/null 2>&1 && return
  log "$1 is missing; building it with images/build.sh $2"
  "$ROOT/images/build.sh" --no-test "$2"
}

cmd_load_images() {
  node_running || die "cluster $NAME is not running; run: $0 up"
  ensure_image "$TRAINER_IMAGE" trainer
  ensure_image "$OPERATOR_IMAGE" operator
  local t=$SECONDS image todo=()
  declare -A id
  # kind would compare image IDs with crictl, which the node lacks, so it loads every time (~85 s); the node
  # keeps a note of the image IDs it was given instead (a new node starts without notes).
  for image in "$TRAINER_IMAGE" "$OPERATOR_IMAGE"; do
    id[$image]=$(image_id "$image")
    [[ $(docker exec "$NODE" cat "/var/lib/milan-images/${image//[:\/]/_}" 2>/dev/null) == "${id[$image]}" ]] &&
      docker exec "$NODE" ctr -n k8s.io images ls -q | grep -qx "docker.io/$image" || todo+=("$image")
  done
  ((${#todo[@]})) || { log "the node already holds these images"; return; }
  "$KIND" load docker-image --name "$NAME" "${todo[@]}"
  for image in "${todo[@]}"; do
    docker exec "$NODE" sh -c "mkdir -p /var/lib/milan-images && echo '${id[$image]}' > '/var/lib/milan-images/${image//[:\/]/_}'"
  done
  log "images loaded in $((SECONDS - t)) s: ${todo[*]}"
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

cmd_smoke() {
  cluster_ready || die "cluster $NAME is not ready; run: $0 up"
  kubectl delete pod milan-smoke --ignore-not-found --wait >/dev/null
  kubectl run milan-smoke --image="$TRAINER_IMAGE" --image-pull-policy=Never --restart=Never \
    --command -- milan-trainer --help >/dev/null
  kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/milan-smoke --timeout=180s >/dev/null ||
    { kubectl describe pod milan-smoke >&2; die "the trainer pod did not complete"; }
  kubectl get pod milan-smoke -o wide
  kubectl logs milan-smoke | head -5
  kubectl delete pod milan-smoke --wait=false >/dev/null
}

case $CMD in
  up) cmd_up ;;
  down) "$KIND" delete cluster --name "$NAME"; rm -f "$KUBECONFIG_FILE" ;;
  status) node_running && cluster_ready ;;
  load-images) cmd_load_images ;;
  install-operator) cmd_install_operator ;;
  smoke) cmd_smoke ;;
  all) cmd_up; cmd_load_images; cmd_install_operator ;;
esac
exit 0
}
