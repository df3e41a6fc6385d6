#!/usr/bin/env bash
# The trainer's tests and the demo train on Fashion-MNIST from Debian's dataset-fashion-mnist package.
set -euo pipefail
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  ((EUID == 0)) || { echo "ensure-data.sh: run as root or: sudo apt-get install dataset-fashion-mnist" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
