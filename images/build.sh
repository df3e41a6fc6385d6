#!/usr/bin/env bash
# Builds the project's container images on a machine without any container registry:
#   milan/trainer:<version>    trainer-image/Dockerfile (CPU)
#   milan/operator:<version>   operator/src/main/docker/Dockerfile.jvm
# and, only when asked, milan/trainer:<version>-cuXXX (trainer-image/Dockerfile.cuda, see docs/images.md) with
# libmilantorch_cuda.so, the NCCL part of the c10d shim, compiled here against the image's CUDA libtorch.
# (The end-to-end tests' MinIO image is made by images/minio.sh, on the same bases, only when a test needs it.)
# Each image's build fails unless every native library the trainer loads resolves (docker/check-native-libs.sh).
#
# Steps: a Docker engine (images/dockerd.sh), the local Debian bases (images/base.sh), the jars (Maven; only
# when missing or older than their sources), the images, then images/test.sh checks them. Prints the time of
# each step and the image sizes. Everything it downloads comes from the package registries (Debian, Maven
# Central) and is cached under ${MILAN_CACHE:-/var/cache/milan}; a second run is mostly Docker cache hits.
#
# Usage: images/build.sh [--no-test] [trainer] [operator] [trainer-cuda]     (default: trainer operator)
#   MILAN_VERSION     image tag (default 0.1.0)
#   LIBTORCH_ZIP      for trainer-cuda: a libtorch-*-2.7.1+cu128 zip to use instead of PyPI's wheels (the NCCL
#                     shim's header pins in trainer-image/src/main/cpp/build-cuda.sh must then be changed to match)
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${MILAN_VERSION:-0.1.0}
trainer_tag=milan/trainer:$version
operator_tag=milan/operator:$version
cuda_tag="" # milan/trainer:<version>-<CUDA flavor>, known once libtorch is assembled
# Debian's docker.io 20.10 with a standalone client has no buildx, so BuildKit is unavailable; the classic
# builder works from local images only, which is all we need.
export DOCKER_BUILDKIT=0

run_tests=true
targets=()
for arg in "$@"; do
  case $arg in
    --no-test) run_tests=false ;;
    trainer | operator | trainer-cuda) targets+=("$arg") ;;
    *) echo "usage: $0 [--no-test] [trainer] [operator] [trainer-cuda]" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(trainer operator)
wants() { [[ " ${targets[*]} " == *" $1 "* ]]; }

report=()
# timed LABEL COMMAND...: runs the command and records how long it took.
timed() {
  local label=$1 start=$SECONDS
  shift
  echo "==> $label" >&2
  "$@"
  report+=("$(printf '%-34s %5ss' "$label" $((SECONDS - start)))")
}

ensure_tools() {
  local tool
  for tool in mmdebstrap unzip jq; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing; run e2e/ensure-prereqs.sh" >&2; exit 1; }
  done
}

# stale OUTPUT SOURCE...: true when OUTPUT is missing or any file under the sources is newer.
stale() {
  local out=$1
  shift
  [[ -e $out ]] || return 0
  [[ -n $(find "$@" -newer "$out" -type f -print -quit 2>/dev/null) ]]
}

