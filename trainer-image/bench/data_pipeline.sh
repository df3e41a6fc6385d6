#!/usr/bin/env bash
# Data pipeline per core (issue 10 item 2): decode + RandomResizedCrop(224, scale 0.2-1, bicubic) + flip +
# normalise on the same ~500x375 JPEGs, ours (io.milan.trainer.data.LoaderBenchmark: the system's libjpeg-turbo
# through TurboJPEG, OpenCV's decoder without it; our PIL-equivalent resampling, into batch buffers, 1 worker
# thread) against Pillow + torchvision on 1 thread.
# Prints both in images/s and the ratio ours / Pillow (the figure), and per CPU-second of each process (JIT and GC
# included), which is steadier than wall-clock time when others load the machine.
#   trainer-image/bench/data_pipeline.sh [--images 1024]
# 1,024 by default: the timed epoch then lasts ~3 s (256 gave ~1 s, which swung with the load) and the 3 warm-up
# epochs leave the hot loops compiled as in a long training run.
# JPEGs are made once (photo-like: Fashion-MNIST upscaled over smooth colour fields, plus noise) and cached in
# ${MILAN_BENCH_JPEGS:-/var/cache/milan/bench-jpegs}. Needs the bench venv (bench/venv.sh). Env: MILAN_BUILD_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
images=1024
while (($#)); do
  case $1 in
    --images) images=$2; shift 2 ;;
    *) echo "data_pipeline.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
source "$here/venv.sh"
source "$here/classpath.sh"
jpegs="${MILAN_BENCH_JPEGS:-/var/cache/milan/bench-jpegs}/$images"
if [ ! -f "$jpegs/.done" ]; then
  echo "writing $images JPEGs to $jpegs ..." >&2
  rm -rf "$jpegs" && mkdir -p "$jpegs"
  "$py" "$here/pil_pipeline.py" make-jpegs "$jpegs" "$images"
  touch "$jpegs/.done"
fi
echo "load before: $(uptime)"
# LoaderBenchmark args: images (unused with a folder), max workers, output size, folder. It warms up 3 epochs
# (JIT) and times the 4th; pil_pipeline.py warms up one pass (page cache) and times the 2nd.
out=$(java -cp "$classpath" io.milan.trainer.data.LoaderBenchmark "$images" 1 224 "$jpegs" 2>/dev/null)
printf '%s\n' "$out" >&2
ours=$(sed -n 's/^workers=1: \([0-9.]*\) images\/s$/\1/p' <<<"$out")
ours_cpu=$(sed -n 's/^workers=1: \([0-9.]*\) images per CPU-second$/\1/p' <<<"$out")
out=$("$py" "$here/pil_pipeline.py" time "$jpegs" 2)
printf '%s\n' "$out" >&2
pil_json=$(sed -n 's/^PIL_JSON //p' <<<"$out")
pil=$("$py" -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])' <<<"$pil_json")
pil_cpu=$("$py" -c 'import json,sys; print(json.load(sys.stdin)["images_per_cpu_s"])' <<<"$pil_json")
echo "load after: $(uptime)"
"$py" -c "
ours, pil, ours_cpu, pil_cpu = float('$ours'), float('$pil'), float('$ours_cpu'), float('$pil_cpu')
print(f'{\"pipeline (1 thread)\":<28} {\"images/s\":>9} {\"images/CPU-s\":>13}')
print(f'{\"ours (TurboJPEG + our RRC)\":<28} {ours:>9.1f} {ours_cpu:>13.1f}')
print(f'{\"Pillow + torchvision\":<28} {pil:>9.1f} {pil_cpu:>13.1f}')
print(f'ratio ours / Pillow: {ours / pil:.2f}x  (goal >= 1.5x); per CPU-second {ours_cpu / pil_cpu:.2f}x')"
