#!/bin/bash
# Checks that every native library the trainer loads resolves all of its symbols, as `ldd -r` reports them: every
# library it needs is found, every function and data symbol it imports is defined, every symbol version exists.
# A library that fails here would fail only when the trainer first loads it (UnsatisfiedLinkError, "undefined
# symbol"); for libmilantorch_cuda.so that is the first NCCL process group, on a GPU.
# Runs inside the trainer images: at image build time (trainer-image/Dockerfile and Dockerfile.cuda, so a failure
# fails the build), in images/test.sh, and with the GPUs attached in trainer-image/bench/gpu-check.sh.
#
#   check-native-libs.sh [--driver-absent] [PATH...]
# PATH: a shared library; a directory (every *.so and *.so.* file under it: DJL loads every one in
#   PYTORCH_LIBRARY_PATH); or a jar (the libraries the trainer takes out of it: NativeLibsInJars.java).
# Without PATHs, the image's own set, whose main libraries must also be present: $PYTORCH_LIBRARY_PATH (libtorch,
#   libc10, DJL's JNI); every jar in /opt/milan/lib (libmilanjpeg.so, libmilantorch.so, libmilantorch_cuda.so in
#   the CUDA image, JNA's libjnidispatch.so, OpenCV's); the system's libturbojpeg.so.0 (JNA loads it by name); and,
#   where /opt/libtorch/cuda exists (the CUDA image), the cuDNN and NVRTC-builtins libraries there, which libcudnn
#   and libnvrtc dlopen() (no DT_NEEDED entry leads ldd to them; cuDNN's convolutions run MILAN's patch embedding).
# --driver-absent: for an image build on a machine without GPUs: the NVIDIA driver's libraries, which the GPU node
#   mounts (libcuda.so.1, libnvidia-ml.so.1), may be missing, and with them the symbols of the driver's APIs
#   (cu[A-Z]*, nvml[A-Z]*) that libraries needing them import; nothing else.
# Libraries are resolved with $PYTORCH_LIBRARY_PATH on LD_LIBRARY_PATH: libmilantorch, libmilantorch_cuda and DJL's
# JNI name libtorch by SONAME only and bind at run time to the copies DJL loaded from there.
# Prints one line per library; exits 1 naming each library and what it misses (library, symbol or version).
set -euo pipefail

driver_absent=false
if [[ ${1:-} == --driver-absent ]]; then
  driver_absent=true
  shift
fi
case ${1:-} in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Driver libraries and the symbol names they define (only used with --driver-absent).
declare -A driver_symbols=([libcuda.so.1]='^cu[A-Z]' [libnvidia-ml.so.1]='^nvml[A-Z]')

