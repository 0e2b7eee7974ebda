# drift-agent image: build the shaded jar (with the CO-RE BPF object) in one stage, run it on a JRE in another.
#
# NOTE: this Dockerfile could not be built in the project's development/CI environment: no base image registry is
# reachable there (Docker Hub is blocked). Its steps mirror scripts/host-setup.sh and scripts/test.sh, which do run
# in CI. Build it where a registry is reachable:
#   docker build -t drift-agent:0.1.0 .
#
# ---- build stage: JDK + Maven + clang/llvm/libbpf/bpftool for the BPF program ----
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jdk-headless maven clang llvm libbpf-dev bpftool make ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# dependencies first, so source edits reuse the cached dependency layer
COPY pom.xml ./
COPY policy/pom.xml policy/
COPY reporter/pom.xml reporter/
COPY agent/pom.xml agent/
RUN mvn -B -ntp -q dependency:go-offline -DexcludeReactor=true || true
COPY policy policy
COPY reporter reporter
COPY agent agent
# tests need root, a kernel with BPF/fanotify, containerd and dockerd: they run in CI (scripts/test.sh), not here
RUN mvn -B -ntp -DskipTests package \
 && test -f agent/target/drift-agent.jar

# ---- runtime stage: a headless JRE 17, libbpf for the eBPF source, busybox + mount tools for the self-test sandbox ----
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless libbpf1 busybox-static util-linux mount \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man
COPY --from=build /src/agent/target/drift-agent.jar /opt/drift-agent/drift-agent.jar
# JVM sizing for < 96 MiB RSS; the Helm chart sets the same through JAVA_TOOL_OPTIONS (values.yaml jvmOptions)
ENV JAVA_TOOL_OPTIONS="-XX:+UseSerialGC -Xss512k -XX:MaxRAM=128m -Xmx48m -XX:MaxMetaspaceSize=64m -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:ReservedCodeCacheSize=16m -XX:+ExitOnOutOfMemoryError"
# the agent needs root (capabilities are granted by the pod's securityContext, see deploy/helm/drift-agent)
USER 0
EXPOSE 9742
# effective command: java -jar /opt/drift-agent/drift-agent.jar run (the chart passes args: ["run"])
ENTRYPOINT ["java", "-jar", "/opt/drift-agent/drift-agent.jar"]
CMD ["run"]
