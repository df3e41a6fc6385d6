#!/usr/bin/env bash
# Builds helm from its Go module (the Go module proxy is the only source of it here) into
# ${MILAN_CACHE:-/var/cache/milan}/helm-<version>/helm and prints that path last; a second run only prints it.
#   e2e/build-helm.sh                 build (or reuse) helm
#   e2e/build-helm.sh --print-path    print where helm is, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

HELM_VERSION=v3.22.0
CACHE_ROOT=${MILAN_CACHE:-/var/cache/milan}
HELM=$CACHE_ROOT/helm-$HELM_VERSION/helm
die() { echo "build-helm.sh: error: $*" >&2; exit 1; }

case "${1:-}" in
  --print-path) echo "$HELM"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-helm.sh [--print-path])" ;;
esac
if [[ ! -x $HELM ]]; then
  command -v go >/dev/null || die "'go' is not on PATH; install Go 1.26 or newer"
  command -v jq >/dev/null || die "jq is missing; run e2e/ensure-prereqs.sh"
  echo "build-helm.sh: building helm $HELM_VERSION from the Go module proxy into $(dirname "$HELM")" >&2
  mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT; set MILAN_CACHE to a writable directory"
  tmp=$CACHE_ROOT/helm-$HELM_VERSION.tmp pkg=helm.sh/helm/v3/pkg
  rm -rf "$tmp" && mkdir -p "$tmp"
  # As helm's Makefile does: the default Kubernetes version of `helm template`/`lint` follows client-go
  # (v0.N -> 1.N); without it helm assumes 1.20.
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | jq -r .GoMod)
  minor=$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod")
  [[ $minor =~ ^[0-9]+$ ]] || die "cannot read client-go's version from $gomod"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN=$tmp go install -ldflags "-s -w
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION
    -X $pkg/lint/rules.k8sVersionMajor=1 -X $pkg/lint/rules.k8sVersionMinor=$minor
    -X $pkg/chartutil.k8sVersionMajor=1 -X $pkg/chartutil.k8sVersionMinor=$minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  got=$("$tmp/helm" version --short)
  [[ $got == "$HELM_VERSION"* ]] || die "the built helm reports '$got', expected $HELM_VERSION"
  rm -rf "$(dirname "$HELM")" && mv "$tmp" "$(dirname "$HELM")"
fi
echo "$HELM"
