#!/usr/bin/env bash
# The one prerequisites step: ./demo.sh and ./run-tests.sh run it before anything else. It installs every Debian
# package that a script they reach calls (the tables below), starts a Docker engine, and builds the Go-built tools
# into the cache (the local cluster's Kubernetes binaries, Kueue, helm). Idempotent: when everything is present, no
# package manager runs and the builds are cache hits (seconds).
#   e2e/ensure-prereqs.sh               install and build what is missing
#   e2e/ensure-prereqs.sh --list-tools  the commands this step provides or checks, one per line
#   e2e/ensure-prereqs.sh --packages    the Debian packages it installs, one per line
# e2e/check-prereqs.sh (run by ./run-tests.sh) fails when a script asks for a command that is not listed here.
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$E2E")
die() { echo "ensure-prereqs.sh: error: $*" >&2; exit 1; }

# command  Debian package  who needs it
TOOLS="
openssl      openssl          local-cluster.sh: cluster certificates
curl         curl             local-cluster.sh: scheduler health check
ss           iproute2         local-cluster.sh: free-port check
setsid       util-linux       detached cluster processes and dockerd
flock        util-linux       one build per cache key at a time
unshare      util-linux       local-cluster.sh --kueue: Kueue's private mount namespace
mount        mount            local-cluster.sh --kueue: the overlay that gives Kueue its metrics certificate
sha256sum    coreutils        cache keys
base64       coreutils        certificates embedded in kubeconfigs
gcc          gcc              the trainer's JPEG shim; kind/build.sh's static pause binary
g++          g++              the trainer's c10d shim (trainer-image/src/main/cpp)
jq           jq               demo.sh, kind/build.sh, build-helm.sh, charts/test.sh
yq           yq               charts/test.sh
lua5.1       lua5.1           charts/test.sh: the Argo CD health checks
unzip        unzip            images/build.sh: the trainer jar's manifest, CUDA wheels
mmdebstrap   mmdebstrap       images/base.sh, kind/build.sh: Debian root filesystems for the images
dockerd      docker.io        images and Kind nodes (images/dockerd.sh starts it)
docker       docker.io        images and Kind nodes
iperf3       iperf3           trainer-image/bench/c10d-allreduce.sh: the network's own figure
"
# What a command check cannot see: files and installed packages.  test  Debian package  who needs it
FILES="
/usr/include/jpeglib.h                  libjpeg62-turbo-dev    the trainer's JPEG shim (Maven build)
lib:libturbojpeg.so.0                   libturbojpeg0          the trainer's JPEG decoder (TurboJpegTest)
libc:libc.a                             libc6-dev              gcc -static (kind's pause binary)
pkg:dataset-fashion-mnist               dataset-fashion-mnist  the trainer's tests, the teacher, the demo
pip:                                    python3-pip            the c10d shim's build: the torch wheel's headers, once
"
# Not installed here (the machine provides them); checked so a missing one is named before a long build fails.
REQUIRED="go java jcmd jar apt-get dpkg"

tools() { awk 'NF { print $1 }' <<<"$TOOLS"; }
packages() { awk 'NF { print $2 }' <<<"$TOOLS$FILES" | sort -u; }

case "${1:-}" in
  --list-tools) { tools; tr ' ' '\n' <<<"$REQUIRED"; } | sort -u; exit 0 ;;
  --packages) packages; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: ensure-prereqs.sh [--list-tools|--packages])" ;;
esac

for cmd in $REQUIRED; do
  command -v "$cmd" >/dev/null || die "'$cmd' is not installed; this project needs a Debian machine with Go 1.26 and a Java 17 JDK"
done

missing=()
while read -r cmd package _; do
  if [[ -n $cmd ]] && ! command -v "$cmd" >/dev/null; then missing+=("$package"); fi
done <<<"$TOOLS"
libraries=$(ldconfig -p)
libc_dir=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
while read -r test package _; do
  case $test in
    "") continue ;;
    lib:*) [[ $libraries == *"${test#lib:} "* ]] ;;
    libc:*) [[ -f $libc_dir/${test#libc:} ]] ;;
    pkg:*) dpkg -s "${test#pkg:}" >/dev/null 2>&1 ;;
    pip:) python3 -m pip --version >/dev/null 2>&1 ;;
    *) [[ -e $test ]] ;;
  esac || missing+=("$package")
done <<<"$FILES"

if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  ((EUID == 0)) || die "missing packages (${missing[*]}); run this script as root or: sudo apt-get install ${missing[*]}"
  echo "ensure-prereqs.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed; check the machine's Debian sources (/etc/apt/sources.list*)"
  # policy-rc.d may refuse to start docker's service: expected without systemd; images/dockerd.sh starts it.
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed (see above)"
  for cmd in $(tools); do
    command -v "$cmd" >/dev/null || die "'$cmd' is still missing after installing ${missing[*]}"
  done
fi

"$ROOT/images/dockerd.sh"
"$E2E/build-k8s.sh" >/dev/null
"$E2E/build-helm.sh" >/dev/null
