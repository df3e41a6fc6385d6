#!/usr/bin/env bash
# The test command of the README: installs what the tests need (idempotent; Debian packages and the local
# Kubernetes binaries, built from Go modules into a cache outside the repository), then runs every test tier
# that exists: unit tests, and integration tests against a real kube-apiserver with fake GPU nodes.
set -euo pipefail
cd "$(dirname "$0")"

e2e/ensure-prereqs.sh
trainer-image/ensure-data.sh
./mvnw -B -ntp verify "$@"
