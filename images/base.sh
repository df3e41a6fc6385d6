#!/usr/bin/env bash
# Builds the local Debian bookworm base images the Dockerfiles start FROM, without any container registry:
#   milan/debian:bookworm   minimal Debian (mmdebstrap minbase)
#   milan/jre17:bookworm    the same plus Debian's openjdk-17-jre-headless
# Each root filesystem is made by mmdebstrap from the Debian mirror this machine's apt already uses, packed
# as a tarball in a version-keyed cache, and `docker import`ed. A second run reuses both the tarball and the
# image (an extra tag carries the cache key), so it takes a second or two.
# Usage: images/base.sh            (needs root and a running Docker engine: images/dockerd.sh)
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

suite=bookworm
cache=${MILAN_CACHE:-/var/cache/milan}/images/base

# Keep images small: no man pages, info or translations; keep licences (copyright files).
dpkg_opts=(
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/locale/*'
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
)

# The machine's own Debian sources for this suite and its -updates/-security companions, as apt resolved
# them; never a hard-coded mirror host.
mirror_lines() {
  apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
    awk -v s="$suite" '$2 ~ "^" s "(-updates|-security)?$" { print "deb " $1 " " $2 " " $3 }' | sort -u
}

# build_base NAME TAG PACKAGES [IMPORT-CHANGES...]
build_base() {
  local name=$1 tag=$2 packages=$3
  shift 3
  local -a changes=("$@")
  local mirrors key tarball
  mirrors=$(mirror_lines)
  if [[ -z $mirrors ]]; then
    apt-get update -q >&2 # index targets appear once apt has read its sources
    mirrors=$(mirror_lines)
  fi
  [[ -n $mirrors ]] || { echo "base.sh: apt has no '$suite' sources configured" >&2; exit 1; }
  # The key covers everything that decides the root filesystem's content: this script (recipe), the package
  # list and the mirrors.
  key=$(printf '%s\n' "$(sha256sum <"${BASH_SOURCE[0]}")" "$suite" "$packages" "$mirrors" "${changes[@]}" |
    sha256sum | cut -c1-16)
  tarball=$cache/$name-$suite-$key.tar

  if docker image inspect "$tag-$key" >/dev/null 2>&1; then
    docker tag "$tag-$key" "$tag"
    echo "base.sh: $tag is current ($key)" >&2
    return
  fi
  if [[ ! -s $tarball ]]; then
    echo "base.sh: mmdebstrap $name ($suite, key $key)" >&2
    mkdir -p "$cache"
    local -a mirror_args dpkg_args=()
    mapfile -t mirror_args <<<"$mirrors"
    for o in "${dpkg_opts[@]}"; do dpkg_args+=(--dpkgopt="$o"); done
    # Written under a temporary name so an interrupted run never leaves a truncated "cached" tarball.
    # The essential hook recreates man1: the JRE's update-alternatives links point there even when man
    # pages are excluded, and dpkg fails without the directory.
    mmdebstrap --variant=minbase --format=tar --include="$packages" "${dpkg_args[@]}" \
      --aptopt='APT::Install-Recommends "false"' \
      --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
      "$suite" "$tarball.part" "${mirror_args[@]}"
    mv "$tarball.part" "$tarball"
  fi
  local -a change_args=()
  for c in "${changes[@]}"; do change_args+=(--change "$c"); done
  docker import "${change_args[@]}" "$tarball" "$tag-$key" >/dev/null
  docker tag "$tag-$key" "$tag"
  echo "base.sh: imported $tag ($key)" >&2
  # Drop what older recipes left behind: their tarballs and key tags.
  find "$cache" -maxdepth 1 -name "$name-$suite-*.tar*" ! -name "$(basename "$tarball")" -delete
  local old
  for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "${tag%%:*}"); do
    if [[ $old == "$tag-"* && $old != "$tag-$key" ]]; then docker rmi "$old" >/dev/null; fi
  done
}

arch=$(dpkg --print-architecture)
build_base debian milan/debian:$suite "ca-certificates" \
  'ENV LANG=C.UTF-8' 'CMD ["/bin/bash"]'
build_base jre17 milan/jre17:$suite "ca-certificates,openjdk-17-jre-headless" \
  'ENV LANG=C.UTF-8' "ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$arch" 'CMD ["/bin/bash"]'
