#!/usr/bin/env bash
# The trainer on NVIDIA GPUs in one command (issue 19, item 8), for a machine with NVIDIA GPUs and their driver,
# Docker with the NVIDIA container toolkit (`docker run --gpus`) and the CUDA trainer image
# (milan/trainer:<version>-cuXXX: images/build.sh trainer-cuda, or docker load):
#   1. native libraries: docker/check-native-libs.sh inside the image with every GPU attached, driver included:
#      every library the trainer loads (libtorch with its CUDA libraries, DJL's JNI, libmilantorch,
#      libmilantorch_cuda, libmilanjpeg, ...) resolves every symbol (ldd -r).
#   2. one GPU: `milan-trainer bench` (the MILAN pretraining step on a synthetic batch, phase by phase; the image
#      on GPU 0) beside PyTorch eager running the same step on the same GPU (bench/torch_bench.py --device cuda on
#      the host), one after the other, in fp32, fp32 with TF32, fp16 and bf16 autocast: img/s of each, the ratio
#      and the step's peak memory; 2b. the peak memory of one vit_base step at batch 256 with and without autocast.
#   3. all GPUs: `milan-trainer launch --nproc_per_node N pretrain ... --device cuda` (one process per GPU, NCCL),
#      first with 1 process, then with N: a few steps on the image's Fashion-MNIST (resized to --input_size by
#      the trainer's pipeline) with a random teacher of the student's size; img/s per GPU and the scaling
#      efficiency img/s(N) / (N x img/s(1)).
# Prints figures and asserts nothing on time; exits non-zero when a step fails or a prerequisite is missing.
# Written without a GPU and not yet run on one (docs/benchmarks.md, "GPU check").
#
#   trainer-image/bench/gpu-check.sh [--image IMAGE] [--gpus N] [--model vit_base] [--input_size 224]
#       [--patch_size 16] [--batch_size 64] [--steps 20] [--num_workers W] [--python PATH | --skip-torch]
#       [--timeout 1800]
# --image       default: the milan/trainer:${MILAN_VERSION:-0.1.0}-cuXXX image Docker has
# --gpus        GPUs for step 3 (default: every GPU nvidia-smi lists)
# --batch_size  images per GPU per step (steps 2 and 3); --steps: timed steps of step 2, steps per epoch of step 3
#               (two epochs; the figure is epoch 1's, epoch 0 carries the warm-up)
# --num_workers data-loading threads per process in step 3 (default: host cores / GPUs, 2 to 16)
# --python      a Python with torch (CUDA) and timm for step 2's PyTorch side. Default: the bench venv
#               (bench/venv.sh: PyPI's torch==2.7.1, the cu126 build whose libtorch images/build.sh puts into the
#               image; made once under /var/cache/milan/bench-venv, several GB). --skip-torch: DJL side only.
# --timeout     seconds each container may run
# Env: MILAN_VERSION; MILAN_GPU_CHECK_DIR (where the logs go; default a new /tmp/milan-gpu-check.XXXXXX, kept).
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/strict.sh"
here="$(cd "$(dirname "$0")" && pwd)"

die() {
  echo "gpu-check.sh: $*" >&2
  exit 1
}
oneline() { tr -s '\n' ' ' <<<"$1" | sed 's/ *$//'; }
usage() {
  sed -n '2,/^source /p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

image="" gpus="" model=vit_base input_size=224 patch=16 batch=64 steps=20 workers="" python="" skip_torch=false timeout_s=1800
while (($#)); do
  case $1 in
    --image | --gpus | --model | --input_size | --patch_size | --batch_size | --steps | --num_workers | --python | \
      --timeout)
      (($# >= 2)) || die "$1 needs a value"
      case $1 in
        --image) image=$2 ;; --gpus) gpus=$2 ;; --model) model=$2 ;; --input_size) input_size=$2 ;;
        --patch_size) patch=$2 ;;
        --batch_size) batch=$2 ;; --steps) steps=$2 ;; --num_workers) workers=$2 ;; --python) python=$2 ;;
        --timeout) timeout_s=$2 ;;
      esac
      shift 2
      ;;
    --skip-torch) skip_torch=true && shift ;;
    -h | --help) usage 0 ;;
    *) echo "gpu-check.sh: unknown argument '$1'" >&2 && usage 2 >&2 ;;
  esac
