#!/usr/bin/env bash
# The test command of the README: installs what the tests need (idempotent: e2e/ensure-prereqs.sh installs the
# Debian packages, starts Docker and builds the local Kubernetes binaries and helm; kind, its node image and the
# container images are built on first use; all from Go modules, Debian and Maven Central into caches outside the
# repository), checks that no script needs a tool the prerequisites lack (e2e/check-prereqs.sh), then runs every
# test tier:
#   1. unit tests and integration tests against a real kube-apiserver with fake GPU nodes (Maven);
#   2. the Helm chart's tests (lint, template, Argo CD health checks, server-side dry run of every rendering);
#   3. the end-to-end suite on a real Kind cluster whose pods run the trainer (e2e/kind/suite.sh).
# Extra arguments go to the Maven build of tier 1.
source "$(dirname "${BASH_SOURCE[0]}")/e2e/lib/strict.sh"
cd "$(dirname "$0")"
t0=$SECONDS
stamp() { echo "run-tests.sh: $1 done after $((SECONDS - t0)) s"; }

e2e/ensure-prereqs.sh
# Kueue's controller for the operator's KueueIT, from its Go module (cached; the demo does not need it).
e2e/build-kueue.sh >/dev/null
# kstatus, Flux's status library, for the operator's KstatusIT, from its Go module (cached).
e2e/build-kstatus.sh >/dev/null
# MinIO, an S3-compatible server, for the trainer's object storage tests, from its Go module (cached).
e2e/build-minio.sh >/dev/null
# kube-network-policies, the NetworkPolicy agent of the Kind cluster of tier 3, from its Go module (cached).
e2e/build-kube-network-policies.sh >/dev/null
# Every command a script asks for is one the prerequisites step provides (and it does provide them now).
e2e/check-prereqs.sh
# install: the end-to-end module runs alone in tier 3 and takes the other modules from the local repository.
./mvnw -B -ntp install "$@"
stamp "tier 1 (Maven)"

# The chart against a real API server of its own (CRDs applied, so the dry run knows the kinds).
chart_tests() (
  cluster=$(mktemp -d)
  trap 'e2e/local-cluster.sh down --dir "$cluster" >/dev/null 2>&1 || true; rm -rf "$cluster"' EXIT
  e2e/local-cluster.sh up --dir "$cluster" --nodes 1 --owner-pid $$ >/dev/null
  export KUBECONFIG=$cluster/kubeconfig PATH=$(e2e/build-k8s.sh --print-bin-dir):$PATH
  kubectl apply --server-side -f crds/manifests/ >/dev/null
  charts/test.sh
)
chart_tests
stamp "tier 2 (chart)"

e2e/kind/suite.sh
stamp "tier 3 (Kind end to end)"
