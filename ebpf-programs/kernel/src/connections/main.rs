//! Kernel side of `govkit trace connections`.
//!
//! Socket lifetimes are tracked entirely in kernel maps: one record per live
//! TCP socket of a traced process, written when it is opened, updated in
//! place when it enters CLOSE_WAIT, dropped when it reaches CLOSE, so a
//! short-lived connection never produces a ring-buffer record. A record
//! lives in the socket's slot of the `SLOTS` array (an array access to
//! write and to drop, no locks, no allocation) or, when another socket
//! holds that slot, in the `SOCKS` hash map. User space reads both
//! periodically to find the long-lived ones.
//!
//! The opening user stack is unwound here with call-frame rows that user
//! space learned from the binaries' DWARF CFI (`UNWIND`, keyed by process
//! and pc). When the walk reaches a pc with no row yet, the registers and a
//! copy of the user stack from that frame go to user space (`EVENTS`), which
//! unwinds them with gimli and installs the rows: each call site is unwound
//! in user space once, then by the kernel with a few map lookups.
//!
//! Modules: `records` (the socket records and how an open claims, takes
//! over and frees them), `stack` (unwinding the opening stack, the call-site
//! cache, captures), `task` (the current task and its user registers), and
//! one per program family: `state_hook` (raw tracepoints on socket state
//! changes), `accept` (the syscall-tracepoint and `fexit` accept hooks),
//! `cgroup` (the cgroup `connect`/`getpeername` hooks). The configuration
//! user space writes before load, the counters and the `--pid` filter are
//! here, with the helpers every program uses.
#![no_std]
#![no_main]
// The BPF target has no `AtomicU64::compare_exchange`; the intrinsic lowers
// to the BPF compare-and-exchange instruction (cpu v3, Linux 5.12+).
#![feature(core_intrinsics)]
#![allow(
    internal_features,
    reason = "core_intrinsics is the only way to emit BPF compare-and-exchange"
)]
#![allow(
    unsafe_code,
    reason = "eBPF programs read kernel and user memory through helpers"
)]

mod accept;
mod cgroup;
mod records;
mod stack;
mod state_hook;
mod task;

use aya_ebpf::{
    helpers::{bpf_ktime_get_coarse_ns, bpf_ktime_get_ns, bpf_probe_read_kernel},
    macros::map,
    maps::{HashMap, PerCpuArray},
};
use govkit_ebpf_common::{KernelOffsets, SLOT_BITS, counter};

// ---- configuration written by user space before load (.rodata) ----

/// Kernel struct offsets, from the running kernel's BTF.
#[unsafe(no_mangle)]
pub(crate) static OFFSETS: KernelOffsets = KernelOffsets {
    task_files: 0,
    files_fdt: 0,
    fdtable_fd: 0,
    fdtable_max_fds: 0,
    file_private_data: 0,
    socket_sk: 0,
    sk_protocol: 0,
    skc_family: 0,
    skc_num: 0,
    skc_dport: 0,
    skc_rcv_saddr: 0,
    skc_daddr: 0,
    skc_v6_rcv_saddr: 0,
    skc_v6_daddr: 0,
    skc_state: 0,
    task_flags: 0,
    task_stack: 0,
    skc_cookie: 0,
    sk_socket: 0,
    task_pid: 0,
    task_tgid: 0,
    task_comm: 0,
    task_cgroups: 0,
    css_set_dfl_cgrp: 0,
    cgroup_kn: 0,
    kernfs_node_id: 0,
    _pad: 0,
};

/// govkit's own process, never traced: its own sockets (the metrics
/// endpoint's, netlink queries) are not the service's.
#[unsafe(no_mangle)]
pub(crate) static SELF_TGID: u32 = 0;

/// 1 when only the processes in `TARGETS` are traced.
#[unsafe(no_mangle)]
pub(crate) static FILTER_PIDS: u32 = 0;

/// Captures allowed per CPU per second.
#[unsafe(no_mangle)]
pub(crate) static CAPTURES_PER_SEC: u64 = 200;

/// 1 with `--idle`: tracked sockets also record ESTABLISHED (state and
/// endpoints) so that user space can look up how long they have been idle.
/// Off by default: it costs a lookup and an endpoint read per connection.
#[unsafe(no_mangle)]
pub(crate) static TRACK_ESTABLISHED: u32 = 0;

/// Slots in use (`SLOTS` indices are masked with it): all of them unless
/// `GOVKIT_TRACE_SLOTS` says fewer (tests use that to exercise `SOCKS`).
#[unsafe(no_mangle)]
pub(crate) static SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;

/// 1 when `sock_common` has its classic layout (as user space found in
/// BTF): `skc_daddr`, `skc_rcv_saddr`, 4 bytes of hash, `skc_dport`,
/// `skc_num`, `skc_family` in 18 contiguous bytes, and `skc_v6_daddr`
/// right before `skc_v6_rcv_saddr`. Endpoints are then one read (two for
/// IPv6) instead of five.
#[unsafe(no_mangle)]
pub(crate) static PACKED_ENDPOINTS: u32 = 0;

// ---- shared by every program: the counters, the --pid filter, helpers ----

pub(crate) const IPPROTO_TCP: u16 = 6;

#[map]
pub(crate) static TARGETS: HashMap<u32, u8> = HashMap::with_max_entries(1024, 0);

#[map]
pub(crate) static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counter::COUNT, 0);

/// `CLOCK_MONOTONIC` (`bpf_ktime_get_ns`), the clock user space compares
/// with.
#[inline(always)]
pub(crate) fn now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_ns() }
}

/// `CLOCK_MONOTONIC_COARSE` (`bpf_ktime_get_coarse_ns`, Linux 5.11+), for
/// the cgroup hooks' open times (tracing programs may not call it): up to
/// a scheduler tick behind `now_ns`, and it reads no clock source (on a VM
/// a TSC read costs 50-80 ns, twice per connection). Ages are reported in
/// seconds: a tick of error is nothing to them.
#[inline(always)]
pub(crate) fn coarse_now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_coarse_ns() }
}

#[inline(always)]
pub(crate) fn count(index: u32) {
    if let Some(c) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, programs do not preempt each other on a CPU.
        unsafe { *c += 1 };
    }
}

#[inline(always)]
pub(crate) fn rodata<T: Copy>(v: &T) -> T {
    // SAFETY: reading our own static; volatile keeps the compiler from
    // folding the placeholder value user space overwrites before load.
    unsafe { core::ptr::read_volatile(v) }
}

#[inline(always)]
pub(crate) fn traced(tgid: u32) -> bool {
    if tgid == rodata(&SELF_TGID) {
        return false;
    }
    if rodata(&FILTER_PIDS) == 0 {
        return true;
    }
    // SAFETY: the value is not used, only its presence.
    unsafe { TARGETS.get(&tgid) }.is_some()
}

#[inline(always)]
pub(crate) fn kread<T>(addr: u64) -> Result<T, i32> {
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe { bpf_probe_read_kernel(addr as *const T) }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
