#!/usr/bin/env bash
# Makes a machine ready for the tests: the Debian packages that e2e/local-cluster.sh and the trainer
# need, then the local cluster's binaries (e2e/build-k8s.sh; cached, seconds when warm).
# Idempotent: when every tool is present, no package manager runs.
set -euo pipefail

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "ensure-prereqs.sh: error: $*" >&2; exit 1; }

# command -> Debian package that provides it
declare -A PACKAGES=(
  [openssl]=openssl        # cluster certificates
  [curl]=curl              # scheduler health check
  [ss]=iproute2            # free-port check
  [setsid]=util-linux      # detach the cluster's processes
  [flock]=util-linux       # one build per cache key at a time
  [sha256sum]=coreutils    # cache key
  [base64]=coreutils       # certificates embedded in kubeconfigs
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${PACKAGES[$cmd]}")
done
# library -> package: the trainer decodes JPEGs with the system's SIMD libjpeg-turbo (TurboJpegTest checks it)
ldconfig -p | grep -q 'libturbojpeg\.so\.0 ' || missing+=(libturbojpeg0)
# the trainer's build compiles its JPEG region decoder (trainer-image/src/main/c) against libjpeg-turbo
command -v gcc >/dev/null || missing+=(gcc)
[[ -f /usr/include/jpeglib.h ]] || missing+=(libjpeg62-turbo-dev)
if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them; install them by hand"
  ((EUID == 0)) || die "missing packages (${missing[*]}); run this script as root or: sudo apt-get install ${missing[*]}"
  echo "ensure-prereqs.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || die "Go is not installed; the local cluster is built from Go modules (Go 1.26 or newer)"

"$E2E/build-k8s.sh" >/dev/null
