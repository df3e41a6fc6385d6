#!/usr/bin/env bash
# Builds the local test cluster's binaries from the Go modules pinned in e2e/tools/*/go.mod:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok.
#
# Output: ${MILAN_CACHE:-/var/cache/milan}/k8s-<key>/bin, where <key> is a hash of the pinned
# go.mod/go.sum files, the Go version and this script's recipe number. Nothing is written into
# the repository. A stamp file makes a rerun with the same key return in seconds.
#
# Usage: e2e/build-k8s.sh               build (or reuse) the binaries, print the bin directory last
#        e2e/build-k8s.sh --print-bin-dir  print the bin directory for the current pins, build nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

# Bump when the way binaries are built changes (flags, package list), so old caches are not reused.
RECIPE=1

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$E2E/tools
CACHE_ROOT=${MILAN_CACHE:-/var/cache/milan}

die() { echo "build-k8s.sh: $*" >&2; exit 1; }

command -v go >/dev/null || die "'go' is not on PATH; install Go (1.26 or newer, see e2e/tools/*/go.mod) and retry."
command -v sha256sum >/dev/null || die "'sha256sum' is missing; install coreutils."
# Use the machine's Go as is: the pins must not trigger a toolchain download.
export GOTOOLCHAIN=local CGO_ENABLED=0

# The pins need at least the newest `go` directive among them; say so before a long build fails.
need=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$TOOLS"/{k8s,etcd,kwok}/go.mod | sort -V | tail -1)
have=$(go env GOVERSION | sed 's/^go//')
[[ $(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1) == "$need" ]] \
  || die "Go $have is too old: the modules in $TOOLS need Go $need or newer"

key=$( { echo "recipe=$RECIPE"; go env GOVERSION GOOS GOARCH; cat "$TOOLS"/{k8s,etcd,kwok}/go.{mod,sum}; } \
        | sha256sum | cut -c1-16)
DEST=$CACHE_ROOT/k8s-$key
BIN=$DEST/bin
STAMP=$DEST/.complete
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

case "${1:-}" in
  --print-bin-dir) echo "$BIN"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build-k8s.sh [--print-bin-dir])" ;;
esac

is_complete() {
  [[ -f $STAMP ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x $BIN/$b ]] || return 1; done
}

mkdir -p "$CACHE_ROOT" || die "cannot create cache directory $CACHE_ROOT; set MILAN_CACHE to a writable path."
# Two concurrent runs (e.g. two CI jobs) must not build into the same directory at once.
exec 9>"$CACHE_ROOT/k8s-$key.lock"
flock 9

if is_complete; then
  echo "build-k8s.sh: cached binaries for key $key are complete (stamp $STAMP)" >&2
  echo "$BIN"
  exit 0
fi

# Read the versions from the pins, so go.mod stays the single place where they are set.
mod_version() { (cd "$TOOLS/$1" && go list -m -f '{{.Version}}' "$2"); }
K8S=$(mod_version k8s k8s.io/kubernetes)
ETCD=$(mod_version etcd go.etcd.io/etcd/server/v3)
KWOK=$(mod_version kwok sigs.k8s.io/kwok)
[[ $K8S =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "unexpected k8s.io/kubernetes version '$K8S' in $TOOLS/k8s/go.mod"
MINOR=${BASH_REMATCH[1]}

echo "build-k8s.sh: building Kubernetes $K8S, etcd $ETCD, kwok $KWOK with $(go env GOVERSION) into $BIN" >&2
start=$SECONDS
rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp/bin"
OUT=$DEST.tmp/bin

# Kubernetes reads its version from these variables; the release build sets them the same way.
# Without them the binaries report v0.0.0-master to clients.
V=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  V+=" -X $pkg.gitVersion=$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR"
  V+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
# -mod=readonly: build exactly what go.sum pins; a missing checksum is an error, not a silent update.
GOBUILD=(go build -mod=readonly -trimpath -buildvcs=false)

(cd "$TOOLS/k8s" && "${GOBUILD[@]}" -ldflags "-s -w$V" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
echo "build-k8s.sh: Kubernetes done after $((SECONDS - start)) s" >&2
(cd "$TOOLS/etcd" && "${GOBUILD[@]}" -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3)
echo "build-k8s.sh: etcd done after $((SECONDS - start)) s" >&2
(cd "$TOOLS/kwok" && "${GOBUILD[@]}" -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK#v}" \
    -o "$OUT/kwok" sigs.k8s.io/kwok/cmd/kwok)

# Check that the binaries run and report the pinned versions before declaring the cache complete.
got=$("$OUT/kube-apiserver" --version)
[[ $got == "Kubernetes $K8S" ]] || die "kube-apiserver reports '$got', expected 'Kubernetes $K8S'"
got=$("$OUT/kubectl" version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1)
[[ $got == "$K8S" ]] || die "kubectl reports '$got', expected '$K8S'"
# Capture first: `grep -q` closing the pipe early would fail the pipeline under pipefail.
got=$("$OUT/etcd" --version)
[[ $got == *"etcd Version: ${ETCD#v}"* ]] || die "etcd reports '$got', expected version ${ETCD#v}"
got=$("$OUT/kwok" --version)
[[ $got == *"${KWOK#v}"* ]] || die "kwok reports '$got', expected version ${KWOK#v}"

rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
{ echo "kubernetes=$K8S"; echo "etcd=$ETCD"; echo "kwok=$KWOK"; echo "go=$(go env GOVERSION)"; } >"$STAMP"
echo "build-k8s.sh: built in $((SECONDS - start)) s (no complete cache for key $key before)" >&2
echo "$BIN"
