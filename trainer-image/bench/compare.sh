#!/usr/bin/env bash
# DJL against PyTorch eager on the same shapes and thread count (issue 10 item 1): for each mode,
#   encoder : ViT encoder forward+backward+AdamW on all tokens (DJL VitEncoder vs timm VisionTransformer)
#   pretrain: the MILAN pretraining step (teacher, masking, encoder on 25% visible, prompting decoder, loss,
#             backward, AdamW) — DJL's real step vs a PyTorch port of the reference (torch_bench.py)
# runs `milan-trainer bench` then torch_bench.py (one after the other, never together) and prints one table:
# img/s of each, the ratio DJL / PyTorch, and each one's MFU against the GEMM peak it measured in the same run.
#
#   trainer-image/bench/compare.sh [--model vit_small] [--modes encoder,pretrain] [--batch_size 8]
#                                  [--steps 3] [--warmup 2] [--threads $(nproc)] [--teacher clip]
#                                  [--profile DIR] [--torch-adamw fused|single] [--rounds 1] [--amp off]
# --rounds N: each mode runs N times, DJL and PyTorch alternating (DJL first in odd rounds, PyTorch in even ones), and
# the figure is the median of the N ratios: one pair of runs cannot tell this VM's drift (the same PyTorch
# command gave 3.30-4.36 img/s four times in a row) from a difference.
# --amp off|fp16|bf16: autocast around the forwards and the loss on both sides (milan-trainer bench --amp,
# torch_bench.py --amp; the loss is not scaled).
# --torch-adamw: PyTorch's AdamW implementation, fused (default: the kernel our trainer runs too) or single (the
# single-tensor loop, PyTorch's CPU default).
# --profile DIR: op profiles of each side's last step, one Chrome trace per phase, in DIR/{djl,torch}-<mode>/
# (that step's timings then include the profiler's cost).
#
# Needs the PyTorch venv (bench/venv.sh makes it under /var/cache/milan/bench-venv on first use: several GB of
# PyPI wheels; not for CI). Env: MILAN_BUILD_DIR, MILAN_BENCH_VENV, JAVA_OPTS; glibc malloc variables such as
# MALLOC_TRIM_THRESHOLD_ and MALLOC_ARENA_MAX (the trainer image sets all three) reach both runs alike
# (docs/benchmarks.md "What is left").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
model=vit_small modes=encoder,pretrain batch=8 steps=3 warmup=2 threads=$(nproc) teacher=clip profile= adamw=fused rounds=1 amp=off
while (($#)); do
  case $1 in
    --model) model=$2 ;; --modes) modes=$2 ;; --batch_size) batch=$2 ;; --steps) steps=$2 ;;
    --warmup) warmup=$2 ;; --threads) threads=$2 ;; --teacher) teacher=$2 ;; --profile) profile=$2 ;;
    --torch-adamw) adamw=$2 ;; --rounds) rounds=$2 ;; --amp) amp=$2 ;;
    *) echo "compare.sh: unknown flag $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds is a positive integer, got $rounds" >&2; exit 2; }
[[ $amp == off || $amp == fp16 || $amp == bf16 ]] || { echo "compare.sh: --amp is off, fp16 or bf16, got $amp" >&2; exit 2; }
[[ $adamw == fused || $adamw == single ]] || { echo "compare.sh: --torch-adamw is fused or single, got $adamw" >&2; exit 2; }
source "$here/venv.sh"
source "$here/classpath.sh"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "load before: $(uptime)"
IFS=, read -ra mode_list <<<"$modes"
run_djl() {
  echo "== DJL $mode $model (round $round)" >&2
  # shellcheck disable=SC2086
  out=$(java ${JAVA_OPTS:--Xmx8g} -cp "$classpath" io.milan.trainer.cli.MilanTrainer bench "${djl[@]}" 2>/dev/null)
  printf '%s\n' "$out" >&2
  sed -n "s/^BENCH_JSON /$round /p" <<<"$out" >>"$results"
}
run_torch() {
  echo "== PyTorch $mode $model (round $round)" >&2
  out=$("$py" "$here/torch_bench.py" --mode "$mode" "${torch[@]}")
  printf '%s\n' "$out" >&2
  sed -n "s/^BENCH_JSON /$round /p" <<<"$out" >>"$results"
}
for ((round = 1; round <= rounds; round++)); do
  for mode in "${mode_list[@]}"; do
    common=(--model "$model" --batch_size "$batch" --steps "$steps" --warmup "$warmup" --threads "$threads"
      --teacher "$teacher" --amp "$amp")
    djl=("${common[@]}") torch=("${common[@]}")
    [ "$adamw" = single ] && torch+=(--no-fused_adamw)
    [ "$mode" = encoder ] && djl+=(--encoder-only)
    [ -n "$profile" ] && djl+=(--profile "$profile/djl-$mode-$round") torch+=(--profile "$profile/torch-$mode-$round")
    if ((round % 2)); then run_djl; run_torch; else run_torch; run_djl; fi
  done
done
echo "load after: $(uptime)"
"$py" - "$results" <<'PY'
import json, statistics, sys
rows = []
for line in open(sys.argv[1]):
    if line.strip():
        rnd, text = line.split(" ", 1)
        rows.append(dict(json.loads(text), round=int(rnd)))
by = {(r["mode"], r["impl"], r["round"]): r for r in rows}
rounds = sorted(dict.fromkeys(r["round"] for r in rows))
pct = lambda r: f"{100 * r['mfu']:.1f}%" if r.get("mfu") is not None else "n/a"
print(f"{'mode':<9} {'model':<10} {'batch':>5} {'thr':>3} {'round':>5} {'DJL img/s':>10} {'torch img/s':>11}"
      f" {'DJL/torch':>9} {'DJL GF/s':>9} {'torch GF/s':>10} {'DJL MFU':>8} {'torch MFU':>9} {'peak DJL':>9}"
      f" {'peak torch':>10}")
for mode in dict.fromkeys(r["mode"] for r in rows):
    ratios = []
    for rnd in rounds:
        d, t = by.get((mode, "djl", rnd)), by.get((mode, "torch", rnd))
        if not d or not t:
            print(f"{mode} round {rnd}: missing a result (djl={bool(d)}, torch={bool(t)})"); continue
        ratios.append(d["img_per_s"] / t["img_per_s"])
        print(f"{mode:<9} {d['model']:<10} {d['batch']:>5} {d['threads']:>3} {rnd:>5} {d['img_per_s']:>10.2f}"
              f" {t['img_per_s']:>11.2f} {ratios[-1]:>8.2f}x {d['achieved_gflops']:>9.1f} {t['achieved_gflops']:>10.1f}"
              f" {pct(d):>8} {pct(t):>9} {d['peak_gflops'] or 0:>9.1f} {t['peak_gflops'] or 0:>10.1f}")
        print("  ms/phase DJL  : " + ", ".join(f"{k} {v:.0f}" for k, v in d["phase_ms"].items()))
        print("  ms/phase torch: " + ", ".join(f"{k} {v:.0f}" for k, v in t["phase_ms"].items()))
    if len(ratios) > 1:
        print(f"{mode}: DJL / torch, median of {len(ratios)} rounds: {statistics.median(ratios):.2f}x"
              f" (rounds {', '.join(f'{x:.2f}x' for x in ratios)})")
PY
