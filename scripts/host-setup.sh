#!/usr/bin/env bash
# Installs and starts everything drift-agent's tests and demo need on a fresh Debian 12 machine (as root).
# Idempotent: a second run only checks. The single source of set-up truth; .ci/run calls it.
set -euo pipefail

log() { echo "[host-setup] $*"; }

if [[ $EUID -ne 0 ]]; then
  echo "host-setup: must run as root (it installs packages and starts containerd/dockerd)" >&2
  exit 2
fi

PACKAGES=(
  openjdk-17-jdk-headless maven
  clang llvm libbpf-dev bpftool           # CO-RE BPF program build
  containerd runc                         # real containers for tests and the demo
  docker.io                               # dockerd for Testcontainers-based tests
  docker-registry skopeo                  # a real OCI registry to pull images from
  prometheus                              # promtool check metrics
  busybox-static python3 iproute2 zstd util-linux procps psmisc
  gcc libc6-dev                           # exec-storm driver compiled by the agent tests
  mmdebstrap                              # the Debian base of the agent image (scripts/build-image.sh)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "host-setup: $what did not come up within ${secs}s" >&2
  return 1
}

mkdir -p /var/log/drift-agent-host
if ! ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
  log "starting containerd"
  mkdir -p /run/containerd /var/lib/containerd
  setsid containerd >/var/log/drift-agent-host/containerd.log 2>&1 < /dev/null &
  wait_for 30 containerd ctr --address /run/containerd/containerd.sock version
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  # no bridge/iptables: test containers need no network, and this keeps dockerd working in a VM
  setsid dockerd --containerd /run/containerd/containerd.sock --iptables=false --bridge=none \
    >/var/log/drift-agent-host/dockerd.log 2>&1 < /dev/null &
  wait_for 60 dockerd docker info || { tail -20 /var/log/drift-agent-host/dockerd.log >&2; exit 1; }
fi

REGISTRY_PORT=${DRIFT_REGISTRY_PORT:-5000}
if ! curl -fsS "http://127.0.0.1:${REGISTRY_PORT}/v2/" >/dev/null 2>&1; then
  log "starting docker-registry on 127.0.0.1:${REGISTRY_PORT}"
  mkdir -p /var/lib/drift-agent-registry
  cat >/var/lib/drift-agent-registry/config.yml <<CFG
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/drift-agent-registry/data
http:
  addr: 127.0.0.1:${REGISTRY_PORT}
CFG
  setsid docker-registry serve /var/lib/drift-agent-registry/config.yml \
    >/var/log/drift-agent-host/registry.log 2>&1 < /dev/null &
  wait_for 30 registry curl -fsS "http://127.0.0.1:${REGISTRY_PORT}/v2/"
fi
log "ready: containerd, dockerd, registry 127.0.0.1:${REGISTRY_PORT}"
