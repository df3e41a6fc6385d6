#!/usr/bin/env bash
# Builds kube-network-policies, Kubernetes SIG Network's NetworkPolicy agent (kindnet's policy enforcement:
# sigs.k8s.io/kube-network-policies on the Go module proxy), for the local Kind cluster: e2e/kind/cluster.sh runs
# it on every node so that the pod network enforces NetworkPolicy (docs/e2e.md). The module's own go.mod/go.sum pin
# its dependencies.
#
# Output: ${MILAN_CACHE:-/var/cache/milan}/kube-network-policies-<key>/bin/kube-network-policies, <key> a hash of
# the version, the Go version and this script's recipe number. A stamp file makes a rerun return in a second.
#   e2e/build-kube-network-policies.sh                 build (or reuse) it, print the binary's path last
#   e2e/build-kube-network-policies.sh --print-path    print that path for the pinned version, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"
SCRIPT=build-kube-network-policies.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-cache.sh"

VERSION=v0.8.0
# Bump when the way it is built changes, so an old cache is not reused.
RECIPE=1

key=$(go_cache_key "recipe=$RECIPE version=$VERSION")
DEST=$CACHE_ROOT/kube-network-policies-$key
STAMP=$DEST/.complete
BIN=$DEST/bin/kube-network-policies

case "${1:-}" in
  --print-path) echo "$BIN"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-kube-network-policies.sh [--print-path])" ;;
esac

go_cache_lock "kube-network-policies-$key"
if go_cache_complete "$STAMP" "$BIN"; then
  echo "$SCRIPT: cached kube-network-policies $VERSION is complete ($STAMP)" >&2
  echo "$BIN"
  exit 0
fi

echo "$SCRIPT: building kube-network-policies $VERSION with $(go env GOVERSION) into $DEST (a few minutes on 2 cores)" >&2
start=$SECONDS
tmp=$DEST.tmp
rm -rf "$tmp" && mkdir -p "$tmp/bin"
# The main package is the module's cmd/, so go install names the binary "cmd".
GOBIN=$tmp/bin GOFLAGS="-mod=mod -trimpath" go install -ldflags "-s -w" \
  "sigs.k8s.io/kube-network-policies/cmd@$VERSION"
[[ -x $tmp/bin/cmd ]] || die "go install did not produce $tmp/bin/cmd"
mv "$tmp/bin/cmd" "$tmp/bin/kube-network-policies"
"$tmp/bin/kube-network-policies" --help >/dev/null 2>&1 ||
  die "the built binary does not run ($tmp/bin/kube-network-policies --help)"
rm -rf "$DEST" && mv "$tmp" "$DEST"
{ echo "kube-network-policies=$VERSION"; echo "go=$(go env GOVERSION)"; } >"$STAMP"
echo "$SCRIPT: built in $((SECONDS - start)) s" >&2
echo "$BIN"
