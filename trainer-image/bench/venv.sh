#!/usr/bin/env bash
# Sourced by compare.sh and data_pipeline.sh: makes (once) the PyTorch venv the comparisons run in and sets $py.
# Kept out of the repo and out of CI: PyPI's Linux torch 2.7.1 wheel is the CUDA build and pulls ~3 GB of
# nvidia-* wheels (only pypi.org is reachable here, so the CPU-only wheel index is not an option).
#   MILAN_BENCH_VENV (default /var/cache/milan/bench-venv)
# torch 2.7.1 = the libtorch DJL 0.36 uses; torchvision 0.22.1 is its matching release (timm needs it).
venv="${MILAN_BENCH_VENV:-/var/cache/milan/bench-venv}"
if [ ! -f "$venv/.milan-ready" ]; then
  echo "creating $venv (torch==2.7.1, torchvision==0.22.1, timm, pillow from PyPI; several GB, once) ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q torch==2.7.1 torchvision==0.22.1 timm pillow numpy >&2
  touch "$venv/.milan-ready"
fi
py="$venv/bin/python"
