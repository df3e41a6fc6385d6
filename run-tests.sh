#!/usr/bin/env bash
# The test command of the README: installs what the tests need (idempotent; Debian packages, the local
# Kubernetes binaries and helm, built from Go modules into a cache outside the repository), then runs every
# test tier that exists: unit tests, integration tests against a real kube-apiserver with fake GPU nodes, and
# the Helm chart's tests (lint, template, Argo CD health checks, server-side dry run of every rendering).
set -euo pipefail
cd "$(dirname "$0")"

e2e/ensure-prereqs.sh
trainer-image/ensure-data.sh
./mvnw -B -ntp verify "$@"

# The chart against a real API server of its own (CRDs applied, so the dry run knows the kinds).
cluster=$(mktemp -d)
trap 'e2e/local-cluster.sh down --dir "$cluster" >/dev/null 2>&1 || true; rm -rf "$cluster"' EXIT
e2e/local-cluster.sh up --dir "$cluster" --nodes 1 --owner-pid $$ >/dev/null
export KUBECONFIG=$cluster/kubeconfig PATH=$(e2e/build-k8s.sh --print-bin-dir):$PATH
kubectl apply --server-side -f crds/manifests/ >/dev/null
charts/test.sh
