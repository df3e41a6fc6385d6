#!/usr/bin/env bash
# `milan-trainer bench` from the source tree: MILAN pretraining step (or --encoder-only) timed phase by phase on
# synthetic input, with img/s, achieved GFLOP/s, the measured GEMM peak and MFU.
#   trainer-image/bench/bench.sh --model vit_small --batch_size 8 --steps 5 --warmup 2 [--threads 2]
#   trainer-image/bench/bench.sh --model vit_base --encoder-only
# Env: MILAN_BUILD_DIR (compile dir), JAVA_OPTS (default -Xmx8g).
set -euo pipefail
source "$(dirname "$0")/classpath.sh"
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--Xmx8g} -cp "$classpath" io.milan.trainer.cli.MilanTrainer bench "$@"
