#!/usr/bin/env bash
# Checks the images images/build.sh made, by running them the way Kubernetes will (read-only root filesystem,
# a tmpfs /tmp, no capabilities, no privilege escalation):
#   trainer:  non-root (UID 10001); `--help` works; every native library the trainer loads resolves every symbol;
#             DJL loads libtorch from the image without extracting or downloading anything; the Fashion-MNIST
#             ImageFolder is complete; one short pretraining epoch runs.
#   operator: non-root (UID 10001); starts. With a cluster reachable through KUBECONFIG it must become ready
#             against it; without one it must get as far as trying to reach the Kubernetes API.
#   trainer-cuda (only when named): as far as this machine allows, see test_trainer_cuda.
# Usage: images/test.sh [trainer] [operator] [trainer-cuda]     (default: trainer operator)
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
version=${MILAN_VERSION:-0.1.0}
trainer=milan/trainer:$version
operator=milan/operator:$version
timeout_s=${MILAN_TEST_TIMEOUT:-180}
# How Kubernetes runs them under the restricted profile (plus the read-only root the chart sets). /tmp is
# mounted exec like an emptyDir (Docker's tmpfs default is noexec): native libraries are loaded from there.
# shellcheck disable=SC2054 # "rw,exec" is one mount option list
restricted=(--read-only --tmpfs /tmp:rw,exec --cap-drop ALL --security-opt no-new-privileges)

