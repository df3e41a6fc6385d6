#!/usr/bin/env bash
# Compiles milan_c10d_nccl.cpp (ProcessGroupNCCL for libmilantorch) into <out dir>/linux-x86-64/libmilantorch_cuda.so,
# for the CUDA image only: the CPU image and CI never build it (the trainer's Maven build runs build.sh alone).
#   src/main/cpp/build-cuda.sh <out dir> <libtorch lib dir>
# <libtorch lib dir>: the CUDA libtorch the image runs, with libtorch_cuda.so, libc10_cuda.so, libtorch_cpu.so and
# libc10.so (images/libtorch-cuda.sh assembles it in trainer-image/target/libtorch/lib). Put the output on the
# trainer's classpath (e.g. into a jar, or a directory on -cp) as linux-x86-64/libmilantorch_cuda.so: Java finds it
# there (MilanTorchNative.cudaLibraryPath). Do not put it under PYTORCH_LIBRARY_PATH: DJL System.load()s every library
# there at start, before libtorch_cuda.so is in place.
#
# Headers: torch's from the cache build.sh fills (run the trainer's Maven build first); CUDA's and NCCL's from the
# nvidia-* wheels at the versions PyPI's torch 2.7.1 (cu126) pins in its METADATA, downloaded once with pip into
# ${MILAN_CACHE:-/var/cache/milan}/torch-cuda-headers-2.7.1-cu126 (only include/ is kept). No CUDA toolkit and no
# GPU are needed to build. The NCCL headers must be those of the NCCL libtorch_cuda.so was built with:
# ProcessGroupNCCL::Options' layout depends on them. These pins fit PyPI's torch 2.7.1 wheel (images/libtorch-cuda.sh
# without LIBTORCH_ZIP); for PyTorch's own cu128 libtorch zip, change them to that build's CUDA 12.8 and NCCL.
source "$(dirname "${BASH_SOURCE[0]}")/../../../../e2e/lib/strict.sh"
here="$(cd "$(dirname "$0")" && pwd)"
torch_version=2.7.1
flavor=cu126
# From torch-2.7.1's METADATA (Requires-Dist), plus nvcc's crt/ and CCCL's nv/ headers at the runtime's version.
wheels=(nvidia-cuda-runtime-cu12==12.6.77 nvidia-nccl-cu12==2.26.2 nvidia-cublas-cu12==12.6.4.1
  nvidia-cusparse-cu12==12.5.4.2 nvidia-cusolver-cu12==11.7.1.2 nvidia-cuda-nvcc-cu12==12.6.77
  nvidia-cuda-cccl-cu12==12.6.77)
(($# == 2)) || { echo "usage: build-cuda.sh <out dir> <libtorch lib dir>" >&2; exit 2; }
out="$1/linux-x86-64/libmilantorch_cuda.so"
libtorch=$2

die() {
  echo "src/main/cpp/build-cuda.sh (libmilantorch_cuda, ProcessGroupNCCL): $*" >&2
  exit 1
}

for lib in libtorch_cuda.so libc10_cuda.so libtorch_cpu.so libc10.so; do
  [[ -f $libtorch/$lib ]] \
    || die "$libtorch/$lib is missing (a CUDA libtorch $torch_version, e.g. images/libtorch-cuda.sh)"
done
# images/libtorch-cuda.sh writes the flavor next to lib/; the header pins above are cu126's.
if [[ -f $libtorch/../FLAVOR && $(cat "$libtorch/../FLAVOR") != "$flavor" ]]; then
  die "$libtorch is libtorch $torch_version+$(cat "$libtorch/../FLAVOR"), but the CUDA and NCCL header pins here" \
    "are those of $torch_version+$flavor (PyPI's wheel: images/libtorch-cuda.sh without LIBTORCH_ZIP); the NCCL" \
    "headers must match the NCCL libtorch_cuda.so was built with, so change the pins for that build first"
fi
for tool in g++ unzip flock; do command -v "$tool" >/dev/null || die "$tool is missing"; done
cache_root=${MILAN_CACHE:-/var/cache/milan}
torch_include=$cache_root/torch-wheel-$torch_version/include
[[ -d $torch_include ]] || die "$torch_include is missing; the trainer's Maven build (src/main/cpp/build.sh) fills it"
cuda=$cache_root/torch-cuda-headers-$torch_version-$flavor

fetch_cuda_headers() {
  python3 -m pip --version >/dev/null 2>&1 || die "python3 with pip is missing (needed once, for the CUDA headers)"
  local dl=$cuda.download
  mkdir -p "$dl"
  echo "build-cuda.sh: downloading the CUDA and NCCL headers' wheels (once; cache $cuda)" >&2
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$dl" "${wheels[@]}" \
    || die "could not download ${wheels[*]} with pip"
  rm -rf "$cuda.tmp" && mkdir -p "$cuda.tmp/include"
  for w in "$dl"/nvidia_*.whl; do
    unzip -q -o "$w" 'nvidia/*/include/*' -d "$cuda.tmp/x"
  done
  for d in "$cuda.tmp"/x/nvidia/*/include; do cp -r "$d/." "$cuda.tmp/include/"; done
  for h in nccl.h cuda.h cuda_runtime_api.h cublas_v2.h cusparse.h cusolverDn.h crt/host_config.h nv/target; do
    [[ -e $cuda.tmp/include/$h ]] || die "no $h in ${wheels[*]}"
  done
  rm -rf "$cuda" && mkdir -p "$cuda"
  mv "$cuda.tmp/include" "$cuda/include"
  printf '%s\n' "${wheels[@]}" >"$cuda/SOURCE"
  rm -rf "$cuda.tmp" "$dl"  # about 1 GB of wheels (cuBLAS's libraries); the headers are what is kept
  touch "$cuda/done"
}
(
  flock 9
  [[ -f $cuda/done ]] || fetch_cuda_headers
) 9>"$cache_root/.milantorch-build.lock"

# libtorch_cuda.so's own dependencies (cuBLAS, NCCL, ...) sit in ../cuda in images/libtorch-cuda.sh's layout.
# shellcheck disable=SC2054 # the commas belong to the linker options
rpath_link=(-Wl,-rpath-link,"$libtorch")
# shellcheck disable=SC2054
if [[ -d $libtorch/../cuda ]]; then rpath_link+=(-Wl,-rpath-link,"$(cd "$libtorch/../cuda" && pwd)"); fi

mkdir -p "$(dirname "$out")"
g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_NCCL \
  -isystem "$torch_include" -isystem "$torch_include/torch/csrc/api/include" -isystem "$cuda/include" \
  -Wall -Wextra -Werror -o "$out.tmp" "$here/milan_c10d_nccl.cpp" \
  -Wl,--no-undefined -Wl,--as-needed "${rpath_link[@]}" -L"$libtorch" -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10
mv "$out.tmp" "$out"
echo "build-cuda.sh: $out (not run on a GPU here)" >&2