trainer_jar() {
  local jars=(trainer-image/target/milan-trainer-*.jar)
  [[ -e ${jars[0]} ]] || return 1
  ((${#jars[@]} == 1)) || { echo "build.sh: several trainer jars in trainer-image/target; run ./mvnw clean" >&2; exit 1; }
  echo "${jars[0]}"
}

build_trainer_jars() {
  local jar
  jar=$(trainer_jar || true)
  if [[ -z $jar ]] || stale "$jar" trainer-image/src/main trainer-image/pom.xml crds/src/main crds/pom.xml pom.xml; then
    ./mvnw -B -ntp -q -pl trainer-image -am package -DskipTests
  else
    echo "trainer jars are up to date" >&2
  fi
  check_trainer_lib "$(trainer_jar)"
}

# target/lib must hold exactly the jar's runtime classpath: a stale jar from an older dependency version would
# otherwise end up on the image's classpath next to the new one.
check_trainer_lib() {
  local expected actual
  expected=$(unzip -p "$1" META-INF/MANIFEST.MF | tr -d '\r' |
    awk '/^Class-Path:/ { cp = substr($0, 13); on = 1; next } on && /^ / { cp = cp substr($0, 2); next }
         { on = 0 } END { print cp }' | tr ' ' '\n' | sed -n 's#^lib/##p' | sort)
  actual=$(find trainer-image/target/lib -maxdepth 1 -type f -printf '%f\n' | sort)
  [[ -n $expected ]] || { echo "build.sh: $1 has no Class-Path in its manifest" >&2; exit 1; }
  if [[ $expected != "$actual" ]]; then
    echo "build.sh: trainer-image/target/lib differs from the jar's Class-Path (stale jars?):" >&2
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    echo "run: ./mvnw -pl trainer-image clean package -DskipTests" >&2
    exit 1
  fi
}

# The quickstart's teacher, a vit_micro trained with all of Fashion-MNIST's labels (it stands in for CLIP): the
# first step of trainer-image/experiments/fashion-mnist.sh, about 11 min on 2 idle cores, cached under
# ${MILAN_CACHE:-/var/cache/milan}/experiments. The image copies it from trainer-image/target/teachers.
quickstart_teacher() {
  local src dst=trainer-image/target/teachers/fashion-mnist-vit-micro-16.safetensors
  src=$(trainer-image/experiments/fashion-mnist.sh --teacher-only | tail -n 1)
  [[ -s $src ]] || { echo "build.sh: the teacher step printed no checkpoint ('$src')" >&2; exit 1; }
  mkdir -p "$(dirname "$dst")"
  cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
}

build_operator_app() {
  if stale operator/target/quarkus-app/quarkus-run.jar operator/src/main operator/pom.xml crds/src/main crds/pom.xml \
    pom.xml; then
    ./mvnw -B -ntp -q -pl operator -am package -DskipTests
  else
    echo "operator application is up to date" >&2
  fi
}

# libmilantorch_cuda.so (ProcessGroupNCCL) against the CUDA libtorch libtorch-cuda.sh just assembled, in a jar
# that Dockerfile.cuda puts on the trainer's classpath (MilanTorchNative.cudaLibraryPath looks for
# linux-x86-64/libmilantorch_cuda.so there). Both go under target/libtorch, removed again after the build.
build_milantorch_cuda() {
  local dir=trainer-image/target/libtorch/milantorch-cuda
  command -v jar >/dev/null || { echo "build.sh: jar (the JDK's) is missing; run e2e/ensure-prereqs.sh" >&2; exit 1; }
  trainer-image/src/main/cpp/build-cuda.sh "$dir" trainer-image/target/libtorch/lib
  rm -f trainer-image/target/libtorch/milantorch-cuda.jar
  jar --create --file trainer-image/target/libtorch/milantorch-cuda.jar -C "$dir" linux-x86-64/libmilantorch_cuda.so
}

docker_build() {
  local tag=$1 dockerfile=$2 context=$3
  shift 3
  # --force-rm: a failed step leaves no stopped container behind.
  docker build --force-rm --build-arg VERSION="$version" "$@" -f "$dockerfile" -t "$tag" "$context"
}

ensure_tools
timed "docker engine" images/dockerd.sh
timed "base images (debian, jre17)" images/base.sh

if wants trainer || wants trainer-cuda; then
  timed "trainer jars (Maven)" build_trainer_jars
fi
if wants trainer; then
  timed "quickstart teacher (cached)" quickstart_teacher
fi
if wants operator; then
  timed "operator application (Maven)" build_operator_app
fi
if wants trainer; then
  timed "image $trainer_tag" docker_build "$trainer_tag" trainer-image/Dockerfile trainer-image
fi
if wants operator; then
  timed "image $operator_tag" docker_build "$operator_tag" operator/src/main/docker/Dockerfile.jvm operator
fi
if wants trainer-cuda; then
  timed "CUDA libtorch (zip or PyPI)" images/libtorch-cuda.sh
  timed "libmilantorch_cuda (NCCL shim)" build_milantorch_cuda
  flavor=$(cat trainer-image/target/libtorch/FLAVOR)
  cuda_tag=milan/trainer:$version-$flavor
  timed "image $cuda_tag" docker_build "$cuda_tag" trainer-image/Dockerfile.cuda trainer-image \
    --build-arg PYTORCH_FLAVOR="$flavor"
  # Out of the build context again (4 GB of hard links): the CPU image's builds would send it along.
  rm -rf trainer-image/target/libtorch
fi

echo
echo "step                               time"
printf '%s\n' "${report[@]}"
echo
echo "image                              size"
for t in "$trainer_tag" "$operator_tag" $cuda_tag milan/jre17:bookworm milan/debian:bookworm; do
  if docker image inspect "$t" >/dev/null 2>&1; then
    printf '%-34s %6s MB\n' "$t" $(($(docker image inspect -f '{{.Size}}' "$t") / 1000000))
  fi
done

if $run_tests; then
  echo
  images/test.sh "${targets[@]}"
fi