paths=("$@")
image_set=false
if ((${#paths[@]} == 0)); then
  image_set=true
  [[ -n ${PYTORCH_LIBRARY_PATH:-} ]] || { echo "check-native-libs.sh: PYTORCH_LIBRARY_PATH is not set" >&2; exit 2; }
  paths=("$PYTORCH_LIBRARY_PATH" /opt/milan/lib/*.jar)
  # awk reads to the end: a reader that exits early would kill ldconfig with SIGPIPE under pipefail.
  turbojpeg=$(ldconfig -p | awk '$1 == "libturbojpeg.so.0" && !found { print $NF; found = 1 }')
  [[ -n $turbojpeg ]] || { echo "check-native-libs.sh: FAIL libturbojpeg.so.0 is not installed" >&2; exit 1; }
  paths+=("$turbojpeg")
  if [[ -d /opt/libtorch/cuda ]]; then
    shopt -s nullglob
    paths+=(/opt/libtorch/cuda/libcudnn*.so* /opt/libtorch/cuda/libnvrtc-builtins*.so*)
    shopt -u nullglob
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# files[i]: the file ldd reads; names[i]: what the report calls it (a jar's entries as <jar>!<entry>).
files=() names=() jars=()
add() {
  local f
  f=$(readlink -f "$1")
  for seen in "${files[@]}"; do [[ $seen == "$f" ]] && return; done
  files+=("$f")
  names+=("$2")
}
for p in "${paths[@]}"; do
  if [[ -d $p ]]; then
    while IFS= read -r -d '' f; do add "$f" "$f"; done \
      < <(find "$p" -type f \( -name '*.so' -o -name '*.so.*' \) -print0 | sort -z)
  elif [[ $p == *.jar && -f $p ]]; then
    jars+=("$p")
  elif [[ -f $p ]]; then
    add "$p" "$p"
  else
    echo "check-native-libs.sh: FAIL $p does not exist" >&2
    exit 1
  fi
done
if ((${#jars[@]})); then
  java "$here/NativeLibsInJars.java" "$tmp" "${jars[@]}" >"$tmp/jar-libs.tsv"
  while IFS=$'\t' read -r f name; do add "$f" "$name"; done <"$tmp/jar-libs.tsv"
fi
((${#files[@]})) || { echo "check-native-libs.sh: FAIL no libraries found in ${paths[*]}" >&2; exit 1; }
# The image's set must also be complete: a library that is not there cannot fail the check.
if $image_set; then
  required=(libtorch_cpu.so libc10.so libdjl_torch.so libjnidispatch.so libmilanjpeg.so libmilantorch.so)
  if [[ -d /opt/libtorch/cuda ]]; then required+=(libtorch_cuda.so libc10_cuda.so libmilantorch_cuda.so); fi
  for lib in "${required[@]}"; do
    found=false
    for name in "${names[@]}"; do [[ $name == *[/-]"$lib" ]] && found=true; done
    $found || { echo "check-native-libs.sh: FAIL the image carries no $lib (looked in $PYTORCH_LIBRARY_PATH," \
      "the jars of /opt/milan/lib and /opt/libtorch/cuda)" >&2; exit 1; }
  done
fi

export LD_LIBRARY_PATH=${PYTORCH_LIBRARY_PATH:+$PYTORCH_LIBRARY_PATH${LD_LIBRARY_PATH:+:}}${LD_LIBRARY_PATH:-}
failed=0
driver_left=0
for i in "${!files[@]}"; do
  f=${files[$i]} name=${names[$i]}
  if ! out=$(ldd -r "$f" 2>&1); then
    echo "FAIL $name: ldd -r failed: $(tr '\n\t' '  ' <<<"$out")"
    failed=$((failed + 1))
    continue
  fi
  problems=() absent=()
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*([^[:space:]]+)\ =\>\ not\ found ]]; then
      lib=${BASH_REMATCH[1]}
      if $driver_absent && [[ -n ${driver_symbols[$lib]:-} ]]; then
        absent+=("$lib")
      else
        problems+=("library $lib not found")
      fi
    elif [[ $line =~ ^undefined\ symbol:\ ([^[:space:]]+)[[:space:]]+\((.*)\)$ ]]; then
      problem="undefined symbol ${BASH_REMATCH[1]}"
      # Name the object that needs it when that is one of the library's dependencies.
      [[ ${BASH_REMATCH[2]} -ef $f ]] || problem+=" (needed by ${BASH_REMATCH[2]})"
      problems+=("$problem")
    elif [[ $line == *"not found"* ]]; then # "<lib>: version `X' not found (required by <lib>)"
      problems+=("${line#"${line%%[![:space:]]*}"}")
    fi
  done <<<"$out"
  # Without the driver, its API's symbols are unresolved too: allowed only for the driver library found missing.
  note=""
  if ((${#absent[@]})); then
    kept=() n=0
    for p in "${problems[@]}"; do
      allowed=false
      if [[ $p =~ ^undefined\ symbol\ ([^[:space:]]+) ]]; then
        for lib in "${absent[@]}"; do
          if [[ ${BASH_REMATCH[1]} =~ ${driver_symbols[$lib]} ]]; then allowed=true; fi
        done
      fi
      if $allowed; then n=$((n + 1)); else kept+=("$p"); fi
    done
    problems=("${kept[@]}")
    mapfile -t absent < <(printf '%s\n' "${absent[@]}" | sort -u)
    note=" (${absent[*]} and $n of its symbols left to the GPU node's NVIDIA driver)"
    driver_left=$((driver_left + 1))
  fi
  if ((${#problems[@]})); then
    failed=$((failed + 1))
    echo "FAIL $name:"
    # sed, not head: a reader that stops early would kill sort with SIGPIPE under pipefail.
    printf '       %s\n' "${problems[@]}" | sort -u | sed -n '1,40p'
    if ((${#problems[@]} > 40)); then echo "       ... ${#problems[@]} problems in all"; fi
  else
    echo "ok   $name$note"
  fi
done

if ((failed)); then
  echo "check-native-libs.sh: $failed of ${#files[@]} native libraries do not resolve (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)" >&2
  exit 1
fi
summary="check-native-libs.sh: all ${#files[@]} native libraries resolve every symbol"
if ((driver_left)); then summary+=" ($driver_left of them up to the NVIDIA driver, absent here)"; fi
echo "$summary"
