#!/usr/bin/env bash
# The peak memory of one pretraining step above what the process holds at its start (activations saved for the
# backward, the teacher's targets, temporaries): `milan-trainer bench`'s "step memory" line, for a list of batch
# sizes. On the CPU it reads the peak resident set, so every tensor above 64 KiB gets its own mapping here
# (MALLOC_MMAP_THRESHOLD_=65536) and leaves the resident set when freed; the timings of this script are therefore
# not the trainer's (use bench.sh for those). On a GPU (--device is the bench's: the CUDA image) it reads the
# CUDA caching allocator's statistics.
#   trainer-image/bench/step-memory.sh --model vit_base --batch_sizes "16 64" [other bench flags, e.g. --amp bf16]
# Env: MILAN_BUILD_DIR (compile dir), JAVA_OPTS (default -Xmx2g: the tensors live outside the Java heap).
set -euo pipefail
batch_sizes="16 64"
args=()
while (($#)); do
  case $1 in
    --batch_sizes) batch_sizes=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
source "$(dirname "$0")/classpath.sh"
export MALLOC_MMAP_THRESHOLD_=65536
for b in $batch_sizes; do
  # shellcheck disable=SC2086
  out=$(java ${JAVA_OPTS:--Xmx2g} -cp "$classpath" io.milan.trainer.cli.MilanTrainer bench --steps 1 --warmup 1 \
    --peak_size 0 "${args[@]}" --batch_size "$b" 2>/dev/null)
  printf 'batch %4d: %s\n' "$b" "$(grep '^step memory: ' <<<"$out")"
done
