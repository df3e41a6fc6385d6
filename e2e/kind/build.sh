#!/usr/bin/env bash
# Builds what a Kind cluster needs on a machine without any container registry (tier A of
# shared/research/offline-kind.md), from the package registries only:
#   binaries  kind v0.33.0; kubelet, kubeadm, kube-proxy (same k8s pin as e2e/build-k8s.sh, which
#             supplies kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd);
#             CoreDNS; pause (e2e/kind/pause.c, gcc -static)
#   images    milan/kind-base:<key>          Debian bookworm + Debian's systemd, containerd, runc, CNI
#                                            plugins + kind's base files (from the kind Go module)
#             registry.k8s.io/...            the control-plane images, tagged exactly as kubeadm lists them
#             kindest/node:offline-<k8s>     the node image, component images imported into its containerd
#
# Cache (outside the repository): ${MILAN_CACHE:-/var/cache/milan}/kind-<key>/bin, where <key> hashes the
# pins in e2e/tools/kind/*, pause.c, the Go version and RECIPE. Images carry a key tag
# (milan/kind-base:<key>, milan/kind-node:<key>), so an unchanged input is reused in seconds.
#
# Usage: e2e/kind/build.sh                   build or reuse everything; prints the node image last
#        e2e/kind/build.sh --print-bin-dir   print the binary directory for the current pins, build nothing
#        e2e/kind/build.sh --print-node-image
# Needs root (mmdebstrap, docker), Go 1.26, gcc, and a Docker engine (images/dockerd.sh starts one).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/strict.sh"
# The whole script is one block, so bash parses it before running: editing it mid-build is harmless.
{

# Bump when the way binaries or images are made changes, so stale caches are not reused.
RECIPE=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E=$(dirname "$HERE")
ROOT=$(dirname "$E2E")
PINS=$E2E/tools/kind
CACHE_ROOT=${MILAN_CACHE:-/var/cache/milan}

die() { echo "kind/build.sh: error: $*" >&2; exit 1; }
log() { echo "kind/build.sh: $*" >&2; }

command -v go >/dev/null || die "'go' is not on PATH; install Go 1.26 or newer"
export GOTOOLCHAIN=local CGO_ENABLED=0

mod_version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
hash_of() { sha256sum | cut -c1-16; }

bin_key=$( { echo "recipe=$RECIPE"; go env GOVERSION GOOS GOARCH; cat "$PINS"/{cli,node,coredns,storage}/go.{mod,sum} "$HERE/pause.c"; } | hash_of)
DEST=$CACHE_ROOT/kind-$bin_key
BIN=$DEST/bin
K8S=$(mod_version "$PINS/node" k8s.io/kubernetes)
NODE_IMAGE=kindest/node:offline-$K8S

case "${1:-}" in
  --print-bin-dir) echo "$BIN"; exit 0 ;;
  --print-node-image) echo "$NODE_IMAGE"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: build.sh [--print-bin-dir|--print-node-image])" ;;
esac

