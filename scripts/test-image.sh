#!/usr/bin/env bash
# Checks the properties of the built agent image that a pod depends on, by running it:
#   - its size is at most 180 MB (docker image inspect .Size; of it about 26 MB are the class data sharing archive,
#     which saves RSS and about 1 s of start-up CPU on every node: docs/benchmarks.md "Footprint");
#   - it is configured as the chart expects (uid 0, the java command line carries the native-stub settings, so the
#     chart's JAVA_TOOL_OPTIONS cannot drop them; OCI labels; the JRE has the modules reached only at run time; the
#     class data sharing archive maps with the chart's JAVA_TOOL_OPTIONS);
#   - `policy validate` works with a read-only root and a noexec /tmp;
#   - `run` attaches the eBPF exec source with a read-only root, a noexec /tmp and the chart's JAVA_TOOL_OPTIONS, and
#     writes no native library to /tmp (jffi's stub is loaded from the image, not extracted).
# usage: scripts/test-image.sh [IMAGE]     (default: drift-agent:dev; build it with scripts/build-image.sh)
# Needs root and dockerd (the run check has the host's pid namespace and the chart's capabilities, as its pod has).
# Prints one line per check and "image: N passed, M failed"; exits non-zero when a check fails.
set -uo pipefail

image=${1:-drift-agent:dev}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
max_bytes=180000000
passed=0
failed=0
work=$(mktemp -d)
container=drift-agent-image-test-$$
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "test-image: no image $image (build it with scripts/build-image.sh)" >&2
  echo "image: 0 passed, 1 failed"
  exit 1
fi

# 1. size
size=$(docker image inspect -f '{{.Size}}' "$image")
if ((size <= max_bytes)); then
  pass "the image is at most 180 MB ($size bytes)"
else
  fail "the image is at most 180 MB" "$size bytes"
fi

# 2. configuration
config=$(docker image inspect -f '{{.Config.User}}|{{json .Config.Entrypoint}}|{{index .Config.Labels "org.opencontainers.image.version"}}|{{index .Config.Labels "org.opencontainers.image.revision"}}' "$image")
IFS='|' read -r user entrypoint label_version label_revision <<<"$config"
problems=()
[[ $user == 0 || $user == root ]] || problems+=("user is '$user', not 0")
[[ $entrypoint == *'"-Djffi.boot.library.path=/opt/drift-agent/native"'* ]] ||
  problems+=("the entrypoint does not point jffi at the unpacked stub: $entrypoint")
[[ -n $label_version && -n $label_revision ]] || problems+=("OCI labels version/revision missing")
modules=$(docker run --rm --network none --entrypoint /opt/drift-agent/jre/bin/java "$image" -XX:-UsePerfData --list-modules 2>/dev/null)
for module in java.base jdk.crypto.ec jdk.httpserver jdk.unsupported java.management jdk.management java.net.http; do
  grep -q "^$module@" <<<"$modules" || problems+=("the JRE lacks $module")
done
# -Xshare:on fails the JVM when the archive does not map (another JRE or jar than it was made for, flags it forbids)
chart_jvm_flags=$(awk '/^jvmOptions: >-/ {on = 1; next} on && /^  / {sub(/^ +/, ""); printf "%s ", $0; next} {on = 0}' \
  "$root/deploy/helm/drift-agent/values.yaml")
cds=$(docker run --rm --network none --entrypoint /opt/drift-agent/jre/bin/java -e JAVA_TOOL_OPTIONS="$chart_jvm_flags" \
  "$image" -XX:-UsePerfData -Xshare:on -XX:SharedArchiveFile=/opt/drift-agent/drift-agent.jsa \
  -Djffi.boot.library.path=/opt/drift-agent/native \
  -Xlog:class+load=info -jar /opt/drift-agent/drift-agent.jar --help 2>&1)
grep -q 'source: shared objects file' <<<"$cds" ||
  problems+=("the class data sharing archive does not map: $(tail -3 <<<"$cds")")
