#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine, as root: installs and starts what the tests need, builds the
# agent image, then runs every kind of test of every module (Maven profile all-tiers: unit, kernel, containers, e2e,
# and the system tests that run the image as the Helm chart's pod). A test that cannot run here fails; a run that
# reports any skipped test fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/host-setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost

echo "[test] building the agent image"
image=$(scripts/build-image.sh drift-agent:test | tail -n1)
echo "[test] image properties: $image"
scripts/test-image.sh "$image"

echo "[test] every module, every tier (mvn verify -P all-tiers), system tests on $image"
# the jar the image holds was built just now from the same sources; the reactor builds it again, identically
DRIFT_IMAGE="$image" mvn -B -ntp verify -P all-tiers "$@"

scripts/check-no-skips.sh
