#!/usr/bin/env bash
# End-to-end check of the chart's wiring on a real API server: installs the chart, then runs the operator image
# (docker, host network) as the chart's ServiceAccount with the Deployment's own environment, and checks that
#   - the operator becomes ready with exactly the chart's RBAC (token of the chart's ServiceAccount);
#   - a MilanPretrain in a watched namespace gets a status and a pod group (Job) whose trainer pods use the
#     chart's trainer image and UID, under the namespace's `restricted` Pod Security admission;
#   - in namespaces mode the ServiceAccount has no permissions outside the watched namespaces.
# Both RBAC modes are exercised, cluster mode with leader election on (the Lease must be acquired). Needs: KUBECONFIG reaching a cluster (e.g. e2e/local-cluster.sh), Docker,
# the image milan/operator:<version> (images/build.sh) and helm (charts/test.sh builds it).
# Usage: KUBECONFIG=... charts/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
chart=$here/milan-operator
helm=${MILAN_CACHE:-/var/cache/milan}/helm-v3.22.0/helm
operator_image=milan/operator:${MILAN_VERSION:-0.1.0}
timeout_s=${MILAN_TEST_TIMEOUT:-180}
release=milan-e2e
work=$(mktemp -d)
container=""

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

if [[ -z ${KUBECONFIG:-} ]] || ! kubectl --request-timeout=5s get --raw /readyz >/dev/null; then
  echo "charts/e2e.sh: needs KUBECONFIG pointing at a reachable cluster" >&2
  exit 2
fi
[[ -x $helm ]] || { echo "charts/e2e.sh: run charts/test.sh first (it builds helm)" >&2; exit 2; }
docker image inspect "$operator_image" >/dev/null || { echo "charts/e2e.sh: build $operator_image first (images/build.sh operator)" >&2; exit 2; }

cleanup() {
  [[ -z $container ]] || docker rm -f "$container" >/dev/null 2>&1 || true
  "$helm" uninstall "$release" -n "$release" >/dev/null 2>&1 || true
  kubectl delete namespace "$release" e2e-team-a e2e-team-b --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kubectl delete clusterrole,clusterrolebinding "$release-milan-operator" --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for DESCRIPTION COMMAND...: polls until the command succeeds, bounded by timeout_s.
wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < timeout_s; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "  timed out after ${timeout_s}s waiting for $what"
  return 1
}

operator_ready() {
  docker exec "$container" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 &&
    printf "GET /q/health/ready HTTP/1.0\r\n\r\n" >&3 && cat <&3' | grep -q '"status": "UP"'
}

