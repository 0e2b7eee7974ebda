# drift-agent image: the shaded agent jar on a jlink'd JRE 17, with libbpf (eBPF source), static busybox (self-test
# canary) and the native stubs the jar would otherwise extract to /tmp at start, on Debian 12 slim. See docs/image.md.
#
# On an ordinary builder (a registry reachable; Maven Central reachable from inside the build):
#   docker build -t drift-agent:0.1.0 .
# builds the jar from source (stage "jar", JAR_SOURCE=maven), then the jar as shipped with its native stubs ("app"),
# the JRE ("jre") and the runtime image ("runtime", the last stage). Every stage runs on the TARGET
# platform and takes its architecture from Debian (dpkg --print-architecture): amd64 and arm64 are supported. An
# arm64 image is built on an arm64 builder, or elsewhere with emulation (docker buildx build --platform linux/arm64,
# QEMU binfmt installed); the BPF object, the jffi stub and the JRE then all come out for arm64.
#
# scripts/build-image.sh builds this same file where no registry is reachable: the base images come from
# mmdebstrap (docker import) and the jar from the host's Maven (JAR_SOURCE=context: agent/target/drift-agent.jar from
# the build context), with the legacy builder, which builds every stage in order: so each stage below must be buildable
# in both modes, and the modes differ only by build arguments.
#
# No "# syntax=" line: the Dockerfile needs only the builder's built-in frontend, and the legacy builder reads it too.

# Base images, digest-pinned: the multi-arch index digest of debian:bookworm-slim as docker-library's repo-info lists
# it. It could not be pulled from the project's machines (no registry): verify it (docker buildx imagetools inspect
# debian:bookworm-slim) when moving the pin; see docs/image.md.
ARG BUILD_BASE_IMAGE=debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241
ARG RUNTIME_BASE_IMAGE=debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241

