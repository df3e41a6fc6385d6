#!/usr/bin/env bash
# Compiles milan_c10d.cpp (our shim over libtorch 2.7.1: c10d's TCPStore and ProcessGroupGloo, and a few plain ops
# DJL lacks, such as scaled_dot_product_attention) into <classes dir>/linux-x86-64/libmilantorch.so, where JNA finds
# it on the classpath (io.milan.trainer.torch.MilanTorchNative);
# run by the trainer's Maven build (pom.xml, exec-maven-plugin, compile phase) like src/main/c/build.sh.
#   src/main/cpp/build.sh <classes dir> <pytorch-native-cpu jar Maven resolved>
#
# What it compiles against, and why:
#   headers  torch/include of the torch 2.7.1 wheel (the libtorch headers; DJL ships none). Downloaded once with
#            pip into ${MILAN_CACHE:-/var/cache/milan}/torch-wheel-2.7.1 (only torch/include is kept, about 52 MB):
#            PyTorch's CPU index (download.pytorch.org/whl/cpu, a 175 MB wheel) when reachable, else pip's own
#            configured index (PyPI: the 821 MB CUDA wheel, the one images/libtorch-cuda.sh uses). Headers are the
#            same in both (same source tree and version).
#   gloo     third_party/gloo: the 16 gloo headers ProcessGroupGloo.hpp includes, at the gloo commit torch 2.7.1
#            pins (see third_party/README.md); the wheel lacks them.
#   libs     libtorch_cpu.so and libc10.so from the very pytorch-native-cpu jar Maven resolved (the libtorch DJL
#            loads at run time), unpacked once into ${MILAN_CACHE}/djl-libtorch-<sha256 of the jar>. The library
#            records only their SONAMEs, so at run time the loader binds it to the copies DJL already loaded.
# A missing prerequisite fails the build with its name: the trainer must not ship without its c10d engine, so
# there is deliberately no skip.
# Needs g++, unzip, sha256sum, flock; python3 with pip only while the header cache is cold.
source "$(dirname "${BASH_SOURCE[0]}")/../../../../e2e/lib/strict.sh"
here="$(cd "$(dirname "$0")" && pwd)"
torch_version=2.7.1
(($# == 2)) || { echo "usage: build.sh <classes dir> <pytorch-native-cpu jar>" >&2; exit 2; }
classes=$1
jar=$2
out="$classes/linux-x86-64/libmilantorch.so"
srcs=("$here/milan_c10d.cpp")
mapfile -t vendored < <(find "$here/third_party" -type f -name '*.h')

die() {
  echo "src/main/cpp/build.sh (libmilantorch, c10d shim): $*" >&2
  exit 1
}

[[ $jar == *"pytorch-native-cpu-$torch_version-"*.jar ]] \
  || die "expected DJL's pytorch-native-cpu $torch_version jar as the second argument, got '$jar'"
[[ -f $jar ]] || die "the pytorch-native-cpu jar Maven resolved is missing: $jar"

up_to_date() {  # the library is newer than every source, the vendored headers, this script and the jar
  [[ -f $out ]] || return 1
  for f in "${srcs[@]}" "${vendored[@]}" "$here/build.sh" "$jar"; do [[ $out -nt $f ]] || return 1; done
}
up_to_date && exit 0

for tool in g++ unzip sha256sum flock; do
  command -v "$tool" >/dev/null \
    || die "$tool is missing (Debian packages g++, unzip, coreutils, util-linux; e2e/ensure-prereqs.sh)"
done
# The jar is DJL's libtorch 2.7.1 cpu (checked before anything is downloaded).
props=$(unzip -p "$jar" native/lib/pytorch.properties 2>/dev/null) || die "$jar has no native/lib/pytorch.properties"
grep -x "version=$torch_version-.*" <<<"$props" >/dev/null && grep -x 'flavor=cpu' <<<"$props" >/dev/null \
  || die "$jar is not libtorch $torch_version cpu: $(tr '\n' ' ' <<<"$props")"
cache_root=${MILAN_CACHE:-/var/cache/milan}
mkdir -p "$cache_root" 2>/dev/null && [[ -w $cache_root ]] \
  || die "the cache directory $cache_root is not writable (set MILAN_CACHE to one that is)"

# --- torch headers, once per version --------------------------------------------------------------------------
headers=$cache_root/torch-wheel-$torch_version
fetch_headers() {
  python3 -m pip --version >/dev/null 2>&1 \
    || die "python3 with pip is missing; it is needed once, to download the torch $torch_version wheel for its" \
      "headers into $headers (Debian package python3-pip)"
  local wheels=$headers.download
  mkdir -p "$wheels"
  # Any CPython tag has the same headers; name one so the local Python does not matter.
  local common=(download --quiet --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$wheels")
  if ! ls "$wheels"/torch-"$torch_version"*.whl >/dev/null 2>&1; then
    echo "build.sh: downloading the torch $torch_version wheel for its headers (once; cache $headers)" >&2
    python3 -m pip "${common[@]}" --retries 0 --timeout 15 --index-url https://download.pytorch.org/whl/cpu \
      "torch==$torch_version" 2>/dev/null \
      || python3 -m pip "${common[@]}" "torch==$torch_version" \
      || die "could not download torch==$torch_version with pip (from PyTorch's CPU index or pip's configured" \
        "index); needed once for its headers"
  fi
  local found=("$wheels"/torch-"$torch_version"*.whl) # a glob, not ls | head: no writer to die of SIGPIPE
  local wheel=${found[0]}
  [[ -f $wheel ]] || die "no torch $torch_version wheel in $wheels after the download"
  rm -rf "$headers.tmp" && mkdir -p "$headers.tmp"
  unzip -q "$wheel" 'torch/include/*' -d "$headers.tmp"
  [[ -f $headers.tmp/torch/include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp ]] \
    || die "$wheel has no torch/include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp"
  rm -rf "$headers" && mkdir -p "$headers"
  mv "$headers.tmp/torch/include" "$headers/include"
  printf '%s sha256=%s\n' "$(basename "$wheel")" "$(sha256sum <"$wheel" | cut -c1-64)" >"$headers/SOURCE"
  rm -rf "$headers.tmp" "$wheels"  # the wheel itself (175-821 MB) is not kept
  touch "$headers/done"
}

# --- libtorch_cpu/libc10 from DJL's jar, once per jar ----------------------------------------------------------
jar_key=$(sha256sum <"$jar" | cut -c1-16)
libtorch=$cache_root/djl-libtorch-$torch_version-cpu-$jar_key
fetch_libtorch() {
  rm -rf "$libtorch.tmp" && mkdir -p "$libtorch.tmp"
  unzip -q -j "$jar" 'pytorch/cpu/linux-x86_64/*' -d "$libtorch.tmp"
  [[ -f $libtorch.tmp/libtorch_cpu.so && -f $libtorch.tmp/libc10.so ]] \
    || die "$jar has no pytorch/cpu/linux-x86_64/libtorch_cpu.so or libc10.so"
  rm -rf "$libtorch" && mv "$libtorch.tmp" "$libtorch"
  touch "$libtorch/done"
}

(
  # Builds of other worktrees may fill the same cache at the same time.
  flock 9
  [[ -f $headers/done ]] || fetch_headers
  [[ -f $libtorch/done ]] || fetch_libtorch
) 9>"$cache_root/.milantorch-build.lock"

# libtorch 2.7.1 is built with the C++11 std::string ABI; a shim built with the other one would not link.
# (grep without -q reads all of nm's output: under pipefail an early exit would fail nm with SIGPIPE.)
nm -D --defined-only "$libtorch/libtorch_cpu.so" | grep '_ZN4c10d8TCPStoreC1ENSt7__cxx1112basic_string' >/dev/null \
  || die "$libtorch/libtorch_cpu.so does not export c10d::TCPStore::TCPStore(std::__cxx11::string, ...)" \
    "(not a C++11-ABI libtorch with distributed support?)"

mkdir -p "$(dirname "$out")"
# -isystem: warnings in torch's and gloo's headers are theirs; ours fail the build (-Werror).
# -Wl,--no-undefined: an unresolved symbol fails here, not when the trainer loads the library.
# -Wl,--as-needed + only the two SONAMEs: no rpath; at run time libtorch is DJL's, already loaded.
g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO \
  -isystem "$headers/include" -isystem "$headers/include/torch/csrc/api/include" -isystem "$here/third_party" \
  -Wall -Wextra -Werror \
  -o "$out.tmp" "${srcs[@]}" \
  -Wl,--no-undefined -Wl,--as-needed -Wl,-rpath-link,"$libtorch" -L"$libtorch" -ltorch_cpu -lc10
mv "$out.tmp" "$out"
