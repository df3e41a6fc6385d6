#!/usr/bin/env bash
# The end-to-end suite (e2e-tests, -Pe2e) on a Kind cluster of its own, as CI runs it: builds the images (cached,
# images/test.sh checks them), creates a fresh cluster (default name milan-e2e), loads the images, installs the
# chart, starts Kueue against it (e2e/kind/cluster.sh kueue, for KueuePreemptionE2E), runs the suite against it,
# stops Kueue and deletes the cluster, pass or fail. The reactor's artifacts must be in the local Maven repository
# first (run-tests.sh runs `./mvnw install`).
#   e2e/kind/suite.sh [extra Maven arguments, e.g. -Dit.test=QuickstartE2E]
#   MILAN_E2E_CLUSTER   cluster name (default milan-e2e); MILAN_E2E_KEEP=1 keeps the cluster afterwards
source "$(dirname "${BASH_SOURCE[0]}")/../lib/strict.sh"
cd "$(dirname "$0")/../.."
name=${MILAN_E2E_CLUSTER:-milan-e2e}
kubeconfig=$PWD/e2e/.work/kind/$name.kubeconfig
cleanup() {
  [[ ${MILAN_E2E_KEEP:-} == 1 ]] || e2e/kind/cluster.sh down --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
}
trap cleanup EXIT
t=$SECONDS
images/build.sh
e2e/kind/cluster.sh down --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
e2e/kind/cluster.sh all --name "$name" --kubeconfig "$kubeconfig"
e2e/kind/cluster.sh kueue --name "$name" --kubeconfig "$kubeconfig"
echo "suite.sh: cluster $name ready with the operator after $((SECONDS - t)) s"
# MILAN_KIND_CLUSTER: a test that needs the in-cluster object store deploys it on first use (cluster.sh object-store).
MILAN_KIND_CLUSTER=$name KUBECONFIG=$kubeconfig ./mvnw -B -ntp -pl e2e-tests -Pe2e verify "$@"
echo "suite.sh: images, cluster and suite took $((SECONDS - t)) s"
