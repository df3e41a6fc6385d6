#!/usr/bin/env bash
# Builds MinIO, an S3-compatible object server, from its Go module (github.com/minio/minio on the Go module proxy;
# MinIO publishes no semver tags, so the module resolves as a pseudo-version) for the trainer's object storage
# tests (trainer-image's S3 tests start it on loopback with a temporary data directory). The module's own
# go.mod/go.sum pin its dependencies.
#
# Output: ${MILAN_CACHE:-/var/cache/milan}/minio-<key>/bin/minio, <key> a hash of the version, the Go version and
# this script's recipe number. A stamp file makes a rerun return in a second.
#   e2e/build-minio.sh                 build (or reuse) MinIO, print the binary's path last
#   e2e/build-minio.sh --print-path    print that path for the pinned version, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"
SCRIPT=build-minio.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-cache.sh"

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# Bump when the way MinIO is built changes, so an old cache is not reused.
RECIPE=1

key=$(go_cache_key "recipe=$RECIPE version=$MINIO_VERSION")
DEST=$CACHE_ROOT/minio-$key
STAMP=$DEST/.complete

case "${1:-}" in
  --print-path) echo "$DEST/bin/minio"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-minio.sh [--print-path])" ;;
esac

go_cache_lock "minio-$key"
if go_cache_complete "$STAMP" "$DEST/bin/minio"; then
  echo "build-minio.sh: cached MinIO $MINIO_VERSION is complete ($STAMP)" >&2
  echo "$DEST/bin/minio"
  exit 0
fi

echo "build-minio.sh: building MinIO $MINIO_VERSION with $(go env GOVERSION) into $DEST (about 15 min on 2 cores)" >&2
start=$SECONDS
tmp=$DEST.tmp
rm -rf "$tmp" && mkdir -p "$tmp/bin"
GOBIN=$tmp/bin GOFLAGS="-mod=mod -trimpath" go install -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
[[ -x $tmp/bin/minio ]] || die "go install did not produce $tmp/bin/minio"
"$tmp/bin/minio" --version >/dev/null 2>&1 || die "the built minio does not run ($tmp/bin/minio --version)"
rm -rf "$DEST" && mv "$tmp" "$DEST"
{ echo "minio=$MINIO_VERSION"; echo "go=$(go env GOVERSION)"; } >"$STAMP"
echo "build-minio.sh: built in $((SECONDS - start)) s" >&2
echo "$DEST/bin/minio"
