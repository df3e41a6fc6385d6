#!/usr/bin/env bash
# The learning result of docs/finetune.md, reproduced end to end on CPU: does MILAN pretraining help a small ViT
# when only 10% of Fashion-MNIST's training labels are available?
#   teacher  an encoder of this project fine-tuned from scratch with ALL 60,000 labels (stands in for CLIP)
#   (a)      fine-tune from random init on the stratified 10% (6,000 images, seed 0)
#   (b)      MILAN pretraining on all 60,000 training images (no labels) with that teacher, then fine-tune on
#            the same 10% with the same recipe
#   (c)      linear probe of (b)'s pretrained encoder on the same 10%
# Top-1 on the 10,000 test images (val/) of each is printed as a table at the end.
#
# Model: vit_micro (6 blocks of 128, 4 heads) at 16x16 px with 4x4 patches (16 tokens + cls), chosen so the
# whole study runs in about an hour on 2 CPU cores. Seeds are fixed (--seed 0 everywhere).
#
# Usage: trainer-image/experiments/fashion-mnist.sh [--teacher-only] [WORKDIR]
#          (default WORKDIR /var/cache/milan/experiments/fmnist; --teacher-only stops after the teacher, which the
#          CPU image ships for the quickstart, see images/build.sh)
#   MILAN_TRAINER   command that runs the trainer (default: java with trainer-image/target's jars)
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/strict.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
teacher_only=false
if [ "${1:-}" = --teacher-only ]; then teacher_only=true; shift; fi
work=${1:-${MILAN_CACHE:-/var/cache/milan}/experiments/fmnist}
data=${MILAN_CACHE:-/var/cache/milan}/datasets
mkdir -p "$work" "$data"
cd "$work"
read -r -a trainer <<<"${MILAN_TRAINER:-java -cp $root/trainer-image/target/milan-trainer-0.1.0-SNAPSHOT.jar:$root/trainer-image/target/lib/* io.milan.trainer.cli.MilanTrainer}"

full=$data/fashion-mnist-16
tenth=$data/fashion-mnist-16-10pct
[ -d "$full/train" ] || "${trainer[@]}" prepare-fashion-mnist --size 16 --output "$full"
[ -d "$tenth/train" ] || "${trainer[@]}" prepare-fashion-mnist --size 16 --train-fraction 0.1 --seed 0 --output "$tenth"

model=(--model vit_micro --input_size 16 --patch_size 4 --num_workers 2 --device cpu --seed 0)
# One fine-tuning recipe for (a) and (b); only the initialisation and the layer decay differ (layer decay is for
# pretrained encoders; from scratch every layer gets the full rate). No mixup/cutmix/RandAugment/erasing: they
# need far more epochs than this CPU budget.
finetune=("${model[@]}" --nb_classes 10 --epochs 10 --warmup_epochs 1 --batch_size 128 --lr 1e-3 --min_lr 1e-6
  --weight_decay 0.05 --drop_path 0.1 --mixup 0 --cutmix 0 --smoothing 0.1 --aa= --reprob 0)

# step NAME COMMAND...: runs a step unless it finished before (a rerun resumes an interrupted one).
step() {
  local name=$1
  shift
  if [ -f "$name/done" ]; then echo "== $name: done before, skipped"; return; fi
  echo "== $name ($(date +%H:%M:%S)): $*"
  "$@" --output_dir "$name" --resume auto >"$name.log" 2>&1 || { tail -n 20 "$name.log"; return 1; }
  touch "$name/done"
}
# Two steps side by side, one thread each: on 2 cores, two single-threaded libtorch processes do more work than
# one with two threads (this model's operations are too small to split well).
pair() {
  OMP_NUM_THREADS=1 JAVA_TOOL_OPTIONS="-Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1" \
    "$@"
}
last_checkpoint() { ls -1v "$1"/checkpoint-*.safetensors | grep -v optim | tail -n 1; }

step teacher "${trainer[@]}" finetune "${model[@]}" --cls_token --nb_classes 10 --epochs 2 --warmup_epochs 1 \
  --batch_size 256 --lr 1e-3 --weight_decay 0.05 --layer_decay 1.0 --drop_path 0.1 --mixup 0 --cutmix 0 \
  --smoothing 0.1 --aa= --reprob 0 --data_path "$full"
if $teacher_only; then echo "$PWD/$(last_checkpoint teacher)"; exit 0; fi
pair step a-scratch "${trainer[@]}" finetune "${finetune[@]}" --layer_decay 1.0 --data_path "$tenth" &
a=$!
pair step b-pretrain "${trainer[@]}" pretrain "${model[@]}" --batch_size 256 --epochs 1 --warmup_epochs 0 --lr 1e-3 \
  --weight_decay 0.05 --mask_ratio 0.75 --use_clip --teacher encoder --teacher_model vit_micro \
  --teacher_path "$(last_checkpoint teacher)" --change_decoder --attn_mask --decoder_embed_dim 128 \
  --decoder_depth 2 --decoder_num_heads 4 --data_path "$full"
wait "$a"
pair step b-finetune "${trainer[@]}" finetune "${finetune[@]}" --layer_decay 0.75 \
  --finetune "$(last_checkpoint b-pretrain)" --data_path "$tenth" &
b=$!
pair step c-linprobe "${trainer[@]}" linprobe "${model[@]}" --nb_classes 10 --epochs 10 --warmup_epochs 1 \
  --batch_size 256 --lr 3 --finetune "$(last_checkpoint b-pretrain)" --data_path "$tenth"
wait "$b"

best() { python3 -c 'import json,sys; print(max(json.loads(l)["test_acc1"] for l in open(sys.argv[1]) if "test_acc1" in l))' "$1/log.txt"; }
echo
echo "| run | labels | top-1 (10,000 test images) |"
echo "|---|---:|---:|"
echo "| teacher (supervised, stands in for CLIP) | 60,000 | $(best teacher) |"
echo "| (a) fine-tune from random init | 6,000 | $(best a-scratch) |"
echo "| (b) MILAN pretrain (60,000 images, no labels) + fine-tune | 6,000 | $(best b-finetune) |"
echo "| (c) linear probe of (b)'s encoder | 6,000 | $(best c-linprobe) |"