# The node's kubelet and the control plane must be one Kubernetes version.
CP_K8S=$(mod_version "$E2E/tools/k8s" k8s.io/kubernetes)
[[ $K8S == "$CP_K8S" ]] || die "k8s.io/kubernetes is $K8S in $PINS/node/go.mod but $CP_K8S in $E2E/tools/k8s/go.mod; pin both to one version"
[[ $K8S =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "unexpected k8s.io/kubernetes version '$K8S'"
MINOR=${BASH_REMATCH[1]}
KIND=$(mod_version "$PINS/cli" sigs.k8s.io/kind)
COREDNS=$(mod_version "$PINS/coredns" github.com/coredns/coredns)
LPP=$(mod_version "$PINS/storage" github.com/rancher/local-path-provisioner)
KIND_SRC=$(cd "$PINS/cli" && go list -m -f '{{.Dir}}' sigs.k8s.io/kind 2>/dev/null || true)

start=$SECONDS
timings=()
step_done() { timings+=("$(printf '%-28s %5ss' "$1" $((SECONDS - $2)))"); }

# ---- binaries (built after the base image, below) ------------------------------------------------

BINARIES=(kind kubelet kubeadm kube-proxy coredns local-path-provisioner pause busybox)
bins_complete() {
  [[ -f $DEST/.complete ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x $BIN/$b ]] || return 1; done
}

build_binaries() {
  command -v gcc >/dev/null || die "gcc is missing (it builds the static pause binary); run e2e/ensure-prereqs.sh"
  log "building kind $KIND, kubelet/kubeadm/kube-proxy $K8S, CoreDNS $COREDNS, pause into $BIN (cold: ~15-25 min)"
  rm -rf "$DEST.tmp"
  mkdir -p "$DEST.tmp/bin"
  local out=$DEST.tmp/bin t v="" pkg
  # -mod=readonly: exactly what go.sum pins; one Go build at a time (the machine is small).
  local gobuild=(go build -mod=readonly -trimpath -buildvcs=false)
  t=$SECONDS
  (cd "$PINS/cli" && "${gobuild[@]}" -ldflags "-s -w" -o "$out/kind" sigs.k8s.io/kind)
  step_done "kind" "$t"
  # The same version variables as e2e/build-k8s.sh, so kubeadm's skew checks see the real version.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    v+=" -X $pkg.gitVersion=$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR"
    v+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  t=$SECONDS
  (cd "$PINS/node" && "${gobuild[@]}" -ldflags "-s -w$v" -o "$out/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kube-proxy)
  step_done "kubelet kubeadm kube-proxy" "$t"
  t=$SECONDS
  (cd "$PINS/coredns" && "${gobuild[@]}" -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${COREDNS}" \
    -o "$out/coredns" github.com/coredns/coredns)
  step_done "coredns" "$t"
  t=$SECONDS
  (cd "$PINS/storage" && "${gobuild[@]}" -ldflags "-s -w -X main.VERSION=${LPP}" \
    -o "$out/local-path-provisioner" github.com/rancher/local-path-provisioner)
  step_done "local-path-provisioner" "$t"
  gcc -Os -static -s -o "$out/pause" "$HERE/pause.c"
  # The storage helper pod's shell (mkdir/rm of volume directories): Debian's static busybox.
  local deb
  deb=$(mktemp -d)
  chmod 0777 "$deb" # apt downloads as its _apt user
  (cd "$deb" && apt-get download busybox-static >/dev/null) || die "apt-get download busybox-static failed"
  dpkg-deb -x "$deb"/busybox-static_*.deb "$deb/x"
  install -m0755 "$deb/x/bin/busybox" "$out/busybox"
  rm -rf "$deb"

  # The binaries must run and report the pinned versions before the cache counts as complete.
  local got
  got=$("$out/kind" version); [[ $got == "kind $KIND "* ]] || die "kind reports '$got', expected $KIND"
  got=$("$out/kubeadm" version -o short); [[ $got == "$K8S" ]] || die "kubeadm reports '$got', expected $K8S"
  got=$("$out/kubelet" --version); [[ $got == "Kubernetes $K8S" ]] || die "kubelet reports '$got', expected $K8S"
  got=$("$out/kube-proxy" --version); [[ $got == "Kubernetes $K8S" ]] || die "kube-proxy reports '$got', expected $K8S"
  got=$("$out/coredns" -version); [[ $got == *"CoreDNS-${COREDNS#v}"* ]] || die "coredns reports '$got', expected $COREDNS"
  got=$("$out/local-path-provisioner" --version); [[ $got == *"$LPP"* ]] || die "local-path-provisioner reports '$got', expected $LPP"
  "$out/busybox" true || die "busybox does not run"
  rm -rf "$DEST"
  mv "$DEST.tmp" "$DEST"
  printf '%s\n' "kind=$KIND" "kubernetes=$K8S" "coredns=$COREDNS" "local-path-provisioner=$LPP" "go=$(go env GOVERSION)" >"$DEST/.complete"
}

# One build per machine at a time (two CI jobs must not write the same cache or tags).
mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT; set MILAN_CACHE to a writable directory"
exec 9>"$CACHE_ROOT/kind-build.lock"
flock 9
[[ -z $KIND_SRC ]] && KIND_SRC=$(cd "$PINS/cli" && go mod download -json sigs.k8s.io/kind | jq -r .Dir)
FILES=$KIND_SRC/images/base/files
[[ -d $FILES ]] || die "kind's base files are missing from the module cache ($FILES)"

# ---- the node base image ---------------------------------------------------------------------------

"$ROOT/images/dockerd.sh"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing; run e2e/ensure-prereqs.sh"
command -v jq >/dev/null || die "jq is missing; run e2e/ensure-prereqs.sh"

# kind's node base (images/base/Dockerfile) rebuilt from bookworm, whose systemd 252 / containerd 1.6
# still run on cgroup v1 hosts like these VMs.
BASE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,e2fsprogs,bash,ca-certificates,jq,procps,containerd,runc,containernetworking-plugins

# The machine's own bookworm sources as apt resolved them (never a hard-coded mirror), as images/base.sh.
mirror_lines() {
  apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
    awk '$2 ~ /^bookworm(-updates|-security)?$/ { print "deb " $1 " " $2 " " $3 }' | sort -u
}
mirrors=$(mirror_lines)
if [[ -z $mirrors ]]; then apt-get update -q >&2; mirrors=$(mirror_lines); fi
[[ -n $mirrors ]] || die "apt has no bookworm sources configured"

base_key=$( { echo "recipe=$RECIPE"; echo "$BASE_PACKAGES"; echo "$mirrors"; echo "kind=$KIND";
              sed -n '/^build_base_rootfs()/,/^}/p' "${BASH_SOURCE[0]}"; } | hash_of)
BASE_IMAGE=milan/kind-base:$base_key

# Customizes a fresh rootfs the way kind's base Dockerfile does, plus what these hosts need.
build_base_rootfs() {
  local r=$1
  install -m0755 "$FILES"/usr/local/bin/* "$r/usr/local/bin/"
  mkdir -p "$r/kind"
  cp -r "$FILES/kind/." "$r/kind/"
  chmod -R u+w "$r/kind"
  chmod 0755 "$r/kind" "$r/kind/bin" "$r"/kind/bin/*
  install -m0644 "$FILES/etc/crictl.yaml" "$r/etc/"
  install -D -m0644 "$FILES/etc/containerd/config.toml" "$r/etc/containerd/config.toml"
  install -m0644 "$FILES/etc/default/kubelet" "$r/etc/default/"
  install -m0644 "$FILES"/etc/sysctl.d/* "$r/etc/sysctl.d/"
  install -m0644 "$FILES"/etc/systemd/system/*.service "$FILES"/etc/systemd/system/*.slice "$r/etc/systemd/system/"
  install -D -m0644 -t "$r/etc/systemd/system/kubelet.service.d" "$FILES"/etc/systemd/system/kubelet.service.d/*
  # The Dockerfile's post-install steps: only the units kind wants, journald without /dev/kmsg.
  find "$r/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
    "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
    "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
  echo ReadKMsg=no >>"$r/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "$r/sbin/init"
  systemctl --root="$r" enable kubelet.service containerd.service undo-mount-hacks.service
  systemctl --root="$r" mask systemd-binfmt.service
  mkdir -p "$r/etc/kubernetes/manifests"
  sed -i -re 's#^(hosts:\s*).*#\1dns files#' "$r/etc/nsswitch.conf"
  # Debian paths: kind's unit starts /usr/local/bin/containerd; kind's CNI lives in /opt/cni/bin.
  ln -sf /usr/bin/containerd "$r/usr/local/bin/containerd"
  mkdir -p "$r/opt/cni/bin"
  local p
  for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$r/opt/cni/bin/$p"; done
  # These VMs lack CAP_SYS_RESOURCE: containerd must not try to lower a container's oom_score_adj below its own.
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$r/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$r/etc/containerd/config.toml" ||
    die "kind's containerd config changed: restrict_oom_score_adj could not be set"
  # Base OCI spec for pod containers, as kind makes it: product_uuid hook, no rlimits.
  chroot "$r" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$r/etc/containerd/cri-base.json"
  # Pod network: no CNI config here; e2e/kind/cluster.sh writes each node's own (its podCIDR) once the node has
  # registered, kindnet's way (kind's kindnetd image is not on the Go module proxy).
  mkdir -p "$r/etc/cni/net.d"
}

build_base() {
  local t=$SECONDS r=$CACHE_ROOT/kind-rootfs.tmp
  log "assembling the node base image $BASE_IMAGE (mmdebstrap bookworm; 2-5 min)"
  rm -rf "$r"
  local -a mirror_args
  mapfile -t mirror_args <<<"$mirrors"
  mmdebstrap --variant=minbase --include="$BASE_PACKAGES" --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$r" "${mirror_args[@]}" >&2
  build_base_rootfs "$r"
  tar --numeric-owner -C "$r" -c . | docker import -c 'ENV container=docker' \
    -c 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$r"
  step_done "base image" "$t"
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
have_image "$BASE_IMAGE" || build_base

if bins_complete; then
  log "binaries for key $bin_key are cached ($BIN)"
else
  t0=$SECONDS
  build_binaries
  step_done "binaries (total)" "$t0"
fi
CP_BIN=$("$E2E/build-k8s.sh" | tail -1)

# Component images, named exactly as kubeadm lists them for this version.
LIST=$("$BIN/kubeadm" config images list --kubernetes-version "$K8S")
img() { grep "/$1:" <<<"$LIST" || die "kubeadm lists no $1 image: $LIST"; }
# kind's containerd sandbox image (pause:3.10), which differs from kubeadm's pause tag.
SANDBOX=$(sed -n 's/^[[:space:]]*sandbox_image = "\(.*\)"/\1/p' "$FILES/etc/containerd/config.toml")
[[ -n $SANDBOX ]] || die "no sandbox_image in kind's containerd config"

# kind's default StorageClass "standard" (rancher.io/local-path), with the image names kind's manifest uses.
STORAGE_GO=$KIND_SRC/pkg/build/nodeimage/const_storage.go
storage_const() { sed -n "s/^const $1 = \"\(.*\)\"/\1/p" "$STORAGE_GO"; }
LPP_IMAGE=$(storage_const storageProvisionerImage)
HELPER_IMAGE=$(storage_const storageHelperImage)
[[ -n $LPP_IMAGE && -n $HELPER_IMAGE ]] || die "cannot read the storage image names from $STORAGE_GO"
# kind's manifest, as `kind build node-image` writes it to /kind/manifests/default-storage.yaml.
storage_manifest() {
  sed -n '/^const defaultStorageManifest = `$/,/^`$/p' "$STORAGE_GO" | sed '1d;$d' |
    sed "s#\` + storageProvisionerImage + \`#$LPP_IMAGE#; s#\` + storageHelperImage + \`#$HELPER_IMAGE#"
}
STORAGE_MANIFEST=$(storage_manifest)
[[ $STORAGE_MANIFEST == *"image: $LPP_IMAGE"* ]] || die "cannot extract kind's storage manifest from $STORAGE_GO"
IMAGES=$(printf '%s\n' "$LIST" "$SANDBOX" "$LPP_IMAGE" "$HELPER_IMAGE")

node_key=$( { echo "recipe=$RECIPE"; echo "$base_key $bin_key $CP_BIN"; cat "$CP_BIN/../.complete";
              sed -n '/^build_components()/,/^}/p;/^build_node()/,/^}/p' "${BASH_SOURCE[0]}"; } | hash_of)
NODE_KEY_TAG=milan/kind-node:$node_key

# skel: a minimal root (passwd, tmp, hosts) for images that hold one static binary.
skel() {
  local d
  d=$(mktemp -d)
  mkdir -p "$d/etc" "$d/tmp" "$d/usr/local/bin" "$d/run" "$d/var"
  chmod 1777 "$d/tmp"
  ln -s ../run "$d/var/run"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534::/:/sbin/nologin\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  printf '127.0.0.1 localhost\n' >"$d/etc/hosts"
  echo 'hosts: files dns' >"$d/etc/nsswitch.conf"
  echo "$d"
}

build_components() {
  local t=$SECONDS name bin d c
  for name in kube-apiserver kube-controller-manager kube-scheduler etcd coredns pause; do
    case $name in
      kube-apiserver | kube-controller-manager | kube-scheduler | etcd) bin=$CP_BIN/$name ;;
      *) bin=$BIN/$name ;;
    esac
    d=$(skel)
    cp "$bin" "$d/usr/local/bin/"
    # kubeadm's static pods call the command by name (PATH); CoreDNS and pause rely on ENTRYPOINT.
    tar --numeric-owner -C "$d" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      -c "ENTRYPOINT [\"/usr/local/bin/$name\"]" - "$(img "$name")" >/dev/null
    rm -rf "$d"
  done
  docker tag "$(img pause)" "$SANDBOX"
  d=$(skel)
  cp "$BIN/local-path-provisioner" "$d/usr/local/bin/"
  tar --numeric-owner -C "$d" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'ENTRYPOINT ["/usr/local/bin/local-path-provisioner"]' - "$LPP_IMAGE" >/dev/null
  rm -rf "$d"
  # The helper pod runs the setup/teardown shell scripts of the storage ConfigMap (mkdir, rm).
  d=$(skel)
  mkdir -p "$d/bin"
  cp "$BIN/busybox" "$d/bin/busybox"
  for b in sh mkdir rm rmdir ls cat chmod; do ln -s busybox "$d/bin/$b"; done
  tar --numeric-owner -C "$d" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$HELPER_IMAGE" >/dev/null
  rm -rf "$d"
  # kube-proxy needs iptables/nftables userspace: it goes on the node base.
  c=$(docker create "$BASE_IMAGE")
  docker cp "$BIN/kube-proxy" "$c:/usr/local/bin/kube-proxy"
  docker commit -c 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]' "$c" "$(img kube-proxy)" >/dev/null
  docker rm "$c" >/dev/null
  step_done "component images" "$t"
}

# kind's `build node-image` without pulls and without `ctr import --label` (containerd 1.6 lacks it).
build_node() {
  local t=$SECONDS c b
  c=$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$BASE_IMAGE" infinity)
  for b in kubeadm kubelet; do docker cp "$BIN/$b" "$c:/usr/bin/$b"; done
  docker cp "$CP_BIN/kubectl" "$c:/usr/bin/kubectl"
  docker exec "$c" sh -c "mkdir -p /kind/manifests && printf %s '$K8S' >/kind/version"
  docker exec -i "$c" sh -c 'cat >/kind/manifests/default-storage.yaml' <<<"$STORAGE_MANIFEST"
  docker exec "$c" sh -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  docker exec "$c" sh -c 'for i in $(seq 30); do [ -S /run/containerd/containerd.sock ] && exit 0; sleep 1; done; cat /tmp/containerd.log; exit 1' ||
    die "containerd did not start in the node build container"
  # shellcheck disable=SC2046
  docker save $IMAGES | docker exec -i "$c" ctr -n k8s.io images import --all-platforms --no-unpack --digests - >/dev/null
  local want got
  want=$(sed 's#^docker.io/##' <<<"$IMAGES" | sort -u)
  got=$(docker exec "$c" ctr -n k8s.io images ls -q | grep -v '^sha256:' | sed 's#^docker.io/##' | sort -u)
  [[ $(comm -23 <(echo "$want") <(echo "$got")) == "" ]] ||
    die "images missing in the node's containerd: $(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')"
  docker exec "$c" sh -c 'kill $(pidof containerd); while pidof containerd >/dev/null; do sleep 1; done; rm -f /tmp/containerd.log'
  docker commit -c 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' "$c" "$NODE_KEY_TAG" >/dev/null
  docker rm -f "$c" >/dev/null
  step_done "node image" "$t"
}

if have_image "$NODE_KEY_TAG"; then
  log "node image for key $node_key is current"
else
  build_components
  build_node
fi
docker tag "$NODE_KEY_TAG" "$NODE_IMAGE"

if ((${#timings[@]})); then
  log "timings:"
  printf '  %s\n' "${timings[@]}" >&2
fi
log "done in $((SECONDS - start)) s: $NODE_IMAGE ($(($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE") / 1000000)) MB)"
echo "$NODE_IMAGE"
exit 0
}
