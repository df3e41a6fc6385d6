#!/usr/bin/env bash
# Builds e2e/kstatus (a small command that prints what kstatus, the status library of Flux, computes for an object;
# sigs.k8s.io/cli-utils pinned in e2e/kstatus/go.mod) for the operator's KstatusIT. Modules come from the Go module
# proxy; e2e/kstatus/go.sum pins them.
#
# Output: ${MILAN_CACHE:-/var/cache/milan}/kstatus-<key>/bin/kstatus, <key> a hash of the module's files, the Go
# version and this script's recipe number. A stamp file makes a rerun return in a second.
#   e2e/build-kstatus.sh               build (or reuse) it, print its path last
#   e2e/build-kstatus.sh --print-path  print that path for the current sources, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"
SCRIPT=build-kstatus.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-cache.sh"

# Bump when the way it is built changes, so an old cache is not reused.
RECIPE=1
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/kstatus" && pwd)

# The sources follow the Go version here (not go_cache_key's order), so existing caches stay valid.
key=$({ echo "recipe=$RECIPE"; go env GOVERSION GOOS GOARCH; cat "$SRC"/go.mod "$SRC"/go.sum "$SRC"/*.go; } |
  sha256sum | cut -c1-16)
DEST=$CACHE_ROOT/kstatus-$key
STAMP=$DEST/.complete

case "${1:-}" in
  --print-path) echo "$DEST/bin/kstatus"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-kstatus.sh [--print-path])" ;;
esac

go_cache_lock "kstatus-$key"
if go_cache_complete "$STAMP" "$DEST/bin/kstatus"; then
  echo "build-kstatus.sh: cached kstatus is complete ($STAMP)" >&2
  echo "$DEST/bin/kstatus"
  exit 0
fi

echo "build-kstatus.sh: building $SRC with $(go env GOVERSION) into $DEST" >&2
tmp=$DEST.tmp
rm -rf "$tmp" && mkdir -p "$tmp/bin"
(cd "$SRC" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp/bin/kstatus" .)
# A smoke test: a ConfigMap is always Current.
echo '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}' | "$tmp/bin/kstatus" - |
  grep -q '"status":"Current"' || die "the built kstatus does not report a ConfigMap as Current"
rm -rf "$DEST" && mv "$tmp" "$DEST"
{ echo "cli-utils=$(sed -n 's/^\s*sigs.k8s.io\/cli-utils \(v[^ ]*\).*/\1/p' "$SRC/go.mod")"; echo "go=$(go env GOVERSION)"; } >"$STAMP"
echo "$DEST/bin/kstatus"
