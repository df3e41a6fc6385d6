#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine. If none runs, starts Debian's docker.io (e2e/ensure-prereqs.sh
# installs it; there is no systemd on the build machines, so nothing starts it) as dockerd with the runc-nosysres wrapper as
# its default runtime: these VMs lack CAP_SYS_RESOURCE, so privileged containers (Kind nodes) fail under the
# plain runc. Plain builds and runs are unaffected by the wrapper.
# Idempotent; an engine that is already running is left alone (a warning says if it lacks the wrapper).
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/strict.sh"

here=$(cd "$(dirname "$0")" && pwd)
cache=${MILAN_CACHE:-/var/cache/milan}
wrapper=/usr/local/sbin/runc-nosysres
log=$cache/dockerd.log
timeout_s=${MILAN_DOCKERD_TIMEOUT:-120}

engine_up() { docker info >/dev/null 2>&1; }

if engine_up; then
  runtime=$(docker info --format '{{.DefaultRuntime}}')
  capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
  # CAP_SYS_RESOURCE is capability 24 of the bounding set.
  if [[ $runtime != runc-nosysres ]] && ((!((0x$capbnd >> 24) & 1))); then
    echo "dockerd.sh: a Docker engine already runs with default runtime '$runtime'; privileged containers" \
      "may fail on this machine (no CAP_SYS_RESOURCE). Builds are fine." >&2
  fi
  exit 0
fi

command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd is missing; run e2e/ensure-prereqs.sh" >&2; exit 1; }

install -D -m 0755 "$here/runc-nosysres" "$wrapper"
mkdir -p "$cache"

echo "dockerd.sh: starting dockerd (log: $log)" >&2
# setsid: the daemon must outlive this script and the shell that called it.
setsid nohup dockerd \
  --add-runtime "runc-nosysres=$wrapper" \
  --default-runtime runc-nosysres \
  --pidfile /run/milan-dockerd.pid \
  >>"$log" 2>&1 </dev/null &

# Wait for the API socket to answer (bounded poll, not a fixed sleep).
for ((i = 0; i < timeout_s; i++)); do
  engine_up && break
  if ! kill -0 $! 2>/dev/null; then
    echo "dockerd.sh: dockerd exited; last log lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
engine_up || { echo "dockerd.sh: dockerd did not answer within ${timeout_s}s" >&2; tail -n 20 "$log" >&2; exit 1; }
docker info --format 'dockerd.sh: engine {{.ServerVersion}}, default runtime {{.DefaultRuntime}}, storage {{.Driver}}' >&2