done
for n in "$input_size" "$patch" "$batch" "$steps" "$timeout_s" ${gpus:+"$gpus"} ${workers:+"$workers"}; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "expected a positive integer, got '$n'"
done
[[ -z $python || $skip_torch == false ]] || die "--python and --skip-torch exclude each other"
((input_size % patch == 0)) || die "--patch_size $patch does not divide --input_size $input_size"

# --- prerequisites, cheapest first; each failure says what is missing ------------------------------------------
# nvidia-smi comes with the NVIDIA driver; where it is missing or fails there is no GPU to check.
if ! command -v nvidia-smi >/dev/null; then # optional tool: the NVIDIA driver's
  die "no NVIDIA GPU visible (nvidia-smi is not installed: no NVIDIA driver on this machine); run this on a" \
    "machine with NVIDIA GPUs and their driver"
fi
if ! gpu_list=$(nvidia-smi -L 2>&1); then
  die "no NVIDIA GPU visible (nvidia-smi -L failed: $(oneline "$gpu_list")); run this on a machine with NVIDIA" \
    "GPUs and their driver"
fi
mapfile -t gpu_lines < <(grep -E '^GPU [0-9]+:' <<<"$gpu_list" || true)
((${#gpu_lines[@]})) || die "no NVIDIA GPU visible (nvidia-smi -L lists none: '$(oneline "$gpu_list")')"
gpus=${gpus:-${#gpu_lines[@]}}
((gpus <= ${#gpu_lines[@]})) || die "--gpus $gpus, but nvidia-smi lists ${#gpu_lines[@]} GPU(s)"
# GPU 0 by UUID, so that the container (docker --gpus device=) and the host's PyTorch (CUDA_VISIBLE_DEVICES) use
# the same one whatever order each numbers them in.
gpu0_uuid=$(sed -n 's/.*(UUID: \(GPU-[^)]*\)).*/\1/p' <<<"${gpu_lines[0]}")
[[ -n $gpu0_uuid ]] || die "no UUID in nvidia-smi's line '${gpu_lines[0]}'"
gpu0_name=${gpu_lines[0]#GPU 0: }
gpu0_name=${gpu0_name% (UUID*}

for tool in docker jq; do
  command -v "$tool" >/dev/null || die "$tool is missing (e2e/ensure-prereqs.sh installs it)"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed); start dockerd"

version=${MILAN_VERSION:-0.1.0}
if [[ -z $image ]]; then
  image=$(docker image ls --format '{{.Repository}}:{{.Tag}}' milan/trainer |
    awk -v v="$version" '$0 ~ "^milan/trainer:" v "-cu[0-9]+$" && !found { print; found = 1 }')
  [[ -n $image ]] || die "no CUDA trainer image milan/trainer:$version-cuXXX in Docker; build it with" \
    "images/build.sh trainer-cuda (or docker load it), or name one with --image"
fi
docker image inspect "$image" >/dev/null 2>&1 || die "no image $image in Docker (docker image inspect failed)"

# How Kubernetes runs the trainer (images/test.sh): read-only root, an exec tmpfs /tmp, no capabilities.
# shellcheck disable=SC2054 # "rw,exec" is one mount option list
restricted=(--read-only --tmpfs /tmp:rw,exec --cap-drop ALL --security-opt no-new-privileges)
# A large /dev/shm (Docker's default is 64 MB): NCCL's buffers, and the bench writes its random CLIP-shaped teacher
# (344 MB) there when it is writable (bench/RandomTeachers). Unlimited locked memory for NCCL.
shm_args=(--shm-size 16g)
nccl_args=("${shm_args[@]}" --ulimit memlock=-1:-1)
logs=${MILAN_GPU_CHECK_DIR:-$(mktemp -d /tmp/milan-gpu-check.XXXXXX)}
mkdir -p "$logs"
containers=()
cleanup() { for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
# in_image LOG NAME DOCKER-RUN-ARGS... -- IMAGE-ARGS...: runs the image (bounded by --timeout) with its output in
# LOG; its exit status is returned.
in_image() {
  local log=$1 name=gpu-check-$$-$2 run_args=()
  shift 2
  while [[ $1 != -- ]]; do run_args+=("$1") && shift; done
  shift
  containers+=("$name")
  timeout "$timeout_s" docker run --rm --name "$name" "${restricted[@]}" "${run_args[@]}" "$image" "$@" \
    >"$log" 2>&1
}
indent() { sed 's/^/     | /'; }

# The NVIDIA container toolkit: with it, --gpus attaches the GPUs and mounts the driver (and nvidia-smi, as the
# image asks for the utility capability).
if ! in_image "$logs/toolkit.log" toolkit --gpus all --entrypoint nvidia-smi -- -L; then
  # Without the restricted profile: is it the toolkit, or the toolkit with a read-only root?
  if timeout "$timeout_s" docker run --rm --gpus all --entrypoint nvidia-smi "$image" -L >/dev/null 2>&1; then
    die "the GPUs attach to a container only without the restricted profile (${restricted[*]}), as Kubernetes" \
      "runs the trainer: docker run --gpus all ${restricted[*]} $image nvidia-smi -L: $(oneline "$(<"$logs/toolkit.log")")"
  fi
  die "Docker cannot give a container the GPUs (docker run --gpus all $image nvidia-smi -L:" \
    "$(oneline "$(<"$logs/toolkit.log")")); install and configure the NVIDIA container toolkit" \
    "(nvidia-ctk runtime configure --runtime=docker, then restart dockerd). Docker's runtimes:" \
    "$(docker info --format '{{json .Runtimes}}' 2>/dev/null)"
fi
in_container=$(grep -cE '^GPU [0-9]+:' "$logs/toolkit.log" || true)
((in_container == ${#gpu_lines[@]})) ||
  die "the container sees $in_container GPU(s), the host ${#gpu_lines[@]} (docker run --gpus all nvidia-smi -L)"

py=""
if ! $skip_torch; then
  if [[ -n $python ]]; then
    py=$python
  else
    python3 -m venv --help >/dev/null 2>&1 ||
      die "step 2 makes its PyTorch venv with python3 -m venv, which is missing (Debian: python3-venv); or" \
        "pass --python PATH (a Python with torch+CUDA and timm), or --skip-torch"
    # shellcheck source=venv.sh
    source "$here/venv.sh" # sets $py; creates the venv on first use
  fi
  torch_info=$(CUDA_VISIBLE_DEVICES=$gpu0_uuid "$py" -c 'import timm, torch
assert torch.cuda.is_available(), "torch.cuda.is_available() is False"
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name(0)}")' 2>&1) ||
    die "step 2 needs a Python with torch (CUDA) and timm that sees the GPU; $py: $(tail -n 3 <<<"$torch_info")"
fi

echo "gpu-check.sh: $image on $(uname -n): ${#gpu_lines[@]} GPU(s), ${gpu0_name}; logs in $logs"
printf '%s\n' "${gpu_lines[@]}" | indent
failed=0

# --- 1. every native library resolves, with the driver --------------------------------------------------------
echo
echo "== 1. native libraries of the trainer, GPUs attached (docker/check-native-libs.sh)"
if in_image "$logs/1-native-libs.log" native-libs --gpus all --entrypoint /opt/milan/check/check-native-libs.sh --; then
  indent <"$logs/1-native-libs.log"
else
  { grep -v '^ok ' "$logs/1-native-libs.log" || true; } | indent
  die "native libraries of $image do not resolve (above; full list in $logs/1-native-libs.log)"
fi

# --- 2. one GPU: the trainer's step beside PyTorch eager, per precision ------------------------------------------
echo
echo "== 2. one GPU ($gpu0_name): MILAN pretraining step, $model patch $patch, $input_size px, batch $batch," \
  "$steps steps after 3 warm-up, CLIP-ViT-B/16-shaped teacher (random weights); fp32, fp32 with TF32, fp16 and bf16" \
  "autocast"
# table: tab-separated rows (the first one the header) into aligned columns.
table() { awk -F'\t' '{ printf "   %-31s", $1; for (i = 2; i <= NF; i++) printf " %14s", $i; printf "\n" }'; }
bench_row() { # IMPL JSON
  jq -r --arg impl "$1" '[$impl, (.img_per_s * 10 | round / 10), (.step_ms | round),
      (.achieved_gflops / 1000 * 10 | round / 10),
      (if .peak_gflops then (.peak_gflops / 1000 * 10 | round / 10) else "-" end),
      (if .mfu then ((.mfu * 1000 | round) / 10 | tostring) + "%" else "-" end),
      (if .step_peak_bytes then ((.step_peak_bytes / 1073741824 * 100 | round) / 100 | tostring) else "-" end)]
      | @tsv' <<<"$2"
}
rows=() ratios=()
for precision in fp32 tf32 fp16 bf16; do
  case $precision in
    fp32) flags=(--amp off) ;; tf32) flags=(--amp off --tf32) ;; *) flags=(--amp "$precision") ;;
  esac
  bench_args=(--model "$model" --input_size "$input_size" --patch_size "$patch" --batch_size "$batch" --steps "$steps"
    --warmup 3 --teacher clip --peak_size 8192 "${flags[@]}")
  djl_json="" torch_json=""
  log=$logs/2-djl-bench-$precision.log
  if in_image "$log" "bench-$precision" --gpus "device=$gpu0_uuid" "${shm_args[@]}" -- bench "${bench_args[@]}"; then
    { grep -E '^bench:|img/s|^step memory' "$log" || true; } | indent
    djl_json=$(sed -n 's/^BENCH_JSON //p' "$log")
    # DJL names a GPU gpu(0); on cpu() the trainer did not see the GPU the container was given.
    if ! grep -q '^bench:.*device gpu(0)' "$log"; then
      echo "FAIL the trainer's bench did not run on the GPU (see its title line above)"
      djl_json="" failed=$((failed + 1))
    fi
  else
    tail -n 20 "$log" | indent
    echo "FAIL milan-trainer bench $precision (log: $log)"
    failed=$((failed + 1))
  fi
  if ! $skip_torch; then
    log=$logs/2-torch-bench-$precision.log
    if CUDA_VISIBLE_DEVICES=$gpu0_uuid timeout "$timeout_s" "$py" "$here/torch_bench.py" --mode pretrain \
      --device cuda "${bench_args[@]}" >"$log" 2>&1; then
      torch_json=$(sed -n 's/^BENCH_JSON //p' "$log")
    else
      tail -n 20 "$log" | indent
      echo "FAIL torch_bench.py $precision (log: $log)"
      failed=$((failed + 1))
    fi
  fi
  [[ -z $djl_json ]] || rows+=("$(bench_row "DJL $precision" "$djl_json")")
  [[ -z $torch_json ]] || rows+=("$(bench_row "PyTorch eager $precision" "$torch_json")")
  if [[ -n $djl_json && -n $torch_json ]]; then
    ratios+=("$(jq -rn --argjson d "$djl_json" --argjson t "$torch_json" --arg p "$precision" \
      '"   DJL / PyTorch, \($p): \(($d.img_per_s / $t.img_per_s * 100 | round) / 100)x img/s on the same GPU"')")
  fi
done
$skip_torch || echo "   PyTorch eager: $torch_info"
if ((${#rows[@]})); then
  {
    printf 'impl\timg/s\tms/step\tTFLOP/s\tGEMM peak TF/s\tMFU\tstep GiB\n'
    printf '%s\n' "${rows[@]}"
  } | table
  ((${#ratios[@]} == 0)) || printf '%s\n' "${ratios[@]}"
fi

# --- 2b. memory: vit_base at batch 256, fp32 and fp16, one step (the CUDA caching allocator's peak) -------------
echo
echo "== 2b. one GPU: peak memory of one vit_base pretraining step at batch 256 above its start (activations, targets," \
  "temporaries), fp32 and fp16 autocast"
for precision in off fp16 bf16; do
  log=$logs/2b-memory-$precision.log
  if in_image "$log" "memory-$precision" --gpus "device=$gpu0_uuid" "${shm_args[@]}" -- bench --model vit_base \
    --input_size 224 --patch_size 16 --batch_size 256 --steps 1 --warmup 1 --teacher clip --peak_size 0 \
    --amp "$precision"; then
    echo "   amp $precision: $(grep '^step memory' "$log" || echo 'no step memory line')"
  else
    tail -n 5 "$log" | indent
    echo "   amp $precision: did not run at batch 256 (out of memory on this GPU?) (log: $log)"
  fi
done

# --- 3. launch over NCCL: 1 process, then one per GPU -----------------------------------------------------------
workers=${workers:-$(($(nproc) / gpus))}
((workers >= 2)) || workers=2
((workers <= 16)) || workers=16
echo
echo "== 3. milan-trainer launch --nproc_per_node {1,$gpus} pretrain --device cuda: $model patch $patch, $input_size px," \
  "$batch images per GPU per step, $steps steps per epoch, $workers loader threads per process"
# launch_run N: prints aggregate img/s of epoch 1 (rank 0's last progress line of it).
launch_run() {
  local n=$1 log=$logs/3-launch-$1.log per_class rate
  per_class=$(((n * steps * batch + 9) / 10))
  # Fashion-MNIST has 6,000 training images per class.
  ((per_class <= 6000)) || { echo "FAIL $n GPUs x $steps steps x batch $batch needs $per_class images per class;" \
    "the image's Fashion-MNIST has 6000: lower --steps or --batch_size" >&2; return 1; }
  # Positional parameters into bash -c: no quoting of values into the script.
  # shellcheck disable=SC2016 # expanded by the container's bash
  if ! in_image "$log" "launch-$n" --gpus all "${nccl_args[@]}" -e NCCL_DEBUG=INFO -e NCCL_DEBUG_SUBSYS=INIT \
    --entrypoint bash -- -c '
      set -euo pipefail
      n=$1 model=$2 size=$3 patch=$4 batch=$5 per_class=$6 workers=$7
      milan-trainer init-encoder --model "$model" --input_size "$size" --patch_size "$patch" \
        --output /tmp/teacher.safetensors >/dev/null
      milan-trainer subset --from /opt/milan/datasets/fashion-mnist --to /tmp/data --per-class "train=$per_class" \
        >/dev/null
      exec milan-trainer launch --nproc_per_node "$n" pretrain --model "$model" --input_size "$size" --patch_size "$patch" \
        --batch_size "$batch" --epochs 2 --warmup_epochs 0 --teacher encoder --teacher_path /tmp/teacher.safetensors \
        --change_decoder --attn_mask --num_workers "$workers" --device cuda --checkpoint_interval 100 \
        --data_path /tmp/data --output_dir /tmp/out' \
    bash "$n" "$model" "$input_size" "$patch" "$batch" "$per_class" "$workers"; then
    { grep -vE '^\s+at |NCCL INFO' "$log" || true; } | tail -n 20 | indent >&2
    echo "FAIL launch --nproc_per_node $n (log: $log)" >&2
    return 1
  fi
  { grep -E 'Epoch: \[[0-9]+/2\]' "$log" || true; } | indent >&2
  if ((n > 1)); then
    # NCCL_DEBUG=INFO: NCCL names itself once it runs.
    grep -m1 -o 'NCCL version [^ ]*' "$log" | sed 's/^/     NCCL: /' >&2 ||
      echo "     (no 'NCCL version' line in the log: did the $n processes talk over NCCL?)" >&2
  fi
  rate=$(grep -E 'Epoch: \[1/2\]' "$log" | tail -n 1 | sed -n 's/.*img\/s: \([0-9.]*\).*/\1/p')
  [[ -n $rate ]] || { echo "FAIL launch --nproc_per_node $n: no epoch-1 progress line (log: $log)" >&2; return 1; }
  echo "$rate"
}
rate1="" rateN=""
if rate1=$(launch_run 1); then
  if ((gpus > 1)); then
    rateN=$(launch_run "$gpus") || failed=$((failed + 1))
  fi
else
  failed=$((failed + 1))
fi
if [[ -n $rate1 ]]; then
  {
    printf 'GPUs\timg/s, all GPUs\timg/s per GPU\tscaling eff.\n'
    printf '1\t%s\t%s\t100%%\n' "$rate1" "$rate1"
    if [[ -n $rateN ]]; then
      jq -rn --argjson n "$gpus" --argjson r1 "$rate1" --argjson rn "$rateN" \
        '[$n, $rn, ($rn / $n * 10 | round / 10), ((($rn / ($n * $r1)) * 100 | round | tostring) + "%")] | @tsv'
    fi
  } | table
  ((gpus > 1)) || echo "   one GPU: no scaling to measure"
fi

echo
if ((failed)); then
  echo "gpu-check.sh: $failed step(s) failed; logs in $logs" >&2
  exit 1
fi
echo "gpu-check.sh: done; logs in $logs"