[[ $entrypoint == *'"-XX:SharedArchiveFile=/opt/drift-agent/drift-agent.jsa"'* ]] ||
  problems+=("the entrypoint does not map the class data sharing archive: $entrypoint")
stubs=$(docker run --rm --network none --entrypoint /bin/ls "$image" /opt/drift-agent/native 2>&1)
grep -qx 'libjffi-1.2.so' <<<"$stubs" || problems+=("no libjffi-1.2.so in /opt/drift-agent/native: $stubs")
if ((${#problems[@]} == 0)); then
  pass "the image runs as uid 0 with the native stubs on the java command line, OCI labels and the JRE's modules"
else
  fail "the image's configuration" "$(IFS=';'; echo "${problems[*]}")"
fi

# 3. policy validate, read-only root, noexec /tmp
cat >"$work/policy.yaml" <<'YAML'
apiVersion: drift.agent/v1
kind: DriftPolicy
rules:
  - name: alert-everywhere
    priority: 10
    action: alert
YAML
out=$(docker run --rm --network none --read-only --tmpfs /tmp:rw,noexec,nosuid,size=16m \
  -v "$work/policy.yaml:/etc/drift-agent/policy.yaml:ro" "$image" policy validate /etc/drift-agent/policy.yaml 2>&1)
rc=$?
if ((rc == 0)) && grep -q 'policy.yaml: valid' <<<"$out"; then
  pass "policy validate works with a read-only root and a noexec /tmp"
else
  fail "policy validate with a read-only root and a noexec /tmp" "exit $rc: $(tail -5 <<<"$out")"
fi

# 4. run: the eBPF source (libbpf through jnr-ffi, so jffi's stub) loads with a read-only root and a noexec /tmp, the
#    chart's JAVA_TOOL_OPTIONS replacing the image's, and nothing native is written to /tmp
chart_jvm=$(awk '/^jvmOptions: >-/ {on = 1; next} on && /^  / {sub(/^ +/, ""); printf "%s ", $0; next} {on = 0}' \
  "$root/deploy/helm/drift-agent/values.yaml")
[[ -n $chart_jvm ]] || chart_jvm="-Xmx48m"
# the chart's container: host pids, its capabilities (Docker 20.10 knows no BPF/PERFMON: SYS_ADMIN covers them; this
# machine's bounding set has no SYS_RESOURCE, needed only below kernel 5.11), no privilege escalation, no seccomp filter
if docker run -d --name "$container" --network none --pid=host --read-only \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
  --security-opt no-new-privileges --security-opt seccomp=unconfined \
  --tmpfs /tmp:rw,noexec,nosuid,size=16m -e JAVA_TOOL_OPTIONS="$chart_jvm" \
  "$image" run --standalone --source ebpf >/dev/null 2>"$work/run.err"; then
  attached=false
  for _ in $(seq 1 120); do
    if docker logs "$container" 2>&1 | grep -q 'eBPF exec source started on'; then
      attached=true
      break
    fi
    [[ $(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null) == true ]] || break
    sleep 0.5
  done
  written=$(docker exec "$container" find /tmp \( -name 'jffi*' -o -name '*.so' -o -name 'hsperfdata*' \) 2>&1)
  logs=$(docker logs "$container" 2>&1)
  if $attached && [[ -z $written ]]; then
    pass "run attaches the eBPF source with a read-only root, a noexec /tmp and the chart's JAVA_TOOL_OPTIONS, writing no native stub"
  elif ! $attached; then
    fail "run attaches the eBPF source with a read-only root and a noexec /tmp" "no 'eBPF exec source started on' in: $(tail -8 <<<"$logs")"
  else
    fail "run writes no native stub to /tmp" "found: $written"
  fi
else
  fail "run attaches the eBPF source with a read-only root and a noexec /tmp" "docker run: $(cat "$work/run.err")"
fi

echo "image: $passed passed, $failed failed"
((failed == 0))
