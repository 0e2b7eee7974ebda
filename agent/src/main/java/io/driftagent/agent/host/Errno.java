package io.driftagent.agent.host;

/** The errno values the agent's libc and libbpf calls test for, and names for them in log and exception messages. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int E2BIG = 7;
    public static final int EAGAIN = 11;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EOPNOTSUPP = 95;

    private Errno() {
    }

    /** "EPERM (1)" for -1 or 1; the libbpf convention is a negative return. */
    public static String describe(int code) {
        int e = Math.abs(code);
        String name = switch (e) {
            case 1 -> "EPERM: operation not permitted (missing capability, kernel lockdown or seccomp)";
            case 2 -> "ENOENT: no such kernel object (tracepoint or BTF type missing)";
            case 7 -> "E2BIG: argument list too long";
            case 12 -> "ENOMEM: out of memory (locked memory limit?)";
            case 13 -> "EACCES: rejected by the BPF verifier";
            case 14 -> "EFAULT";
            case 16 -> "EBUSY";
            case 22 -> "EINVAL: invalid argument (program type not supported by this kernel?)";
            case 95 -> "EOPNOTSUPP: operation not supported";
            case 524 -> "ENOTSUPP: not supported by this kernel";
            case 4001, 4002, 4003 -> "LIBBPF_ERRNO: malformed BPF object";
            case 4007 -> "LIBBPF_ERRNO__PROG2BIG";
            case 4008 -> "LIBBPF_ERRNO__KVER";
            default -> "errno " + e;
        };
        return name + " (" + e + ")";
    }
}