# A kubeconfig that authenticates as the chart's ServiceAccount (short-lived token), CA inlined.
sa_kubeconfig() {
  local sa=$1 ns=$2 server ca token
  server=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(kubectl config view --minify --raw --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  token=$(kubectl -n "$ns" create token "$sa" --duration=1h)
  cat >"$work/sa.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: u, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: "$ns"}}]
current-context: c
EOF
  chmod 0644 "$work/sa.kubeconfig" # read by the container's UID 10001; the directory itself is private
}

run_mode() {
  local mode=$1 run_ns=e2e-team-a
  shift
  echo "--- mode $mode"
  kubectl create namespace "$release" >/dev/null
  for ns in e2e-team-a e2e-team-b; do
    kubectl create namespace "$ns" >/dev/null
    kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null
  done
  "$helm" install "$release" "$chart" -n "$release" "$@" >/dev/null
  pass "$mode: helm install"

  # The Deployment's environment, exactly as rendered, for the container.
  local sa env_args=()
  sa=$(kubectl -n "$release" get deployment "$release-milan-operator" -o jsonpath='{.spec.template.spec.serviceAccountName}')
  while IFS=$'\t' read -r name value; do
    env_args+=(-e "$name=$value")
  done < <(kubectl -n "$release" get deployment "$release-milan-operator" -o json |
    jq -r '.spec.template.spec.containers[0].env[] | [.name, .value] | @tsv')
  sa_kubeconfig "$sa" "$release"

  container=milan-chart-e2e-$$
  docker run -d --name "$container" --network host --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges -e HOSTNAME="$container" -e KUBECONFIG=/kubeconfig \
    -v "$work/sa.kubeconfig:/kubeconfig:ro" "${env_args[@]}" "$operator_image" >/dev/null
  if wait_for "operator ready" operator_ready; then
    pass "$mode: operator ready as ServiceAccount $sa with the chart's RBAC"
  else
    docker logs "$container" 2>&1 | grep -E 'ERROR|Forbidden|forbidden' | sed -n 1,5p | cut -c1-200
    fail "$mode: operator not ready"
  fi

  kubectl -n "$run_ns" apply -f "$root/examples/quickstart-cpu-pretrain.yaml" >/dev/null
  if wait_for "a phase on MilanPretrain quickstart" \
    bash -c "[[ -n \$(kubectl -n $run_ns get milanpretrain quickstart -o jsonpath='{.status.phase}') ]]"; then
    pass "$mode: run reconciled (phase $(kubectl -n "$run_ns" get milanpretrain quickstart -o jsonpath='{.status.phase}'))"
  else
    fail "$mode: run got no status"
  fi
  if wait_for "the pod group Job" bash -c "kubectl -n $run_ns get jobs -o name | grep -q ."; then
    local spec
    spec=$(kubectl -n "$run_ns" get jobs -o json | jq -c '.items[0].spec.template.spec |
      {image: .containers[0].image, uid: .securityContext.runAsUser}')
    if [[ $spec == '{"image":"milan/trainer:0.1.0","uid":10001}' ]]; then
      pass "$mode: pod group Job uses the chart's trainer image and UID ($spec)"
    else
      fail "$mode: pod group Job: $spec"
    fi
    # The Job controller creates the pods only if restricted admission accepts them.
    if wait_for "trainer pods admitted" bash -c "kubectl -n $run_ns get pods -o name | grep -q ."; then
      pass "$mode: trainer pods admitted under pod-security enforce=restricted"
    else
      kubectl -n "$run_ns" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | cut -c1-300
      fail "$mode: no trainer pods"
    fi
  else
    fail "$mode: no Job"
  fi

  if [[ $(kubectl -n "$release" get deployment "$release-milan-operator" -o jsonpath='{.spec.replicas}') -gt 1 ]]; then
    if wait_for "the leader Lease" bash -c \
      "[[ \$(kubectl -n $release get lease milan-operator -o jsonpath='{.spec.holderIdentity}') == $container ]]"; then
      pass "$mode: leader election: Lease milan-operator held by this replica"
    else
      fail "$mode: leader election Lease not acquired"
    fi
  fi

  local who=system:serviceaccount:$release:$sa
  if [[ $mode == namespaces ]]; then
    if [[ $(kubectl auth can-i list milanpretrains.milan.io -n e2e-team-b --as "$who") == no &&
      $(kubectl auth can-i create jobs.batch -n e2e-team-b --as "$who") == no ]]; then
      pass "$mode: no permissions in the unwatched namespace e2e-team-b"
    else
      fail "$mode: ServiceAccount has permissions in e2e-team-b"
    fi
  fi
  if [[ $(kubectl auth can-i get secrets -n "$run_ns" --as "$who") == no &&
    $(kubectl auth can-i update milanpretrains.milan.io -n "$run_ns" --as "$who") == no ]]; then
    pass "$mode: no access to secrets, no update of runs"
  else
    fail "$mode: ServiceAccount can read secrets or update runs"
  fi

  docker rm -f "$container" >/dev/null
  container=""
  "$helm" uninstall "$release" -n "$release" >/dev/null
  kubectl delete namespace "$release" e2e-team-a e2e-team-b --wait=true --timeout=120s >/dev/null
}

kubectl apply --server-side -f "$chart/crds/" >/dev/null # helm skips CRDs that exist already
run_mode cluster --set replicaCount=2 --set leaderElection.enabled=true
run_mode namespaces --set watch.mode=namespaces --set 'watch.namespaces={e2e-team-a}'

echo
echo "charts/e2e.sh: $passed passed, $failed failed"
((failed == 0))
