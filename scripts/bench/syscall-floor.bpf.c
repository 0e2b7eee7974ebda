/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The least a tracer that watches every system call pays: one empty program on the raw sys_enter tracepoint and one
 * on sys_exit, as a tracer built on them attaches (Falco's modern eBPF probe dispatches every system call from these
 * two tracepoints, then filters and captures). Counts the calls so the loader can show the programs ran.
 * Built by scripts/bench/syscall-floor.sh.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 enters = 0;
__u64 exits = 0;

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id)
{
	__sync_fetch_and_add(&enters, 1);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	__sync_fetch_and_add(&exits, 1);
	return 0;
}
