#!/usr/bin/env bash
# Builds Kueue's controller manager from its Go module (sigs.k8s.io/kueue, the Go module proxy) and copies the CRDs
# that ship in the same module, for e2e/local-cluster.sh --kueue. The module's own go.mod/go.sum pin its dependencies.
#
# Output: ${MILAN_CACHE:-/var/cache/milan}/kueue-<version>-<key>/{bin/kueue,crds/*.yaml}, <key> a hash of the version,
# the Go version and this script's recipe number. A stamp file makes a rerun return in a second.
#   e2e/build-kueue.sh                 build (or reuse) Kueue, print its directory last
#   e2e/build-kueue.sh --print-dir     print that directory for the pinned version, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"
SCRIPT=build-kueue.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-cache.sh"

KUEUE_VERSION=v0.17.0
# Bump when the way Kueue is built changes, so an old cache is not reused.
RECIPE=1
command -v jq >/dev/null || die "jq is missing; run e2e/ensure-prereqs.sh"

key=$(go_cache_key "recipe=$RECIPE version=$KUEUE_VERSION")
DEST=$CACHE_ROOT/kueue-$KUEUE_VERSION-$key
STAMP=$DEST/.complete

case "${1:-}" in
  --print-dir) echo "$DEST"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-kueue.sh [--print-dir])" ;;
esac

go_cache_lock "kueue-$key"
if go_cache_complete "$STAMP" "$DEST/bin/kueue"; then
  echo "build-kueue.sh: cached Kueue $KUEUE_VERSION is complete ($STAMP)" >&2
  echo "$DEST"
  exit 0
fi

echo "build-kueue.sh: building Kueue $KUEUE_VERSION with $(go env GOVERSION) into $DEST" >&2
start=$SECONDS
tmp=$DEST.tmp
rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/crds"
# The module's directory gives the CRDs; `go install pkg@version` builds with the module's own pins.
moddir=$(go mod download -json "sigs.k8s.io/kueue@$KUEUE_VERSION" | jq -r .Dir)
[[ -d $moddir/config/components/crd/bases ]] || die "no CRDs in $moddir/config/components/crd/bases"
cp "$moddir"/config/components/crd/bases/*.yaml "$tmp/crds/"
GOBIN=$tmp/bin GOFLAGS="-mod=mod -trimpath" go install \
  -ldflags "-s -w -X sigs.k8s.io/kueue/pkg/version.GitVersion=$KUEUE_VERSION" "sigs.k8s.io/kueue/cmd/kueue@$KUEUE_VERSION"
[[ -x $tmp/bin/kueue ]] || die "go install did not produce $tmp/bin/kueue"
"$tmp/bin/kueue" --help >/dev/null 2>&1 || die "the built kueue does not run ($tmp/bin/kueue --help)"
rm -rf "$DEST" && mv "$tmp" "$DEST"
{ echo "kueue=$KUEUE_VERSION"; echo "go=$(go env GOVERSION)"; } >"$STAMP"
echo "build-kueue.sh: built in $((SECONDS - start)) s" >&2
echo "$DEST"