# ---- jdk: Debian's JDK 17 for the target architecture (jdeps, jlink; the jar stage adds Maven, clang, libbpf-dev) ----
FROM ${BUILD_BASE_IMAGE} AS jdk
# slim images leave out /usr/share/man, where the JDK's postinst registers alternatives for man pages
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jdk-headless ca-certificates-java binutils unzip zip \
 && rm -rf /var/lib/apt/lists/*

# ---- runtime-os: the runtime's operating-system packages (a stage of its own, so it does not wait for the jar) ----
FROM ${RUNTIME_BASE_IMAGE} AS runtime-os
# libbpf1 (+ libelf1, zlib1g): the eBPF exec source, bound through jnr-ffi. busybox-static: /bin/busybox, the self-test
# canary. The self-test sandbox also runs mount, umount, unshare and chroot, from the base (mount, util-linux,
# coreutils). Java's TLS trust is the JRE's cacerts; the PEM bundle is there for anything else.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 busybox-static \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && test -x /bin/busybox && command -v mount && command -v umount && command -v unshare && command -v chroot

# ---- jar: the shaded agent jar (with the CO-RE BPF object), at /out/drift-agent.jar ----
FROM jdk AS jar
# maven: build it here (needs Maven Central); context: take agent/target/drift-agent.jar from the build context, built
# by the host's Maven (scripts/build-image.sh)
ARG JAR_SOURCE=maven
WORKDIR /src
RUN case "$JAR_SOURCE" in \
      maven) apt-get update \
          && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven clang llvm libbpf-dev \
          && rm -rf /var/lib/apt/lists/* ;; \
      context) ;; \
      *) echo "JAR_SOURCE must be maven or context, not '$JAR_SOURCE'" >&2; exit 1 ;; \
    esac
# dependencies first, so source edits reuse the cached dependency layer
COPY pom.xml ./
COPY policy/pom.xml policy/
COPY reporter/pom.xml reporter/
COPY agent/pom.xml agent/
# the system tests' and the benchmarks' modules (the parent pom lists them): only their poms, so that the reactor
# resolves; they are not built here
COPY src/test/pom.xml src/test/
COPY bench/pom.xml bench/
RUN if [ "$JAR_SOURCE" = maven ]; then mvn -B -ntp -q dependency:go-offline -DexcludeReactor=true || true; fi
COPY policy policy
COPY reporter reporter
COPY agent agent
# tests need root, a kernel with BPF/fanotify, containerd and dockerd: they run in CI (scripts/test.sh), not here.
# The BPF object is compiled for this stage's (the target's) architecture.
RUN if [ "$JAR_SOURCE" = maven ]; then \
      BPF_TARGET_ARCH="$(dpkg --print-architecture)" mvn -B -ntp -DskipTests -pl agent -am package; \
    fi \
 && test -s agent/target/drift-agent.jar \
 && mkdir -p /out && cp agent/target/drift-agent.jar /out/drift-agent.jar

# ---- app: the jar as the image holds it, its native stubs unpacked, and the JRE modules it needs ----
FROM jdk AS app
COPY --from=jar /out/drift-agent.jar /build/drift-agent.jar
# Modules: what jdeps finds in the jar, plus what is reached only by reflection or ServiceLoader: jdk.crypto.ec (the
# SunEC provider: ECDHE and EC certificates in TLS to the API server and webhooks), jdk.unsupported (sun.misc.Unsafe,
# jffi), jdk.httpserver (the agent's endpoints), java.management and jdk.management (JVM metrics);
# less java.desktop (10 MB): jdeps finds java.beans only in library code the agent never runs (commons-compress
# pack200, commons-lang3's circuit breaker, Micrometer's logging binder) and in Jackson, which works without it (its
# java.beans support is optional: @ConstructorProperties/@Transient are then not read).
ARG EXTRA_MODULES=jdk.crypto.ec,jdk.unsupported,jdk.httpserver,java.management,jdk.management
ARG EXCLUDED_MODULES=java.desktop
RUN set -eu; \
    arch="$(dpkg --print-architecture)"; \
    case "$arch" in \
      amd64) jffi_dir=x86_64-Linux ;; \
      arm64) jffi_dir=aarch64-Linux ;; \
      *) echo "unsupported architecture: $arch (amd64, arm64)" >&2; exit 1 ;; \
    esac; \
    jar=/build/drift-agent.jar; \
    native=/opt/drift-agent/native; \
    mkdir -p "$native"; \
    # this architecture's native stub, unpacked: jffi would otherwise write it to java.io.tmpdir at first use and fail
    # where /tmp is noexec (the image's java command line points jffi at this file)
    unzip -p "$jar" "jni/$jffi_dir/libjffi-1.2.so" > "$native/libjffi-1.2.so"; \
    test -s "$native/libjffi-1.2.so"; \
    strip --strip-unneeded "$native"/*.so; \
    # every other platform's stubs stay out of the image's copy of the jar
    cp "$jar" /opt/drift-agent/drift-agent.jar; \
    zip -q -d /opt/drift-agent/drift-agent.jar 'jni/*'; \
    found="$(jdeps --ignore-missing-deps --multi-release 17 --print-module-deps "$jar")"; \
    modules="$EXTRA_MODULES"; \
    for m in $(echo "$found" | tr ',' ' '); do \
      case ",$EXCLUDED_MODULES," in *",$m,"*) ;; *) modules="$modules,$m" ;; esac; \
    done; \
    echo "jdeps: $found; excluded: $EXCLUDED_MODULES; jlink: $modules"; \
    echo "$modules" | tr ',' '\n' | sort -u > /build/jre-modules

# ---- jre: jlink'd from this architecture's JDK; rebuilt only when the module list changes ----
FROM jdk AS jre
COPY --from=app /build/jre-modules /build/jre-modules
RUN set -eu; \
    jlink --add-modules "$(paste -sd, /build/jre-modules)" \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output /opt/drift-agent/jre; \
    # Debian's CA set as the JRE's trust store (the jmod's own is the upstream OpenJDK list)
    cp /etc/ssl/certs/java/cacerts /opt/drift-agent/jre/lib/security/cacerts; \
    # jlink keeps the JDK's native symbol tables: strip them to what the dynamic linker needs
    find /opt/drift-agent/jre -name '*.so' -exec strip --strip-unneeded {} +

# ---- runtime ----
FROM runtime-os AS runtime
COPY --from=jdk /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# the JRE first: its layer stays the same from one agent version to the next
COPY --from=jre /opt/drift-agent/jre /opt/drift-agent/jre
COPY --from=app /opt/drift-agent /opt/drift-agent
# JVM sizing for a small RSS (docs/benchmarks.md "Footprint": measured with these flags): serial GC, a small young
# generation (the agent's live heap is a few MiB; eden pages once touched stay resident), small stacks, a capped
# heap, C1 only (no C2 compiler thread and its arenas), a small code cache, the native heap trimmed every 10 s (malloc
# memory freed after a burst of compiling or eBPF loading goes back to the kernel). The Helm chart sets its own JAVA_TOOL_OPTIONS (values.yaml jvmOptions), which replaces this one: so
# nothing the image itself needs is in it; that is on the java command line below.
ENV JAVA_TOOL_OPTIONS="-XX:+UseSerialGC -Xss512k -XX:MaxRAM=128m -Xmx48m -Xmn4m -XX:MaxMetaspaceSize=64m -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:ReservedCodeCacheSize=16m -XX:TrimNativeHeapInterval=10000 -XX:+ExitOnOutOfMemoryError"
# two malloc arenas instead of one per core and thread: the agent's native allocations are few (libbpf, jnr-ffi)
ENV MALLOC_ARENA_MAX=2
# Class data sharing: the classes the agent loads at start, parsed and laid out once here and mapped at every start
# (less RSS, less CPU at start). A training start records them: in a build there is no eBPF or fanotify, so it
# stops at "no exec source could attach", having loaded the configuration, policy, metrics, HTTP and pipeline
# classes (a privileged builder, where a source attaches, is stopped after 60 s); then a static archive of exactly those (the JRE's classes included: jlink made no default archive). The
# java command line below maps it; a JVM that cannot map it (another JRE, another jar) runs without it.
# The same run checks that the JRE runs the jar: a module jlink left out fails here, not on a node.
RUN set -eu; \
    cd /tmp; \
    timeout -s TERM 60 /opt/drift-agent/jre/bin/java -XX:-UsePerfData -Xshare:off \
      -XX:DumpLoadedClassList=/tmp/drift-agent.classlist \
      -Djffi.boot.library.path=/opt/drift-agent/native \
      -jar /opt/drift-agent/drift-agent.jar run --standalone --alerts - --http-bind 127.0.0.1 --http-port 0 \
      > /tmp/training.log 2>&1 || true; \
    grep -q '^io/driftagent/agent/' /tmp/drift-agent.classlist \
      || { cat /tmp/training.log; exit 1; }; \
    /opt/drift-agent/jre/bin/java -Xshare:dump -XX:SharedClassListFile=/tmp/drift-agent.classlist \
      -XX:SharedArchiveFile=/opt/drift-agent/drift-agent.jsa -cp /opt/drift-agent/drift-agent.jar > /tmp/dump.log 2>&1 \
      || { cat /tmp/dump.log; exit 1; }; \
    /opt/drift-agent/jre/bin/java -XX:-UsePerfData -Xshare:on -XX:SharedArchiveFile=/opt/drift-agent/drift-agent.jsa \
      -Djffi.boot.library.path=/opt/drift-agent/native \
      -jar /opt/drift-agent/drift-agent.jar --help > /dev/null; \
    rm -f /tmp/drift-agent.classlist /tmp/training.log /tmp/dump.log
ARG RUNTIME_BASE_IMAGE
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="drift-agent" \
      org.opencontainers.image.description="Kubernetes node agent that detects and blocks container binary drift (eBPF, fanotify)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${RUNTIME_BASE_IMAGE}"
# the agent runs mount/unshare/chroot by name
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# the agent needs root (capabilities are granted by the pod's securityContext, see deploy/helm/drift-agent)
USER 0
EXPOSE 9742
# Nothing is written at start: jffi loads the stub unpacked above instead of extracting them to /tmp
# (which may be noexec), and -XX:-UsePerfData keeps the JVM's hsperfdata file out of /tmp. The class data sharing
# archive is mapped when it matches this JRE and jar; -Xlog:cds=off keeps a mismatch's warning off stdout (alerts).
ENTRYPOINT ["/opt/drift-agent/jre/bin/java", "-XX:-UsePerfData", \
            "-XX:SharedArchiveFile=/opt/drift-agent/drift-agent.jsa", "-Xlog:cds=off", \
            "-Djffi.boot.library.path=/opt/drift-agent/native", \
            "-jar", "/opt/drift-agent/drift-agent.jar"]
CMD ["run"]
