#!/usr/bin/env bash
# `milan-trainer bench` from the source tree: MILAN pretraining step (or --encoder-only) timed phase by phase on
# synthetic input, with img/s, achieved GFLOP/s, the measured GEMM peak and MFU.
#   trainer-image/bench/bench.sh --model vit_small --batch_size 8 --steps 5 --warmup 2 [--threads 2]
#   trainer-image/bench/bench.sh --model vit_base --encoder-only
# Env: MILAN_BUILD_DIR (compile dir), JAVA_OPTS (default -Xmx8g). The step-memory line on the CPU reads the peak
# resident set: tensors above 64 KiB get their own mappings here, so freed memory leaves it (StepMemory).
set -euo pipefail
source "$(dirname "$0")/classpath.sh"
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-65536}
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--Xmx8g} -cp "$classpath" io.milan.trainer.cli.MilanTrainer bench "$@"
