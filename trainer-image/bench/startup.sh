#!/usr/bin/env bash
# Trainer start-up: from starting the JVM (`java ... MilanTrainer pretrain`) to the first training step's progress
# line ("Epoch: [0/1]  [ 0/N] ..." is printed right after step 0), and, when Docker and the image
# milan/trainer:0.1.0 are there, from `docker run` to that line inside the container. Also prints when the first
# output line appeared. Fashion-MNIST 16 px (10% subset), vit_tiny patch 4, batch 64, MILAN's prompting decoder and
# attention masking, a random encoder teacher written by `init-encoder` (not timed). Each measurement is killed
# after its first step. Uses trainer-image/target as it is (no build).
#   trainer-image/bench/startup.sh [--repeat 3] [--no-docker]
# Env: MILAN_BENCH_DATA (default /var/cache/milan/datasets/fashion-mnist-16-10pct), TRAINER_IMAGE
# (default milan/trainer:0.1.0).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "startup.sh: error: $*" >&2; exit 1; }

repeat=3 docker=true
while (($#)); do
  case $1 in
    --repeat) repeat=${2:?--repeat needs a value}; shift 2 ;;
    --no-docker) docker=false; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown flag '$1' (see --help)" ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer, got '$repeat'"
data=${MILAN_BENCH_DATA:-/var/cache/milan/datasets/fashion-mnist-16-10pct}
image=${TRAINER_IMAGE:-milan/trainer:0.1.0}
jar=$repo/trainer-image/target/milan-trainer-0.1.0-SNAPSHOT.jar
[[ -f $jar && -d $repo/trainer-image/target/lib ]] || die "$jar or trainer-image/target/lib is missing; package the trainer module first"
[[ -d $data/train ]] || die "$data/train is missing (e2e/ensure-prereqs.sh prepares the Fashion-MNIST subsets)"
classpath="$jar:$repo/trainer-image/target/lib/*"
export DJL_OFFLINE=true

work=$(mktemp -d /tmp/milan-startup.XXXXXX)
chmod 755 "$work"
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

java -cp "$classpath" io.milan.trainer.cli.MilanTrainer init-encoder --model vit_tiny --input_size 16 \
  --patch_size 4 --output "$work/teacher.safetensors" >"$work/init.log" 2>&1 ||
  { cat "$work/init.log" >&2; die "init-encoder failed"; }
chmod 644 "$work/teacher.safetensors"

# The same flags inside and outside the container.
pretrain_args=(pretrain --model vit_tiny --input_size 16 --patch_size 4 --batch_size 64 --epochs 1 --warmup_epochs 0
  --teacher encoder --change_decoder --attn_mask --num_workers 1 --device cpu --checkpoint_interval 100)
first_step='^Epoch: \[0/1\] +\[ *0/'

# Runs "$@" in the background and prints "<ms to first output line> <ms to first step>", then kills it.
time_to_first_step() {
  local log=$work/run.log start now first=""
  : >"$log"
  start=$(date +%s%N)
  "$@" >"$log" 2>&1 &
  pid=$!
  while ! grep -qE "$first_step" "$log"; do
    now=$(date +%s%N)
    [[ -z $first && -s $log ]] && first=$(( (now - start) / 1000000 ))
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2
      die "the trainer exited before its first step: $*"
    fi
    (( now - start < 600000000000 )) || die "no first step within 600 s: $*"
    sleep 0.02
  done
  now=$(date +%s%N)
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pid=""
  echo "${first:-0} $(( (now - start) / 1000000 ))"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

report() { # label, then "first step" pairs on stdin
  local label=$1 lines
  lines=$(cat)
  echo "$label: first output line $(awk '{print $1}' <<<"$lines" | paste -sd' ') ms; first step $(awk '{print $2}' <<<"$lines" | paste -sd' ') ms; median first step $(awk '{print $2}' <<<"$lines" | median) ms"
}

echo "machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average: //')"
echo "data: $data; vit_tiny patch 4, 16 px, batch 64; $repeat runs each"
for ((i = 0; i < repeat; i++)); do
  time_to_first_step java -XX:+ExitOnOutOfMemoryError -cp "$classpath" io.milan.trainer.cli.MilanTrainer \
    "${pretrain_args[@]}" --teacher_path "$work/teacher.safetensors" --data_path "$data" --output_dir "$work/out"
done | report "JVM start -> first step (java -cp trainer-image/target/...)"

if $docker && command -v docker >/dev/null && docker info >/dev/null 2>&1 && [[ -n $(docker images -q "$image") ]]; then
  # As Kubernetes runs it: UID 10001, read-only root, writable /tmp; data and teacher mounted read-only.
  for ((i = 0; i < repeat; i++)); do
    time_to_first_step docker run --rm --name "milan-startup-$$-$i" --read-only --tmpfs /tmp:exec -u 10001:10001 \
      -v "$data:/data:ro" -v "$work/teacher.safetensors:/teacher/teacher.safetensors:ro" "$image" \
      "${pretrain_args[@]}" --teacher_path /teacher/teacher.safetensors --data_path /data --output_dir /tmp/out
    docker rm -f "milan-startup-$$-$i" >/dev/null 2>&1 || true
  done | report "container start -> first step (docker run $image)"
else
  echo "container start -> first step: skipped (needs docker, a running engine (images/dockerd.sh) and $image)"
fi
echo "load after: $(uptime | sed 's/.*load average: //')"
