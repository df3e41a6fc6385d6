#!/usr/bin/env bash
# TensorBoard's own reader on the trainer's event files (issue 23 item 2): a tiny pretraining and a tiny fine-tune
# (Fashion-MNIST at 16 px, vit_tiny patch 4, CPU) with --log_dir, read back by
# tensorboard.backend.event_processing.event_accumulator.EventAccumulator, once while the pretraining still runs
# (after its first epoch) and once after each run. Prints a tag/step/value listing and fails if a reference tag
# is missing, a step is off the reference's epoch_1000x grid, or a perf/ scalar differs from log.txt.
# Outside CI, like the PyTorch comparisons: installs the `tensorboard` package from PyPI into the bench venv.
#
#   trainer-image/bench/tensorboard-check.sh [WORK_DIR]   (default: a new temporary directory, removed at exit)
# Env: MILAN_BENCH_VENV (default /var/cache/milan/bench-venv), MILAN_BUILD_DIR, JAVA_OPTS,
#      FASHION_MNIST (default /usr/share/datasets/fashion-mnist).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${MILAN_BENCH_VENV:-/var/cache/milan/bench-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -c 'import tensorboard' 2>/dev/null || "$py" -m pip install -q tensorboard >&2
source "$here/classpath.sh"
if [ $# -ge 1 ]; then
  work=$1; mkdir -p "$work"
else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
trainer() {
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:--Xmx4g} -cp "$classpath" io.milan.trainer.cli.MilanTrainer "$@"
}
tiny=(--model vit_tiny --input_size 16 --patch_size 4 --batch_size 32 --num_workers 2 --device cpu
  --data_path "$work/data" --checkpoint_interval 1)
[ -d "$work/data" ] || trainer prepare-fashion-mnist --source "${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}" \
  --output "$work/data" --size 16 --train-fraction 0.01 >&2
trainer init-encoder --model vit_tiny --input_size 16 --patch_size 4 --output "$work/teacher.safetensors" >&2
tensorboard_version=$("$py" -c 'import tensorboard; print(tensorboard.__version__)')
echo "tensorboard $tensorboard_version reading milan-trainer's event files in $work"

read_back() { # MODE LOG_DIR OUTPUT_DIR ITERATIONS [--partial]
  "$py" - "$@" <<'PY'
import json, sys, os
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
mode, log_dir, out_dir, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
partial = "--partial" in sys.argv
acc = EventAccumulator(log_dir, size_guidance={"scalars": 0})  # 0: keep every scalar
acc.Reload()
tags = sorted(acc.Tags()["scalars"])
expected = {"pretrain": ["lr", "train_loss"],
            "finetune": ["loss", "lr", "perf/test_acc1", "perf/test_acc5", "perf/test_loss"]}[mode]
problems = [f"missing tag {t}" for t in expected if t not in tags]
grid = {int((it / iterations + e) * 1000) for e in range(1000) for it in range(iterations)}
if partial:
    print(f"-- {mode}, read while training: " + ", ".join(f"{t}: {len(acc.Scalars(t))} scalars" for t in tags))
else:
    print(f"-- {mode}: {log_dir}")
    print(f"{'tag':<16} {'step':>6}  value")
    for t in tags:
        for s in acc.Scalars(t):
            print(f"{t:<16} {s.step:>6}  {s.value:.6g}")
    lines = [json.loads(l) for l in open(os.path.join(out_dir, "log.txt"))]
    for t in tags:
        for s in acc.Scalars(t):
            if t.startswith("perf/"):
                want = lines[s.step][t[len("perf/"):]]
                if abs(s.value - want) > 1e-6 * max(1.0, abs(want)):
                    problems.append(f"{t} at epoch {s.step}: {s.value} but log.txt has {want}")
            elif s.step not in grid:
                problems.append(f"{t}: step {s.step} is not epoch_1000x of an iteration")
        if not t.startswith("perf/") and len(acc.Scalars(t)) != len(lines) * iterations:
            problems.append(f"{t}: {len(acc.Scalars(t))} scalars, expected {len(lines) * iterations}")
if problems:
    print("FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
PY
}

iterations=$((600 / 32)) # 1% of Fashion-MNIST's 60000 training images, batches of 32, one process
echo "== pretrain, 3 epochs, --log_dir $work/tb-pretrain" >&2
trainer pretrain "${tiny[@]}" --epochs 3 --warmup_epochs 1 --blr 1e-3 --mask_ratio 0.75 --use_clip \
  --teacher encoder --teacher_path "$work/teacher.safetensors" --change_decoder --attn_mask --decoder_embed_dim 64 \
  --decoder_depth 2 --decoder_num_heads 4 --output_dir "$work/pretrain" --log_dir "$work/tb-pretrain" \
  > "$work/pretrain.log" 2>&1 &
pid=$!
until [ -s "$work/pretrain/log.txt" ] || ! kill -0 "$pid" 2>/dev/null; do sleep 1; done
if kill -0 "$pid" 2>/dev/null; then
  read_back pretrain "$work/tb-pretrain" "$work/pretrain" "$iterations" --partial
  kill -0 "$pid" 2>/dev/null && echo "   (the pretraining was still running)"
fi
wait "$pid" || { tail -20 "$work/pretrain.log"; exit 1; }
read_back pretrain "$work/tb-pretrain" "$work/pretrain" "$iterations"

echo "== finetune, 2 epochs, --log_dir $work/tb-finetune" >&2
trainer finetune "${tiny[@]}" --epochs 2 --warmup_epochs 1 --lr 2e-3 --nb_classes 10 --aa "" --reprob 0 \
  --output_dir "$work/finetune" --log_dir "$work/tb-finetune" > "$work/finetune.log" 2>&1 \
  || { tail -20 "$work/finetune.log"; exit 1; }
read_back finetune "$work/tb-finetune" "$work/finetune" "$iterations"
echo "OK: TensorBoard $tensorboard_version read every reference tag back"
