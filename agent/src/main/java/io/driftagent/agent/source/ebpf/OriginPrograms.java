package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.host.Errno;
import io.driftagent.agent.provenance.WriteRecordLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-tracking programs of {@code exec.bpf.o} (origin.bpf.c): which to load, their configuration (the host's
 * mount namespace, the agent's pid) and their links. Only {@code origin_openat} is required for write tracking; the
 * other open calls and the TCP connect hook are attached when the kernel has them. A failure here never touches the
 * exec program: write tracking is then off, and said so.
 */
final class OriginPrograms implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OriginPrograms.class);
    static final String REQUIRED = "origin_openat";
    static final List<String> PROGRAMS = List.of(REQUIRED, "origin_openat2", "origin_open", "origin_creat", "origin_exec",
            "origin_connect");
    static final String CONFIG_MAP = "origin_config";
    static final String COUNTERS_MAP = "origin_counters";
    private static final Pattern NS_LINK = Pattern.compile("mnt:\\[(\\d+)]");

    private final LibbpfBindings bindings;
    private final List<Pointer> links;
    private final int countersFd;
    private final int possibleCpus;

    private OriginPrograms(LibbpfBindings bindings, List<Pointer> links, int countersFd) {
        this.bindings = bindings;
        this.links = links;
        this.countersFd = countersFd;
        this.possibleCpus = Math.max(1, bindings.libbpf().libbpf_num_possible_cpus());
    }

    /** The BTF-typed one: a kernel without tp_btf still tracks opens and connects without it. */
    static final String BTF_PROGRAM = "origin_exec";

    /** Which write programs to load: all, all but the BTF-typed one, or none. */
    enum Selection { ALL, NO_BTF, NONE }

    /** Before load: the write programs load only as selected. */
    static void setAutoload(Libbpf libbpf, Pointer obj, Selection selection) {
        for (String name : PROGRAMS) {
            Pointer program = libbpf.bpf_object__find_program_by_name(obj, name);
            if (program != null) {
                boolean load = selection == Selection.ALL
                        || selection == Selection.NO_BTF && !name.equals(BTF_PROGRAM);
                libbpf.bpf_program__set_autoload(program, load);
            }
        }
    }

    /**
     * After load: configures and attaches the write programs of a loaded object.
     *
     * @throws IOException when write tracking cannot run (the reason in the message); nothing stays attached then
     */
    static OriginPrograms attach(LibbpfBindings bindings, Pointer obj, Path proc) throws IOException {
        Libbpf libbpf = bindings.libbpf();
        int configFd = libbpf.bpf_object__find_map_fd_by_name(obj, CONFIG_MAP);
        if (configFd < 0) {
            throw new IOException("BPF object has no map " + CONFIG_MAP);
        }
        long hostMountNs = hostMountNamespace(proc);
        Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
        Pointer value = Memory.allocateDirect(bindings.runtime(), 8);
        key.putInt(0, 0);
        value.putInt(0, (int) hostMountNs);
        value.putInt(4, (int) ProcessHandle.current().pid());
        if (libbpf.bpf_map_update_elem(configFd, key, value, 0) != 0) {
            throw new IOException("cannot write " + CONFIG_MAP + ": " + Errno.describe(-bindings.runtime().getLastError()));
        }
        List<Pointer> links = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : PROGRAMS) {
            Pointer program = libbpf.bpf_object__find_program_by_name(obj, name);
            if (program != null && libbpf.bpf_program__fd(program) < 0) {
                missing.add(name + " (not loaded)");
                continue;
            }
            Pointer link = program == null ? null : libbpf.bpf_program__attach(program);
            if (link == null) {
                String why = program == null ? "not in the object" : Errno.describe(bindings.runtime().getLastError());
                if (name.equals(REQUIRED)) {
                    links.forEach(libbpf::bpf_link__destroy);
                    throw new IOException("attaching " + name + " failed: " + why);
                }
                missing.add(name + " (" + why + ")");
                continue;
            }
            links.add(link);
        }
        if (missing.isEmpty()) {
            LOG.info("write tracking attached: {} (host mount namespace {})", PROGRAMS, hostMountNs);
        } else {
            LOG.warn("write tracking attached without {}: writes through those calls, or the writer's TCP peer, are"
                    + " not seen", missing);
        }
        return new OriginPrograms(bindings, links, libbpf.bpf_object__find_map_fd_by_name(obj, COUNTERS_MAP));
    }

    /**
     * The host's mount namespace: pid 1's; where pid 1's cannot be read (a sandbox that hides it), the agent's own,
     * which is the host's when the agent runs on the host (in a pod, the host's processes are then tracked too).
     */
    static long hostMountNamespace(Path proc) throws IOException {
        try {
            return mountNamespace(proc.resolve("1"));
        } catch (IOException | SecurityException e) {
            long own = mountNamespace(proc.resolve("self"));
            LOG.warn("cannot read pid 1's mount namespace ({}): taking the agent's own ({}) as the host's", e.toString(),
                    own);
            return own;
        }
    }

    /** The mount namespace inode of a process ({@code /proc/<pid>/ns/mnt}). */
    static long mountNamespace(Path processDir) throws IOException {
        String link = Files.readSymbolicLink(processDir.resolve("ns").resolve("mnt")).toString();
        Matcher m = NS_LINK.matcher(link);
        if (!m.matches()) {
            throw new IOException("unexpected mount namespace link " + link + " of " + processDir);
        }
        long ns = Long.parseLong(m.group(1));
        if (ns == 0 || ns > 0xFFFF_FFFFL) {
            throw new IOException("mount namespace out of range: " + link);
        }
        return ns;
    }

    /** The kernel's origin counters summed over CPUs, indexed by {@code WriteRecordLayout.CTR_*}. */
    long[] counters() {
        long[] sums = new long[WriteRecordLayout.CTR_COUNT];
        if (countersFd < 0) {
            return sums;
        }
        Libbpf libbpf = bindings.libbpf();
        Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
        Pointer values = Memory.allocateDirect(bindings.runtime(), 8L * possibleCpus);
        for (int i = 0; i < sums.length; i++) {
            key.putInt(0, i);
            if (libbpf.bpf_map_lookup_elem(countersFd, key, values) != 0) {
                continue;
            }
            for (int cpu = 0; cpu < possibleCpus; cpu++) {
                sums[i] += values.getLong(8L * cpu);
            }
        }
        return sums;
    }

    /** Detaches every write program. Idempotent. */
    @Override
    public void close() {
        for (Pointer link : links) {
            int rc = bindings.libbpf().bpf_link__destroy(link);
            if (rc < 0) {
                LOG.warn("bpf_link__destroy of a write program failed: {}", Errno.describe(rc));
            }
        }
        links.clear();
    }
}
