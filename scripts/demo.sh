#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: installs what is needed, builds the agent jar and runs the
# built-in demo (a sandbox container, an image binary exec'd: no alert; a dropped binary exec'd: an alert).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/host-setup.sh
mvn -B -ntp -q package -DskipTests
exec java -jar agent/target/drift-agent.jar demo "$@"
