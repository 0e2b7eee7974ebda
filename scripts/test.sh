#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine, as root: installs and starts what the tests need, then
# builds and runs every module's tests (unit, kernel, containerd, Docker, registry, Kubernetes mock).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/host-setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost
mvn -B -ntp verify "$@"
