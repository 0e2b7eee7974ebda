# The medians of syscall-tax.c's rounds, agent off and on (lines "round N off: getppid X open+close Y mmap+munmap Z"):
# used by syscall-tax.sh and syscall-floor.sh.
{ mode = $3 == "off:" ? "off" : "on"; g[mode] = g[mode] " " $5; o[mode] = o[mode] " " $7; m[mode] = m[mode] " " $9 }
function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
    printf "median ns/op        off      on   added\n"
    printf "getppid        %8.1f %7.1f %7.1f\n", median(g["off"]), median(g["on"]), median(g["on"]) - median(g["off"])
    printf "open+close     %8.1f %7.1f %7.1f\n", median(o["off"]), median(o["on"]), median(o["on"]) - median(o["off"])
    printf "mmap+munmap    %8.1f %7.1f %7.1f\n", median(m["off"]), median(m["on"]), median(m["on"]) - median(m["off"])
}