targets=("$@")
((${#targets[@]})) || targets=(trainer operator)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# expect NAME ACTUAL WANTED
expect() { if [[ $2 == "$3" ]]; then pass "$1: $2"; else fail "$1: got '$2', want '$3'"; fi; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# native_libs IMAGE FLAG [DOCKER-RUN-ARGS...]: the check the image's build ran (docker/check-native-libs.sh
# [FLAG]: every native library the trainer loads is there and resolves every symbol), again on the image as shipped
# and as Kubernetes runs it.
native_libs() {
  local image=$1 flag=$2 out start
  shift 2
  start=$(date +%s%N)
  if out=$(docker run --rm "${restricted[@]}" "$@" --entrypoint /opt/milan/check/check-native-libs.sh "$image" \
    ${flag:+"$flag"} 2>&1); then
    pass "native libraries: $(tail -n 1 <<<"$out" | sed 's/^check-native-libs.sh: //') ($(ms_since "$start") ms)"
  else
    grep -v '^ok ' <<<"$out" | sed 's/^/     | /'
    fail "native libraries of $image do not resolve"
  fi
}

test_trainer() {
  echo "--- $trainer"
  expect "image user" "$(docker image inspect -f '{{.Config.User}}' "$trainer")" "10001:10001"
  expect "uid/gid in a container" "$(docker run --rm "${restricted[@]}" --entrypoint id "$trainer")" \
    "uid=10001(milan) gid=10001(milan) groups=10001(milan)"
  expect "DJL environment" "$(docker run --rm --entrypoint sh "$trainer" -c \
    'echo "$PYTORCH_LIBRARY_PATH $PYTORCH_FLAVOR $PYTORCH_VERSION DJL_OFFLINE=$DJL_OFFLINE"')" \
    "/opt/libtorch/lib cpu 2.7.1 DJL_OFFLINE=true"
  # glibc keeps freed step memory in the arena instead of faulting it in again each step (docs/benchmarks.md).
  expect "malloc environment" "$(docker run --rm --entrypoint sh "$trainer" -c \
    'echo "$MALLOC_MMAP_THRESHOLD_ $MALLOC_TRIM_THRESHOLD_ $MALLOC_ARENA_MAX"')" "33554432 17179869184 1"

  local start out
  start=$(date +%s%N)
  if out=$(docker run --rm "${restricted[@]}" "$trainer" --help 2>&1); then
    pass "--help, read-only root, UID 10001 ($(ms_since "$start") ms including container start)"
    echo "$out" | sed 's/^/     | /'
  else
    fail "--help exited non-zero"
    echo "$out" | sed 's/^/     | /'
  fi

  native_libs "$trainer" ""

  # DJL from the libtorch baked into the image: a read-only root means nothing can be extracted into the image;
  # afterwards no libtorch may have appeared in /tmp either, and DJL's debug log must show no extraction or
  # download, only libraries loaded from /opt/libtorch/lib.
  start=$(date +%s%N)
  if out=$(docker run --rm "${restricted[@]}" -v "$root/trainer-image/docker/DjlWarmup.java:/check/DjlWarmup.java:ro" \
    --entrypoint bash "$trainer" -c \
    'java -Dorg.slf4j.simpleLogger.log.ai.djl=debug -cp "/opt/milan/lib/*" /check/DjlWarmup.java &&
     echo "native files written under /tmp: $(find /tmp -name "*torch*" -o -name "*.so*" | wc -l)"' 2>&1); then
    echo "$out" | grep -E 'ai.djl|DjlWarmup|native files' | sed 's/^/     | /'
    pass "DJL loads PyTorch on a read-only root ($(ms_since "$start") ms including container start and compiling the check)"
    if grep -qiE 'extract|download' <<<"$out"; then fail "DJL extracted or downloaded at start"; else pass "no extraction or download in DJL's log"; fi
    expect "JNI loaded from the image" "$(grep -o 'Loading native library: [^ ]*libdjl_torch.so' <<<"$out")" \
      "Loading native library: /opt/libtorch/lib/0.36.0-libdjl_torch.so"
    expect "native libraries written at start" "$(grep -o 'native files written under /tmp: [0-9]*' <<<"$out")" \
      "native files written under /tmp: 0"
  else
    echo "$out" | tail -n 30 | sed 's/^/     | /'
    fail "DJL could not load PyTorch on a read-only root"
  fi

  # The quickstart's ImageFolder: 10 classes, 60,000 training and 10,000 validation images.
  out=$(docker run --rm "${restricted[@]}" --entrypoint bash "$trainer" -c '
    d=/opt/milan/datasets/fashion-mnist
    for s in train val; do
      echo "$s $(find $d/$s -mindepth 1 -maxdepth 1 -type d | wc -l) classes $(find $d/$s -type f -name "*.png" | wc -l) images"
    done')
  expect "dataset train split" "$(sed -n 1p <<<"$out")" "train 10 classes 60000 images"
  expect "dataset val split" "$(sed -n 2p <<<"$out")" "val 10 classes 10000 images"

  # The quickstart's teacher: a vit_micro checkpoint the trainer can read.
  expect "quickstart teacher" "$(docker run --rm "${restricted[@]}" --entrypoint bash "$trainer" -c \
    'f=/opt/milan/teachers/fashion-mnist-vit-micro-16.safetensors; test -s "$f" && echo present')" "present"

  # The image can train: one pretraining epoch (4 steps) of the quickstart's model on 12 images per class copied
  # from the image's dataset, with the image's teacher, everything written under /tmp.
  start=$(date +%s%N)
  if out=$(docker run --rm "${restricted[@]}" --entrypoint bash "$trainer" -c '
      set -euo pipefail
      milan-trainer subset --from /opt/milan/datasets/fashion-mnist --to /tmp/data --per-class train=12 >/dev/null
      milan-trainer pretrain --model vit_micro --input_size 16 --patch_size 4 --batch_size 30 --epochs 1 \
        --warmup_epochs 0 --lr 1e-3 --teacher encoder --teacher_model vit_micro \
        --teacher_path /opt/milan/teachers/fashion-mnist-vit-micro-16.safetensors --change_decoder --attn_mask \
        --decoder_embed_dim 128 --decoder_depth 2 --decoder_num_heads 4 \
        --data_path /tmp/data --output_dir /tmp/out --num_workers 1
      ls /tmp/out' 2>&1); then
    grep -E '^Epoch|Saved checkpoint|Training time' <<<"$out" | cut -c1-160 | sed 's/^/     | /'
    expect "JPEG decoder" "$(grep -o "JPEG decoder: the system's libjpeg-turbo" <<<"$out" | head -1)" \
      "JPEG decoder: the system's libjpeg-turbo"
    # The crop decoder's shim comes out of the jar into /tmp (JNA) on the read-only root.
    expect "JPEG crop decoder" "$(grep -o "JPEG crops: training crops decode only their region" <<<"$out" | head -1)" \
      "JPEG crops: training crops decode only their region"
    expect "native resampler" "$(grep -o "Resampler: native (libmilanjpeg)" <<<"$out" | head -1)" \
      "Resampler: native (libmilanjpeg)"
    if grep -qx 'checkpoint-0.safetensors' <<<"$out" && grep -qx 'log.txt' <<<"$out"; then
      pass "one pretraining epoch on a read-only root: checkpoint-0 and log.txt written ($(ms_since "$start") ms)"
    else
      fail "pretraining wrote no checkpoint-0.safetensors / log.txt"
    fi
  else
    tail -n 20 <<<"$out" | sed 's/^/     | /'
    fail "pretraining failed on a read-only root"
  fi
}

test_operator() {
  echo "--- $operator"
  expect "image user" "$(docker image inspect -f '{{.Config.User}}' "$operator")" "10001:10001"
  local name=milan-operator-test-$$ kdir="" args=() logs
  if [[ -n ${KUBECONFIG:-} ]] && kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1; then
    # A self-contained copy (certificates inlined) the container user can read; it holds credentials, so it
    # lives in a private temporary directory and is never printed.
    kdir=$(mktemp -d)
    kubectl config view --raw --minify --flatten >"$kdir/kubeconfig"
    chmod 0644 "$kdir/kubeconfig"
    args=(--network host -v "$kdir/kubeconfig:/kubeconfig:ro" -e KUBECONFIG=/kubeconfig)
  fi
  docker run -d --name "$name" "${restricted[@]}" "${args[@]}" "$operator" >/dev/null

  if [[ -n $kdir ]]; then
    echo "cluster reachable through KUBECONFIG: the operator must become ready against it"
    local ready=false i
    # Poll the readiness endpoint until UP, bounded by timeout_s.
    for ((i = 0; i < timeout_s; i++)); do
      if docker exec "$name" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 &&
          printf "GET /q/health/ready HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null | grep -q '"status": "UP"'; then
        ready=true
        break
      fi
      [[ $(docker inspect -f '{{.State.Running}}' "$name") == true ]] || break
      sleep 1
    done
    logs=$(docker logs "$name" 2>&1)
    if $ready; then pass "operator ready against the cluster (/q/health/ready UP)"; else fail "operator not ready within ${timeout_s}s"; fi
  else
    # Without a cluster the operator uses the in-cluster default (kubernetes.default.svc), cannot resolve it,
    # and exits: wait for that exit, bounded by timeout_s.
    timeout "$timeout_s" docker wait "$name" >/dev/null || true
    logs=$(docker logs "$name" 2>&1)
    if grep -q "Starting 'milanpretrain' controller" <<<"$logs" &&
      grep -q 'UnknownHostException: kubernetes.default.svc' <<<"$logs"; then
      pass "operator started its controllers and tried the Kubernetes API (no cluster here: kubernetes.default.svc unknown)"
    else
      fail "operator did not get to the Kubernetes API within ${timeout_s}s"
    fi
  fi
  grep -E 'INFO|WARN|ERROR|Caused by: java.net' <<<"$logs" | head -n 14 | cut -c1-200 | sed 's/^/     | /' || true
  docker rm -f "$name" >/dev/null
  [[ -z $kdir ]] || rm -rf "$kdir"
}

# The CUDA image: the same user and layout; libtorch must load up to the NVIDIA driver. On a machine without
# one (like the build machines) DJL must get exactly as far as needing libcuda.so.1; with a GPU (docker
# --gpus, NVIDIA container toolkit) it must load and count the GPUs.
test_trainer_cuda() {
  local image
  image=$(docker image ls --format '{{.Repository}}:{{.Tag}}' milan/trainer | grep -E ":$version-cu[0-9]+$" | head -1)
  echo "--- ${image:-milan/trainer:$version-cuXXX}"
  [[ -n $image ]] || { fail "no CUDA trainer image (images/build.sh trainer-cuda)"; return; }
  expect "image user" "$(docker image inspect -f '{{.Config.User}}' "$image")" "10001:10001"
  expect "DJL environment" "$(docker run --rm --entrypoint sh "$image" -c \
    'echo "$PYTORCH_LIBRARY_PATH $PYTORCH_VERSION DJL_OFFLINE=$DJL_OFFLINE"')" "/opt/libtorch/lib 2.7.1 DJL_OFFLINE=true"
  local gpu_args=() out
  # nvidia-smi only exists on machines with NVIDIA GPUs.
  if command -v nvidia-smi >/dev/null && [[ $(docker info --format '{{json .Runtimes}}') == *nvidia* ]]; then # optional tool
    gpu_args=(--gpus all)
  fi
  # Without a GPU the driver's libcuda.so.1 is absent, as at image build time (trainer-image/bench/gpu-check.sh
  # runs the check with the GPUs attached).
  if ((${#gpu_args[@]})); then native_libs "$image" "" "${gpu_args[@]}"; else native_libs "$image" --driver-absent; fi
  out=$(docker run --rm "${restricted[@]}" "${gpu_args[@]}" \
    -v "$root/trainer-image/docker/DjlWarmup.java:/check/DjlWarmup.java:ro" --entrypoint java "$image" \
    -Dorg.slf4j.simpleLogger.log.ai.djl=debug -cp '/opt/milan/lib/*' /check/DjlWarmup.java 2>&1 || true)
  grep -E 'LibUtils|DjlWarmup|UnsatisfiedLinkError|CudaUtils' <<<"$out" | cut -c1-200 | sed 's/^/     | /'
  if ((${#gpu_args[@]})); then
    if grep -qE 'devices [1-9][0-9]* GPU' <<<"$out"; then pass "libtorch CUDA loaded, GPUs counted"; else fail "no GPU seen"; fi
  elif grep -q 'libcaffe2_nvrtc.so: libcuda.so.1: cannot open shared object file' <<<"$out"; then
    pass "no NVIDIA driver here: libtorch's CUDA libraries resolve up to the driver's libcuda.so.1"
  else
    fail "unexpected result without a driver"
  fi
  if grep -qiE 'extracting|downloading' <<<"$out"; then fail "DJL extracted or downloaded"; else pass "no extraction or download in DJL's log"; fi
}

for t in "${targets[@]}"; do
  case $t in
    trainer) test_trainer ;;
    operator) test_operator ;;
    trainer-cuda) test_trainer_cuda ;;
    *) echo "unknown image $t" >&2; exit 2 ;;
  esac
done
echo
echo "images/test.sh: $passed passed, $failed failed"
((failed == 0))
