#!/usr/bin/env bash
# Assembles the CUDA libtorch 2.7.1 that trainer-image/Dockerfile.cuda copies in:
#   trainer-image/target/libtorch/lib/    PYTORCH_LIBRARY_PATH: libtorch and libc10 (+ _cuda) and DJL's CUDA JNI
#                                         as 0.36.0-libdjl_torch.so, which DJL looks for there first
#   trainer-image/target/libtorch/cuda/   the CUDA, cuDNN, NCCL... libraries libtorch links against, found by the
#                                         dynamic loader (ld.so.conf in the image), plus libcudart.so(.12)
#   trainer-image/target/libtorch/FLAVOR  the CUDA flavor (e.g. cu128), read by images/build.sh
# Why two directories: DJL System.load()s every *.so* under PYTORCH_LIBRARY_PATH (recursively) at start; NVIDIA's
# wheels carry libraries that must not be loaded that way (libcufile_rdma needs libibverbs, libnvblas
# interposes BLAS), so they stay outside and are loaded only as libtorch's dependencies.
# Source, one of:
#   LIBTORCH_ZIP=/path/libtorch-cxx11-abi-shared-with-deps-2.7.1+cu128.zip   PyTorch's own libtorch build
#       (download it where PyTorch's download site is reachable; the build machines only reach package registries)
#   (default) PyPI: the torch==2.7.1 manylinux wheel and the nvidia-* wheels it requires, unpacked. Note that
#       PyPI's torch 2.7.1 is the CUDA 12.6 build (flavor cu126); cu128 builds are only on PyTorch's own index.
# In both cases nvidia-cuda-runtime-cu12 (PyPI) supplies an unhashed libcudart.so.12: DJL detects GPUs by loading
# "cudart" through JNA, and libtorch's own copy has a hashed name it cannot find.
# Downloads go to a version-keyed cache (${MILAN_CACHE:-/var/cache/milan}/libtorch); pip uses its own
# configuration (index, certificates), never a hard-coded host.
# Usage: images/libtorch-cuda.sh        (after ./mvnw -pl trainer-image -am package -DskipTests)
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
torch_version=2.7.1
djl_version=0.36.0
jni_flavor=cu128 # the only CUDA JNI in pytorch-jni-2.7.1-0.36.0
cache=${MILAN_CACHE:-/var/cache/milan}/libtorch
out=$root/trainer-image/target/libtorch
jni_jar=$root/trainer-image/target/lib/pytorch-jni-$torch_version-$djl_version.jar
[[ -f $jni_jar ]] || { echo "libtorch-cuda.sh: $jni_jar missing; build the trainer jars first" >&2; exit 1; }

# pip_download DIR REQUIREMENT...: Linux x86_64 binary wheels only, no dependency resolution. pip does not widen
# an explicit --platform to older manylinux tags, so name the ones NVIDIA's and PyTorch's wheels use.
pip_download() {
  local dir=$1
  shift
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$dir" "$@"
}

if [[ -n ${LIBTORCH_ZIP:-} ]]; then
  key=zip-$(sha256sum <"$LIBTORCH_ZIP" | cut -c1-16)
else
  key=pypi-torch-$torch_version
fi
dir=$cache/$key

wheels=$cache/wheels # pip skips wheels already there, so an interrupted run resumes
if [[ ! -f $dir/done ]]; then
  rm -rf "$dir" && mkdir -p "$dir/lib" "$dir/cuda" "$wheels"
  if [[ -n ${LIBTORCH_ZIP:-} ]]; then
    # PyTorch's zip: libtorch/lib holds libtorch and its CUDA libraries under hashed names (RUNPATH $ORIGIN);
    # keep the files DJL's own CUDA packages keep. build-version reads e.g. 2.7.1+cu128.
    build=$(unzip -p "$LIBTORCH_ZIP" libtorch/build-version)
    [[ $build == "$torch_version+cu"* ]] || { echo "libtorch-cuda.sh: zip is $build, need $torch_version+cuXXX" >&2; exit 1; }
    flavor=${build#*+}
    unzip -q -j "$LIBTORCH_ZIP" 'libtorch/lib/libc10*' 'libtorch/lib/libtorch*' 'libtorch/lib/libcu*' \
      'libtorch/lib/libnv*' 'libtorch/lib/libgomp*' 'libtorch/lib/libcaffe2_nvrtc.so' -x '*.a' -d "$dir/lib"
    cuda=${flavor#cu}
    pip_download "$wheels" "nvidia-cuda-runtime-cu12~=${cuda:0:2}.${cuda:2}.0"
  else
    pip_download "$wheels" "torch==$torch_version"
    torch_whl=$(ls "$wheels"/torch-"$torch_version"-*.whl)
    # The exact nvidia-* pins of this torch build, from its metadata (Linux x86_64 markers).
    mapfile -t reqs < <(unzip -p "$torch_whl" "torch-$torch_version.dist-info/METADATA" |
      sed -n 's/^Requires-Dist: \(nvidia-[a-z0-9-]*==[0-9.]*\);.*/\1/p')
    ((${#reqs[@]})) || { echo "libtorch-cuda.sh: no nvidia-* requirements in $torch_whl" >&2; exit 1; }
    pip_download "$wheels" "${reqs[@]}"
    runtime=$(printf '%s\n' "${reqs[@]}" | sed -n 's/^nvidia-cuda-runtime-cu12==\([0-9]*\)\.\([0-9]*\)\..*/\1\2/p')
    flavor=cu$runtime
    # libtorch_python needs a Python interpreter.
    unzip -q -j "$torch_whl" 'torch/lib/*.so*' -x 'torch/lib/libtorch_python.so' -d "$dir/lib"
    # Most wheels put their libraries in nvidia/<name>/lib, nvidia-cusparselt in cusparselt/lib.
    for w in "$wheels"/nvidia_*.whl; do
      unzip -q -j -o "$w" '*/lib/*.so*' -d "$dir/cuda"
    done
  fi
  # An unhashed libcudart.so.12 (+ libcudart.so for JNA's lookup of "cudart") from its own wheel.
  if [[ ! -e $dir/cuda/libcudart.so.12 ]]; then
    unzip -q -j -o "$(ls "$wheels"/nvidia_cuda_runtime_cu12-*.whl)" 'nvidia/cuda_runtime/lib/libcudart.so.12' \
      -d "$dir/cuda"
  fi
  ln -sf libcudart.so.12 "$dir/cuda/libcudart.so"
  # DJL's CUDA JNI, under the name DJL looks for first in PYTORCH_LIBRARY_PATH, so nothing is extracted at start.
  unzip -p "$jni_jar" "jnilib/linux-x86_64/$jni_flavor/libdjl_torch.so" >"$dir/lib/$djl_version-libdjl_torch.so"
  [[ -s $dir/lib/$djl_version-libdjl_torch.so && -f $dir/lib/libtorch.so ]] ||
    { echo "libtorch-cuda.sh: libtorch.so or the JNI is missing" >&2; exit 1; }
  echo "$flavor" >"$dir/FLAVOR"
  touch "$dir/done"
  rm -rf "$wheels" # about 3 GB; the assembled directory is the cache from now on
fi

# Hard links into the Docker build context (same file system), a copy otherwise.
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -al "$dir" "$out" 2>/dev/null || cp -a "$dir" "$out"
rm -f "$out/done"
echo "libtorch-cuda.sh: $torch_version+$(cat "$out/FLAVOR") in ${out#"$root"/} ($(du -sh "$out" | cut -f1))" >&2
