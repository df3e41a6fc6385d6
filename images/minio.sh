#!/usr/bin/env bash
# Builds milan/minio:<key>, the S3-compatible server the Kind end-to-end tests run in the cluster
# (e2e/kind/cluster.sh object-store), the way the other images are made, without any registry: the local Debian
# base (images/base.sh), MinIO built from its Go module (e2e/build-minio.sh, cached under
# ${MILAN_CACHE:-/var/cache/milan}) and images/minio/Dockerfile. <key> hashes the binary's cache directory (MinIO's
# version, the Go version, that script's recipe), the Dockerfile and the base image, so a rerun with the same inputs
# finds the image and returns in seconds. Nothing else builds it: ./demo.sh and the default images/build.sh never
# pay for it.
# Usage: images/minio.sh     build or reuse the image; prints its tag last
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Debian's docker.io has no buildx (images/build.sh says why).
export DOCKER_BUILDKIT=0

images/dockerd.sh >&2
images/base.sh >&2
bin=$(e2e/build-minio.sh | tail -n 1)
[[ -x $bin ]] || { echo "minio.sh: e2e/build-minio.sh printed no binary ('$bin')" >&2; exit 1; }
version=$(sed -n 's/^minio=//p' "$(dirname "$(dirname "$bin")")/.complete")
key=$( { echo "$bin"; cat images/minio/Dockerfile; docker image inspect -f '{{.Id}}' milan/debian:bookworm; } |
  sha256sum | cut -c1-16)
tag=milan/minio:$key

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "minio.sh: $tag is current (MinIO $version)" >&2
else
  echo "minio.sh: building $tag (MinIO $version)" >&2
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp images/minio/Dockerfile "$ctx/"
  # A copy, not a link: the classic builder sends the context's files, and the cache must stay untouched.
  cp "$bin" "$ctx/minio"
  docker build --force-rm --build-arg MINIO_VERSION="$version" -t "$tag" "$ctx" >&2
  # The image must start as Kubernetes will run it (restricted: non-root, no capabilities, read-only root).
  got=$(docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges "$tag" --version 2>&1 || true)
  got=${got%%$'\n'*} # its first line
  [[ $got == "minio version "* ]] || { docker rmi "$tag" >/dev/null; echo "minio.sh: $tag does not run: $got" >&2; exit 1; }
  # Older keys' images are dead weight on the nodes' loads and in Docker.
  for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' milan/minio); do
    if [[ $old != "$tag" ]]; then docker rmi "$old" >/dev/null || true; fi
  done
fi
echo "$tag"
