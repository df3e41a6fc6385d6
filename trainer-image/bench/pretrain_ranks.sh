#!/usr/bin/env bash
# Data-parallel pretraining throughput (issues 6 and 19): `milan-trainer launch --nproc_per_node W pretrain`, i.e.
# W processes on this machine (c10d Gloo over loopback, DDP's Reducer), as one pod of W devices runs them;
# Fashion-MNIST 16 px, vit_tiny patch 4, a fixed per-process batch and a fixed number of steps per process. Prints aggregate img/s per world size and the scaling efficiency
# img/s(W) / (W x img/s(1)). Each world size runs 2 epochs of --steps steps; the figure is rank 0's epoch-1
# average (epoch 0 carries the warm-up).
#   trainer-image/bench/pretrain_ranks.sh [--worlds 1,2,4] [--batch_size 64] [--steps 10] [--decoder 128,2,4]
# --decoder is width,depth,heads of the prompting decoder. The reference's 512,8,16 (25 M parameters) dwarfs a
# vit_tiny at 16 px (17 tokens): the step would be all decoder and optimizer, so the default is a small one, like
# the trainer's tiny test runs; pass --decoder 512,8,16 for the reference decoder.
# Env: MILAN_BUILD_DIR, MILAN_BENCH_DATA (default /var/cache/milan/datasets/fashion-mnist-16-10pct).
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/strict.sh"
here="$(cd "$(dirname "$0")" && pwd)"
worlds=1,2,4 batch=64 steps=10 decoder=128,2,4
while (($#)); do
  case $1 in
    --worlds) worlds=$2 ;; --batch_size) batch=$2 ;; --steps) steps=$2 ;; --decoder) decoder=$2 ;;
    *) echo "pretrain_ranks.sh: unknown flag $1" >&2; exit 2 ;;
  esac
  shift 2
done
IFS=, read -r dec_dim dec_depth dec_heads <<<"$decoder"
source "$here/classpath.sh"
data="${MILAN_BENCH_DATA:-/var/cache/milan/datasets/fashion-mnist-16-10pct}"
[ -d "$data/train" ] || { echo "pretrain_ranks.sh: $data/train is missing (the e2e prerequisites prepare it)" >&2; exit 1; }
cores=$(nproc)
work=$(mktemp -d /tmp/milan-ranks.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
java_cmd=(java -Xmx2g -cp "$classpath" io.milan.trainer.cli.MilanTrainer)
"${java_cmd[@]}" init-encoder --model vit_tiny --input_size 16 --patch_size 4 --output "$work/teacher.safetensors" \
  >/dev/null 2>&1

echo "load before: $(uptime)"
results=()
IFS=, read -ra world_list <<<"$worlds"
for world in "${world_list[@]}"; do
  # Exactly world x steps x batch images (symlinks), so every rank runs --steps steps per epoch.
  subset="$work/data-$world/train"
  find "$data/train" -name '*.png' | awk -F/ '{print $NF" "$0}' | sort | sed -n "1,$((world * steps * batch))p" |
    while read -r _ file; do
      class=$(basename "$(dirname "$file")")
      mkdir -p "$subset/$class" && ln -s "$file" "$subset/$class/"
    done
  threads=$((cores / world > 0 ? cores / world : 1))
  pids=()
  # The launcher's JVM flags (heap, threads per process) are its children's.
  java -Xmx2g -Dai.djl.pytorch.num_threads=$threads -Dai.djl.pytorch.num_interop_threads=1 -cp "$classpath" \
      io.milan.trainer.cli.MilanTrainer launch --nproc_per_node "$world" \
      pretrain --model vit_tiny --input_size 16 --patch_size 4 \
      --batch_size "$batch" --epochs 2 --warmup_epochs 0 --teacher encoder --teacher_path "$work/teacher.safetensors" \
      --change_decoder --attn_mask --decoder_embed_dim "$dec_dim" --decoder_depth "$dec_depth" \
      --decoder_num_heads "$dec_heads" --num_workers 1 --device cpu --dist_timeout 120 --checkpoint_interval 100 \
      --data_path "$work/data-$world" --output_dir "$work/out-$world" >"$work/rank-$world-0.log" 2>&1 &
  pids+=($!)
  ok=1
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  pids=()
  if ((ok == 0)); then
    echo "world $world failed; its log:" >&2
    for log in "$work"/rank-"$world"-*.log; do echo "== $log" >&2; grep -v -E '^\s+at |INFO' "$log" | tail -n 15 >&2; done
    exit 1
  fi
  # Rank 0's last progress line of epoch 1: aggregate img/s over the epoch (all ranks).
  rate=$(grep -E "^Epoch: \[1/2\]" "$work/rank-$world-0.log" | tail -n 1 | sed -n 's/.*img\/s: \([0-9.]*\).*/\1/p')
  [ -n "$rate" ] || { echo "world $world: no epoch-1 progress line in rank 0's log" >&2; cat "$work/rank-$world-0.log" >&2; exit 1; }
  results+=("$world $threads $rate")
done
echo "load after: $(uptime)"
printf '%s\n' "${results[@]}" | python3 -c "
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
cores, batch, steps = $cores, $batch, $steps
base = next((float(r[2]) for r in rows if r[0] == '1'), None)
print(f'pretrain vit_tiny patch 4 + prompting decoder $decoder (width,depth,heads), Fashion-MNIST 16 px, per-rank batch {batch}, {steps} steps/epoch, {cores} cores, loopback')
print(f\"{'ranks':>5} {'threads/rank':>12} {'aggregate img/s':>16} {'img/s per rank':>15} {'scaling eff.':>12}\")
for w, t, r in rows:
    w, t, r = int(w), int(t), float(r)
    eff = f'{100 * r / (w * base):.0f}%' if base else 'n/a'
    print(f'{w:>5} {t:>12} {r:>16.1f} {r / w:>15.1f} {eff:>12}')
    if w > cores:
        print(f'      {w} ranks on {cores} cores: the ranks share the CPUs, so no speed-up is possible here;'
              ' this row measures the all-reduce and scheduling overhead, not scaling.')
"
