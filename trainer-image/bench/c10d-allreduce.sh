#!/usr/bin/env bash
# All-reduce bandwidth of libtorch's c10d ProcessGroupGloo (through our shim libmilantorch,
# io.milan.trainer.dist.c10d) between separate processes on 127.0.0.1, beside iperf3's raw loopback TCP
# throughput measured in the same run (bench/torch-gloo-allreduce.py is PyTorch's own figure for the same
# protocol). Prints tables (algbw, busbw as nccl-tests define them, busbw / iperf3); asserts nothing.
#
#   trainer-image/bench/c10d-allreduce.sh [--ranks 2,4] [--sizes-mib 1,4,16,64,100,400] [--iperf-seconds 5]
#
# Env: MILAN_BUILD_DIR (default trainer-image/target) is where the module is compiled; JAVA_OPTS is passed to
# the benchmark JVM.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="${MILAN_BUILD_DIR:-$repo/trainer-image/target}"
cd "$repo"

command -v iperf3 >/dev/null ||
  echo "iperf3 is missing (the table will show n/a for it); e2e/ensure-prereqs.sh installs it" >&2

classpath_file="$build_dir/bench-classpath.txt"
mvn_args=(-q -pl trainer-image compile dependency:build-classpath -Dmdep.outputFile="$classpath_file"
  -Dmilan.buildDir="$build_dir")
./mvnw -o "${mvn_args[@]}" || ./mvnw "${mvn_args[@]}"

export DJL_OFFLINE=true
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -cp "$build_dir/classes:$(cat "$classpath_file")" \
  io.milan.trainer.dist.c10d.C10dAllReduceBench "$@"
