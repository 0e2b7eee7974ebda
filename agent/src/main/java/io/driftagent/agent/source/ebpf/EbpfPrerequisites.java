package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.source.SourceUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The checks that give {@link EbpfExecSource#start} a precise reason to refuse before touching the kernel. */
final class EbpfPrerequisites {
    static final String OBJECT_RESOURCE = "/bpf/exec.bpf.o";
    static final String HELPER_READS_OBJECT_RESOURCE = "/bpf/exec-helper-reads.bpf.o";
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;

    /** The deferred-fput callback the program compares task_works entries with to find a #! script's own file. */
    private static final String SCRIPT_FILE_SYMBOL = "____fput";
    private static final int KALLSYMS_LINES_READ = 2_000_000;

    private final Path procSelfStatus;
    private final Path vmlinuxBtf;
    private final Path kallsyms;

    EbpfPrerequisites(Path procSelfStatus, Path vmlinuxBtf) {
        this(procSelfStatus, vmlinuxBtf, Path.of("/proc/kallsyms"));
    }

    EbpfPrerequisites(Path procSelfStatus, Path vmlinuxBtf, Path kallsyms) {
        this.procSelfStatus = procSelfStatus;
        this.vmlinuxBtf = vmlinuxBtf;
        this.kallsyms = kallsyms;
    }

    static EbpfPrerequisites ofThisHost() {
        return new EbpfPrerequisites(Path.of("/proc/self/status"), Path.of("/sys/kernel/btf/vmlinux"),
                Path.of("/proc/kallsyms"));
    }

    /**
     * Empty when the program can find a {@code #!} script's own file; else why not. libbpf resolves the program's
     * {@code ____fput} address from {@code /proc/kallsyms}, which shows addresses only to {@code CAP_SYSLOG} (with
     * {@code perf_event_paranoid} >= 2): a pod without it loads the program, but every script exec then lacks its
     * file and is UNRESOLVED.
     */
    Optional<String> scriptFileDegradation() {
        try (java.util.stream.Stream<String> lines = Files.lines(kallsyms)) {
            Optional<String> line = lines.limit(KALLSYMS_LINES_READ)
                    .filter(l -> l.endsWith(" " + SCRIPT_FILE_SYMBOL)).findFirst();
            if (line.isEmpty()) {
                return Optional.of(kallsyms + " has no " + SCRIPT_FILE_SYMBOL + ": the files of #! scripts cannot be"
                        + " identified (script execs are UNRESOLVED)");
            }
            if (line.get().chars().takeWhile(c -> c != ' ').allMatch(c -> c == '0')) {
                return Optional.of(kallsyms + " hides kernel addresses from this process (no CAP_SYSLOG): the files"
                        + " of #! scripts cannot be identified (script execs are UNRESOLVED); grant CAP_SYSLOG");
            }
            return Optional.empty();
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.of("cannot read " + kallsyms + " (" + e.getMessage() + "): the files of #! scripts may not"
                    + " be identified");
        }
    }

    /** Empty when the checks pass; else why the source cannot start. */
    Optional<String> unmetReason() {
        if (!Files.isReadable(vmlinuxBtf)) {
            return Optional.of("the kernel exposes no BTF (" + vmlinuxBtf + " missing: CONFIG_DEBUG_INFO_BTF is off), "
                    + "so the CO-RE exec program cannot be relocated");
        }
        long caps;
        try {
            caps = effectiveCapabilities();
        } catch (IOException | NumberFormatException e) {
            return Optional.of("cannot read the effective capabilities from " + procSelfStatus + ": " + e.getMessage());
        }
        boolean admin = has(caps, CAP_SYS_ADMIN);
        boolean bpfAndPerfmon = has(caps, CAP_BPF) && has(caps, CAP_PERFMON);
        if (!admin && !bpfAndPerfmon) {
            return Optional.of("not privileged: loading the exec program needs root, or CAP_BPF and CAP_PERFMON "
                    + "(or CAP_SYS_ADMIN); effective capabilities are 0x" + Long.toHexString(caps));
        }
        return Optional.empty();
    }

    private long effectiveCapabilities() throws IOException {
        for (String line : Files.readAllLines(procSelfStatus)) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
            }
        }
        throw new IOException("no CapEff line");
    }

    private static boolean has(long caps, int cap) {
        return (caps & (1L << cap)) != 0;
    }

    static byte[] readObject() throws SourceUnavailableException {
        return readObject(OBJECT_RESOURCE);
    }

    /** Both objects built from {@code exec.bpf.c}: direct kernel reads, and helper reads for older kernels. */
    static ExecObjects readObjects() throws SourceUnavailableException {
        return new ExecObjects(readObject(OBJECT_RESOURCE), readObject(HELPER_READS_OBJECT_RESOURCE));
    }

    static byte[] readObject(String resource) throws SourceUnavailableException {
        try (InputStream in = EbpfPrerequisites.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new SourceUnavailableException("the BPF object " + resource + " is not on the classpath "
                        + "(the agent was built without the eBPF program)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new SourceUnavailableException("cannot read the BPF object " + resource, e);
        }
    }
}
