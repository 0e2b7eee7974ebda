#!/usr/bin/env bash
# Builds the drift-agent image on this machine and in CI, where no image registry is reachable and Maven Central is
# reached only with the host's own trust:
#   1. the shaded jar with the host's Maven (agent/target/drift-agent.jar);
#   2. a Debian 12 base image from `mmdebstrap --variant=minbase bookworm` + `docker import`, cached (the tar under
#      $DRIFT_IMAGE_CACHE, the imported image in Docker) keyed by everything that went into it: built once per machine;
#      then the Dockerfile's stages that need no jar (the JDK, the runtime's packages) into Docker's build cache
#      (1 and 2 run in parallel)
#   3. the top-level Dockerfile with that base for both base-image arguments and JAR_SOURCE=context (the jar from 1),
#      `docker build --network host` (apt reaches Debian's mirrors from inside the build that way).
#
# usage: scripts/build-image.sh [TAG]            (default tag: drift-agent:dev)
# Prints the image reference as the LAST line of stdout; everything else goes to stderr.
# Environment:
#   DRIFT_IMAGE_CACHE       where the base tar is cached (default /var/cache/drift-agent-build)
#   DRIFT_IMAGE_SKIP_MAVEN  1: use the agent/target/drift-agent.jar already built (the caller just ran Maven)
#   DRIFT_IMAGE_NEW_BASE    1: make the base again (e.g. to pick up a Debian point release)
# Needs: root, docker, mmdebstrap (scripts/host-setup.sh installs and starts them), Maven and JDK 17.
set -euo pipefail

tag=${1:-drift-agent:dev}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec 3>&1 1>&2 # stdout is for the image reference only

log() { echo "[build-image +${SECONDS}s] $*"; }
die() { echo "build-image: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "must run as root (mmdebstrap, docker)"
for tool in docker mmdebstrap mvn flock; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run scripts/host-setup.sh"
done
docker info >/dev/null 2>&1 || die "dockerd is not running: run scripts/host-setup.sh"

start=$SECONDS
suite=bookworm
arch=$(dpkg --print-architecture)
cache=${DRIFT_IMAGE_CACHE:-/var/cache/drift-agent-build}
# the base is what the slim Debian images are: minbase, merged /usr without the usrmerge package (which would pull in
# perl), no documentation, man pages or translations, no recommends; like them, apt fetches no translations and dpkg
# does not fsync every file (these settings stay in the image's /etc/apt and /etc/dpkg, and speed up the build's apt)
base_opts=(
  --variant=minbase
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --aptopt='APT::Install-Recommends "false"'
  --aptopt='Acquire::Languages "none"'
  --dpkgopt='force-unsafe-io'
)
key=$(printf '%s\n' "$(mmdebstrap --version)" "$suite" "$arch" "${base_opts[@]}" | sha256sum | cut -c1-16)
base_tar=$cache/debian-$suite-$arch-minbase-$key.tar
base_image=drift-agent-build-base:$suite-$arch-$key
mkdir -p "$cache"

# 2. the base, in the background while Maven builds the jar; one maker at a time per cache
make_base() { # (runs where errexit does not apply: every step checks its own status)
  exec 9>"$cache/.lock" && flock 9 || return 1
  if [[ ${DRIFT_IMAGE_NEW_BASE:-0} == 1 ]]; then
    rm -f "$base_tar"
    docker image rm "$base_image" >/dev/null 2>&1
  fi
  if docker image inspect "$base_image" >/dev/null 2>&1; then
    log "base: $base_image (cached image)"
    return 0
  fi
  if [[ ! -f $base_tar || ! -s $base_tar ]]; then
    log "base: mmdebstrap $suite ($arch) -> $base_tar"
    rm -rf "$base_tar.tmp"
    mmdebstrap --quiet --format=tar "${base_opts[@]}" "$suite" "$base_tar.tmp" </dev/null || return 1
    mv "$base_tar.tmp" "$base_tar" || return 1
  fi
  log "base: docker import -> $base_image"
  # docker import keeps no image config: give the base the PATH a Debian image has
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$base_tar" "$base_image" >/dev/null
}
# the stages that need no jar (the JDK, the runtime's packages: apt downloads), built while Maven runs; their cache
# keys are the base image and the instructions, not the build context, so an empty context warms the final build's cache
build_os_stages() {
  local empty
  empty=$(mktemp -d)
  log "base: docker build --target runtime-os (JDK and runtime packages, while the jar builds)"
  DOCKER_BUILDKIT=0 docker build --network host -q -f "$root/Dockerfile" \
    --build-arg BUILD_BASE_IMAGE="$base_image" --build-arg RUNTIME_BASE_IMAGE="$base_image" \
    --target runtime-os "$empty" >/dev/null
  local rc=$?
  rmdir "$empty"
  return $rc
}
(make_base && build_os_stages) > >(sed -u 's/^/[base] /' >&2) 2>&1 &
base_pid=$!

# 1. the jar
jar=$root/agent/target/drift-agent.jar
if [[ ${DRIFT_IMAGE_SKIP_MAVEN:-0} == 1 ]]; then
  [[ -s $jar ]] || die "DRIFT_IMAGE_SKIP_MAVEN=1 but $jar does not exist"
  log "jar: $jar (prebuilt)"
else
  log "jar: mvn package"
  if ! (cd "$root" && mvn -B -ntp -q -pl agent -am package -DskipTests); then
    wait "$base_pid" || true # let the base finish into the cache: the next run needs it
    die "the Maven build failed"
  fi
fi
wait "$base_pid" || die "making the base image or its stages failed (see [base] lines above)"
log "jar and base ready after $((SECONDS - start)) s"

# 3. the image, from the same Dockerfile an ordinary builder uses
version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/pom.xml" | head -1)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git -C "$root" log -1 --format=%cI 2>/dev/null || echo unknown)
log "docker build -> $tag"
DOCKER_BUILDKIT=0 docker build --network host \
  --build-arg BUILD_BASE_IMAGE="$base_image" \
  --build-arg RUNTIME_BASE_IMAGE="$base_image" \
  --build-arg JAR_SOURCE=context \
  --build-arg VERSION="${version:-unknown}" \
  --build-arg REVISION="$revision" \
  --build-arg CREATED="$created" \
  --target runtime -t "$tag" "$root"
size=$(docker image inspect -f '{{.Size}}' "$tag")
log "built $tag: $((size / 1000000)) MB ($size bytes) in $((SECONDS - start)) s"
echo "$tag" >&3
