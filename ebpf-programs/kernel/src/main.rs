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

use core::intrinsics::{AtomicOrdering, atomic_cxchg};

use aya_ebpf::{
    EbpfContext,
    helpers::{
        bpf_get_current_cgroup_id, bpf_get_current_pid_tgid, bpf_get_current_task,
        bpf_get_current_task_btf, bpf_ktime_get_coarse_ns, bpf_ktime_get_ns, bpf_probe_read_kernel,
        bpf_probe_read_kernel_buf, bpf_probe_read_user, bpf_probe_read_user_buf,
    },
    macros::{cgroup_sock_addr, fexit, map, raw_tracepoint, tracepoint},
    maps::{Array, HashMap, LruHashMap, PerCpuArray, RingBuf},
    programs::{FExitContext, RawTracePointContext, SockAddrContext, TracePointContext},
};
use aya_log_ebpf::warn;
use govkit_ebpf_common::{
    Budget, CAPTURE_CHUNK, CAPTURE_STACK_BYTES, Capture, EventHeader, KernelOffsets, MAX_FRAMES,
    SLOT_BITS, SLOT_CLAIMED, SYS_EXIT_RET_OFFSET, SockInfo, SockSlot, StackTrace, UnwindKey,
    UnwindRow, counter, event_kind, origin, reg, slot_index, stack_flags, tcp_state, unwind_kind,
};

// ---- configuration written by user space before load (.rodata) ----

/// Kernel struct offsets, from the running kernel's BTF.
#[unsafe(no_mangle)]
static OFFSETS: KernelOffsets = KernelOffsets {
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
static SELF_TGID: u32 = 0;
/// 1 when only the processes in `TARGETS` are traced.
#[unsafe(no_mangle)]
static FILTER_PIDS: u32 = 0;
/// Captures allowed per CPU per second.
#[unsafe(no_mangle)]
static CAPTURES_PER_SEC: u64 = 200;
/// 1 with `--idle`: tracked sockets also record ESTABLISHED (state and
/// endpoints) so that user space can look up how long they have been idle.
/// Off by default: it costs a lookup and an endpoint read per connection.
#[unsafe(no_mangle)]
static TRACK_ESTABLISHED: u32 = 0;
/// Slots in use (`SLOTS` indices are masked with it): all of them unless
/// `GOVKIT_TRACE_SLOTS` says fewer (tests use that to exercise `SOCKS`).
#[unsafe(no_mangle)]
static SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
/// 1 when `sock_common` has its classic layout (as user space found in
/// BTF): `skc_daddr`, `skc_rcv_saddr`, 4 bytes of hash, `skc_dport`,
/// `skc_num`, `skc_family` in 18 contiguous bytes, and `skc_v6_daddr`
/// right before `skc_v6_rcv_saddr`. Endpoints are then one read (two for
/// IPv6) instead of five.
#[unsafe(no_mangle)]
static PACKED_ENDPOINTS: u32 = 0;

/// `BPF_F_NO_PREALLOC` (linux/bpf.h).
const BPF_F_NO_PREALLOC: u32 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const IPPROTO_TCP: u16 = 6;
/// Don't wake the reader (exec records wait for its next wakeup).
const BPF_RB_NO_WAKEUP: u64 = 1;
/// Wake the reader now (captures: rare, and wanted at once).
const BPF_RB_FORCE_WAKEUP: u64 = 2;

// ---- maps ----

#[map]
static SLOTS: Array<SockSlot> = Array::with_max_entries(1 << SLOT_BITS, 0);
/// Records of sockets whose slot was taken: allocated when used (a
/// preallocated map this size is 40 MiB of kernel memory set up and torn
/// down with every run, for what is normally empty).
#[map]
static SOCKS: HashMap<u64, SockInfo> = HashMap::with_max_entries(262_144, BPF_F_NO_PREALLOC);
#[map]
static STACKS: HashMap<u64, StackTrace> = HashMap::with_max_entries(16_384, 0);
#[map]
static UNWIND: LruHashMap<UnwindKey, UnwindRow> = LruHashMap::with_max_entries(65_536, 0);
#[map]
static TARGETS: HashMap<u32, u8> = HashMap::with_max_entries(1024, 0);
#[map]
static EVENTS: RingBuf = RingBuf::with_byte_size(4 << 20, 0);
#[map]
static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counter::COUNT, 0);
#[map]
static CAPTURE_BUDGET: PerCpuArray<Budget> = PerCpuArray::with_max_entries(1, 0);
/// Per-CPU scratch space for the stack being unwound (too big for the BPF stack).
#[map]
static SCRATCH: PerCpuArray<StackTrace> = PerCpuArray::with_max_entries(1, 0);
/// Per-CPU capture sequence numbers (combined with the CPU id in user space).
#[map]
static CAPTURE_SEQ: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

/// A call site seen before, per process, user ip and sp at the syscall.
#[repr(C)]
#[derive(Clone, Copy)]
struct SiteKey {
    ip: u64,
    sp: u64,
    tgid: u32,
    _pad: u32,
}

/// Where the return addresses of a known call site's stack are (offsets
/// from sp) and what they were: if they are all unchanged the stack is the
/// same, so it is checked with one user-memory read and no unwinding.
#[repr(C)]
#[derive(Clone, Copy)]
struct Site {
    stack_id: u64,
    n: u32,
    span: u32,
    flags: u32,
    _pad: u32,
    offsets: [u32; MAX_FRAMES],
    ras: [u64; MAX_FRAMES],
}

/// Bytes of stack a cached site may span (the validation read).
const SITE_SPAN: usize = 8192;

#[map]
static SITES: LruHashMap<SiteKey, Site> = LruHashMap::with_max_entries(16_384, 0);
#[map]
static SITE_SCRATCH: PerCpuArray<Site> = PerCpuArray::with_max_entries(1, 0);
/// Captures sent for a pc user space has not installed a row for yet
/// (`UnwindKey`): at most `PENDING_MAX` per pc per `PENDING_NS`; further
/// opens whose walk stops there send none (`CAPTURES_PENDING`, a partial
/// stack). A new call site under a busy load is opened thousands of times
/// before user space has installed its rows, and each open sent a 16 KiB
/// capture of the same stack (up to the budget): that filled the ring
/// buffer when govkit started under load, counted as lost events. A few
/// sockets opened in a burst from a new site (the usual leak) each still
/// get their own capture, and a pc user space cannot unwind is retried
/// every `PENDING_NS`.
#[map]
static PENDING: LruHashMap<UnwindKey, Pending> = LruHashMap::with_max_entries(4096, 0);
const PENDING_NS: u64 = 1_000_000_000;
const PENDING_MAX: u64 = 16;

#[repr(C)]
#[derive(Clone, Copy)]
struct Pending {
    /// When the window's first capture was sent.
    since: u64,
    sent: u64,
}
#[map]
static SPAN_BUF: PerCpuArray<[u64; SITE_WORDS]> = PerCpuArray::with_max_entries(1, 0);
/// `SITE_SPAN` in words: the validation compares whole words (one load
/// each; a byte-array read is eight byte loads on this target).
const SITE_WORDS: usize = SITE_SPAN / 8;

/// `CLOCK_MONOTONIC` (`bpf_ktime_get_ns`), the clock user space compares
/// with.
#[inline(always)]
fn now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_ns() }
}

/// `CLOCK_MONOTONIC_COARSE` (`bpf_ktime_get_coarse_ns`, Linux 5.11+), for
/// the cgroup hooks' open times (tracing programs may not call it): up to
/// a scheduler tick behind `now_ns`, and it reads no clock source (on a VM
/// a TSC read costs 50-80 ns, twice per connection). Ages are reported in
/// seconds: a tick of error is nothing to them.
#[inline(always)]
fn coarse_now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_coarse_ns() }
}

#[inline(always)]
fn count(index: u32) {
    if let Some(c) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, programs do not preempt each other on a CPU.
        unsafe { *c += 1 };
    }
}

#[inline(always)]
fn rodata<T: Copy>(v: &T) -> T {
    // SAFETY: reading our own static; volatile keeps the compiler from
    // folding the placeholder value user space overwrites before load.
    unsafe { core::ptr::read_volatile(v) }
}

#[inline(always)]
fn traced(tgid: u32) -> bool {
    if tgid == rodata(&SELF_TGID) {
        return false;
    }
    if rodata(&FILTER_PIDS) == 0 {
        return true;
    }
    // SAFETY: the value is not used, only its presence.
    unsafe { TARGETS.get(&tgid) }.is_some()
}

// ---- socket lifecycle ----

/// Raw tracepoint `inet_sock_set_state(const struct sock *sk, int oldstate,
/// int newstate)`: the arguments come straight from the call, without the
/// record a perf tracepoint would format; the common case (a state change
/// of a tracked socket) is one hash lookup and two stores.
#[raw_tracepoint(tracepoint = "inet_sock_set_state")]
pub fn sock_state(ctx: RawTracePointContext) -> i32 {
    let sk: u64 = ctx.arg(0);
    let old = ctx.arg::<u64>(1) as u8;
    let new = ctx.arg::<u64>(2) as u8;
    // govkit: allow(let-underscore-result) -- a tracepoint has nobody to report to; failures leave the socket untracked
    let _ = try_sock_state(&ctx, sk, old, new);
    0
}

#[inline(always)]
fn kread<T>(addr: u64) -> Result<T, i32> {
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe { bpf_probe_read_kernel(addr as *const T) }
}

fn try_sock_state(ctx: &RawTracePointContext, sk: u64, old: u8, new: u8) -> Result<(), i32> {
    count(counter::STATE_CHANGES);
    if new == tcp_state::CLOSE {
        free_record(sk);
        return Ok(());
    }
    if old == tcp_state::CLOSE && new == tcp_state::SYN_SENT {
        return connect_open(ctx, sk);
    }
    if old == tcp_state::SYN_RECV && new == tcp_state::ESTABLISHED {
        count(counter::PASSIVE_OPENS);
    }
    if new == tcp_state::ESTABLISHED && rodata(&TRACK_ESTABLISHED) != 0 {
        if let Some(info) = record_of(sk) {
            info.state = new;
            info.state_ns = now_ns();
            read_endpoints(sk, info)?;
        }
        return Ok(());
    }
    // Only CLOSE_WAIT is reported: entering it is the only other
    // transition that touches the map (passive opens are picked up at
    // accept(), in the owner's context). Leaving it is not recorded: the
    // entry keeps saying CLOSE_WAIT until CLOSE removes it, and user space
    // checks every reported socket's state in the kernel's own tables. Every
    // other change of a tracked socket costs no lookup at all.
    if new != tcp_state::CLOSE_WAIT {
        return Ok(());
    }
    if let Some(info) = record_of(sk) {
        info.state = new;
        info.state_ns = now_ns();
        read_endpoints(sk, info)?;
    }
    Ok(())
}

/// The record of a tracked socket: in its slot, else in `SOCKS`.
#[inline(always)]
fn record_of(sk: u64) -> Option<&'static mut SockInfo> {
    if let Some(slot) = own_slot(sk) {
        // SAFETY: an element of the array, valid for the program's run.
        return Some(unsafe { &mut (*slot).info });
    }
    // SAFETY: map value pointer from a successful lookup, valid for the
    // program's run.
    SOCKS.get_ptr_mut(&sk).map(|info| unsafe { &mut *info })
}

/// The `SLOTS` element for the socket at `sk` (its slot number masked
/// with the slots in use).
#[inline(always)]
fn slot_of(sk: u64) -> Option<*mut SockSlot> {
    SLOTS.get_ptr_mut(slot_index(sk) & rodata(&SLOT_MASK))
}

/// `sk`'s slot when it holds `sk`'s record.
#[inline(always)]
fn own_slot(sk: u64) -> Option<*mut SockSlot> {
    let slot = slot_of(sk)?;
    // SAFETY: an element of the array, valid for the program's run;
    // volatile: another CPU may write it.
    (unsafe { core::ptr::read_volatile(&raw const (*slot).sk) } == sk).then_some(slot)
}

/// Raw tracepoint `tcp_destroy_sock(struct sock *sk)`, attached only while
/// the tracer starts without the state hook: a socket user space closes in
/// its own system call teaches where the user registers are on the kernel
/// stack (`learn_regs_delta`) before the cgroup hooks, which cannot call
/// `bpf_task_pt_regs`, need it. Then detached: it would run twice per
/// connection, and records are taken over when stale instead of freed
/// (`occupant_gone`).
#[raw_tracepoint(tracepoint = "tcp_destroy_sock")]
pub fn sock_destroy(_ctx: RawTracePointContext) -> i32 {
    count(counter::DESTROYS);
    learn_regs_delta(Task::current());
    0
}

/// Drops the record of a socket that is closing (the state hook's CLOSE):
/// its slot, else its `SOCKS` entry, if it has one.
#[inline(always)]
fn free_record(sk: u64) {
    if let Some(slot) = own_slot(sk) {
        // SAFETY: `sk`'s slot. Only this socket's own open writes an
        // address equal to `sk`, and it is ending: a plain store frees the
        // slot.
        unsafe { core::ptr::write_volatile(&raw mut (*slot).sk, 0) };
        return;
    }
    // Looked up first: a delete takes the bucket lock even when the key is
    // absent, and most sockets were never tracked (or were in a slot). An
    // entry cannot appear meanwhile: its socket's open ran before this,
    // while the socket still had an owner.
    // SAFETY: presence check only.
    if unsafe { SOCKS.get(&sk) }.is_some() {
        // govkit: allow(let-underscore-result) -- gone already is fine
        let _ = SOCKS.remove(&sk);
    }
}

/// connect(): CLOSE → SYN_SENT runs in the connecting task's context.
fn connect_open(ctx: &RawTracePointContext, sk: u64) -> Result<(), i32> {
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    // Before the filter: govkit's own check connection teaches it.
    learn_regs_delta(task);
    if !traced(tgid) {
        return Ok(());
    }
    let protocol: u16 = kread(sk + rodata(&OFFSETS).sk_protocol as u64)?;
    if protocol != IPPROTO_TCP {
        return Ok(());
    }
    let regs = task.user_regs();
    let generation = scratch_begin();
    let info = new_info(now_ns(), tcp_state::SYN_SENT, origin::CONNECT).ok_or(0)?;
    record_open(ctx, sk, info, pid_tgid, Some(task), regs, generation);
    Ok(())
}

/// The opener of a socket (connect or accept, in its own context): owner
/// (read through `task` when the program has its BTF pointer), opening
/// stack from the user registers `(ip, sp, bp)`, then the entry.
#[inline(always)]
fn record_open<C: EbpfContext>(
    ctx: &C,
    sk: u64,
    info: &mut SockInfo,
    pid_tgid: u64,
    task: Option<Task>,
    regs: Option<UserRegs>,
    generation: u64,
) {
    owner(info, pid_tgid, task);
    open_stack(info, sk, (pid_tgid >> 32) as u32, pid_tgid as u32, regs);
    if scratch_gen() != generation {
        count(counter::PREEMPTED);
        return;
    }
    insert_sock(ctx, sk, info);
    count(counter::OPENS);
}

/// Per-CPU generation of the scratch slots (`NEW_INFO`, `SCRATCH`,
/// `SITE_SCRATCH`, `SPAN_BUF`). fexit and cgroup programs run with
/// migration but not preemption disabled: a task that preempts one and
/// opens a socket on the same CPU reuses the slots. Every open takes a new
/// generation first and checks it before storing its entry, so a
/// clobbered entry is dropped (and counted) rather than stored wrong.
#[map]
static SCRATCH_GEN: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn scratch_begin() -> u64 {
    match SCRATCH_GEN.get_ptr_mut(0) {
        // SAFETY: this CPU's slot.
        Some(g) => unsafe {
            let next = core::ptr::read_volatile(g).wrapping_add(1);
            core::ptr::write_volatile(g, next);
            next
        },
        None => 0,
    }
}

#[inline(always)]
fn scratch_gen() -> u64 {
    match SCRATCH_GEN.get_ptr_mut(0) {
        // SAFETY: this CPU's slot.
        Some(g) => unsafe { core::ptr::read_volatile(g) },
        None => 0,
    }
}

#[inline(always)]
fn insert_sock<C: EbpfContext>(ctx: &C, sk: u64, info: &SockInfo) {
    if claim_slot(sk, info) {
        return;
    }
    count(counter::SLOT_FALLBACKS);
    if SOCKS.insert(&sk, info, 0).is_err() {
        count(counter::SOCKS_FULL);
        warn!(
            ctx,
            "SOCKS map full: socket of pid {} not tracked", info.tgid
        );
    }
}

/// Writes `info` into the socket's slot if it is free, or holds a stale
/// record: of an earlier socket at the same address, or of a socket that
/// is gone (`occupant_gone`). Claimed with compare-and-exchange
/// (`sk | SLOT_CLAIMED`: no other socket can take it, and lookups for `sk`
/// do not match a half written record), then published with the address.
#[inline(always)]
fn claim_slot(sk: u64, info: &SockInfo) -> bool {
    let Some(slot) = slot_of(sk) else {
        return false;
    };
    // SAFETY: an element of the array, valid for the program's run.
    let at = unsafe { &raw mut (*slot).sk };
    // SAFETY: as above; volatile: another CPU may write it.
    let current = unsafe { core::ptr::read_volatile(at) };
    if current != 0 && current != sk {
        // Another socket's record. Claimed under its own address first,
        // so that while it is checked neither a new socket at that address
        // (whose open expects the bare address) nor another takeover can
        // write the slot; released unchanged if its socket is still there.
        if !may_take_over(slot, current) || !cas(at, current, current | SLOT_CLAIMED) {
            return false;
        }
        if !occupant_gone(slot, current) {
            // SAFETY: as above; the claim is ours to release.
            unsafe { core::ptr::write_volatile(at, current) };
            return false;
        }
        // SAFETY: as above; still claimed, now for `sk`.
        unsafe { core::ptr::write_volatile(at, sk | SLOT_CLAIMED) };
        count(counter::SLOT_TAKEOVERS);
    } else if !cas(at, current, sk | SLOT_CLAIMED) {
        return false;
    }
    // Word by word (a struct copy is a byte loop on this target).
    const WORDS: usize = core::mem::size_of::<SockInfo>() / 8;
    let src = core::ptr::from_ref(info).cast::<u64>();
    // SAFETY: as above; `info` is 8-aligned and WORDS words long.
    unsafe {
        let dst = (&raw mut (*slot).info).cast::<u64>();
        for i in 0..WORDS {
            core::ptr::write_volatile(dst.add(i), core::ptr::read(src.add(i)));
        }
        core::ptr::write_volatile(at, sk);
    }
    true
}

/// Compare-and-exchange of a slot's address word.
#[inline(always)]
fn cas(at: *mut u64, old: u64, new: u64) -> bool {
    // SAFETY: an aligned u64 in map memory.
    unsafe {
        atomic_cxchg::<u64, { AtomicOrdering::Relaxed }, { AtomicOrdering::Relaxed }>(at, old, new)
    }
    .1
}

/// Whether the record of the socket at `occupant` in `slot` may be taken
/// over at all: not while it is being written (`SLOT_CLAIMED`), and never
/// a record without a cookie (whose socket cannot be checked: the state
/// hook's connect-side records, which it frees at CLOSE). Under the state
/// hook, accepted sockets' records carry cookies too; taking one over is
/// right all the same (its socket is gone), and if that socket's CLOSE
/// runs while the slot is claimed for the check, it finds no record to
/// free: the stale record stays until its slot is taken over, and reports
/// drop it (every candidate is checked against /proc/net/tcp).
#[inline(always)]
fn may_take_over(slot: *mut SockSlot, occupant: u64) -> bool {
    // SAFETY: an element of the array, valid for the program's run;
    // volatile: another CPU may write it.
    occupant & SLOT_CLAIMED == 0
        && unsafe { core::ptr::read_volatile(&raw const (*slot).info.cookie) } != 0
}

/// Whether the record in `slot` (claimed by the caller), of the socket at
/// `occupant`, is stale. Without the state hook nothing frees records in
/// the kernel (a program on `tcp_destroy_sock` would run twice per
/// connection for that alone): a record stays in its slot until a socket
/// that hashes there finds its owner gone. Gone: the memory at `occupant`
/// has another cookie (it was freed and holds another socket now, or a
/// fresh one, 0), its `sk_socket` is NULL (the owner closed it: a socket
/// only leaks while its owner holds it; TCP sockets are freed RCU-safely
/// and their memory stays socket memory, so a freed one reads as closed
/// until it is reused), or it cannot be read. Two reads, only when another
/// socket's record is in the way.
#[inline(always)]
fn occupant_gone(slot: *mut SockSlot, occupant: u64) -> bool {
    // SAFETY: an element of the array, claimed: nobody else writes it.
    let cookie = unsafe { core::ptr::read_volatile(&raw const (*slot).info.cookie) };
    if cookie == 0 {
        return false;
    }
    let o = rodata(&OFFSETS);
    match (
        kread::<u64>(occupant + o.skc_cookie as u64),
        kread::<u64>(occupant + o.sk_socket as u64),
    ) {
        (Ok(now), Ok(socket)) => now != cookie || socket == 0,
        _ => true,
    }
}

/// Per-CPU slot where a new `SOCKS` entry is put together: filled field by
/// field with word stores. A `SockInfo` built on the BPF stack is zeroed and
/// copied byte by byte (the `memset`/`memcpy` the BPF target links are byte
/// loops), several hundred instructions on every connection.
#[map]
static NEW_INFO: PerCpuArray<SockInfo> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn new_info(now: u64, state: u8, origin: u8) -> Option<&'static mut SockInfo> {
    // SAFETY: this CPU's slot; programs do not preempt each other on a CPU.
    let info = unsafe { &mut *NEW_INFO.get_ptr_mut(0)? };
    // Volatile stores: LLVM would merge plain zero stores back into a
    // `memset` call.
    set(&mut info.open_ns, now);
    set(&mut info.state_ns, now);
    set(&mut info.stack_id, 0);
    set(&mut info.capture_id, 0);
    set(&mut info.cgroup_id, 0);
    set(&mut info.cookie, 0);
    set(&mut info.tgid, 0);
    set(&mut info.tid, 0);
    set(&mut info.state, state);
    set(&mut info.family, 0);
    set(&mut info.origin, origin);
    set(&mut info.stack_flags, 0);
    set(&mut info.sport, 0);
    set(&mut info.dport, 0);
    zero16(&mut info.comm);
    zero16(&mut info.saddr);
    zero16(&mut info.daddr);
    Some(info)
}

#[inline(always)]
fn set<T>(field: &mut T, v: T) {
    // SAFETY: a valid, aligned, exclusive reference.
    unsafe { core::ptr::write_volatile(field, v) };
}

/// Two word stores (`SockInfo`'s byte arrays are 8-byte aligned).
#[inline(always)]
fn zero16(a: &mut [u8; 16]) {
    let p = a.as_mut_ptr().cast::<u64>();
    // SAFETY: 16 bytes at an 8-aligned offset of an 8-aligned struct.
    unsafe {
        core::ptr::write_volatile(p, 0);
        core::ptr::write_volatile(p.add(1), 0);
    }
}

#[inline(always)]
fn owner(info: &mut SockInfo, pid_tgid: u64, task: Option<Task>) {
    info.tgid = (pid_tgid >> 32) as u32;
    info.tid = pid_tgid as u32;
    if let Some(task) = task {
        task.comm(&mut info.comm);
        info.cgroup_id = task.cgroup_id();
        return;
    }
    // SAFETY: the helper writes at most 16 bytes (NUL-terminated) into the
    // entry's own buffer; on failure it zeroes it.
    unsafe {
        aya_ebpf::helpers::generated::bpf_get_current_comm(
            info.comm.as_mut_ptr().cast(),
            info.comm.len() as u32,
        );
    }
    // SAFETY: a helper without arguments.
    info.cgroup_id = unsafe { bpf_get_current_cgroup_id() };
}

#[inline(always)]
fn read_endpoints(sk: u64, info: &mut SockInfo) -> Result<(), i32> {
    let o = rodata(&OFFSETS);
    if rodata(&PACKED_ENDPOINTS) != 0 {
        // daddr, rcv_saddr, hash, dport (network order), num, family.
        let w: [u32; 5] = kread(sk + o.skc_daddr as u64)?;
        let family = w[4] as u16;
        info.family = family as u8;
        info.sport = (w[3] >> 16) as u16;
        info.dport = u16::from_be(w[3] as u16);
        // SAFETY: the address arrays are 16 bytes at 8-aligned offsets.
        unsafe {
            let (s, d) = (info.saddr.as_mut_ptr(), info.daddr.as_mut_ptr());
            match family {
                AF_INET => {
                    core::ptr::write(s.cast::<u32>(), w[1]);
                    core::ptr::write(d.cast::<u32>(), w[0]);
                }
                AF_INET6 => {
                    // v6 daddr, then v6 rcv_saddr.
                    let a: [u64; 4] = kread(sk + o.skc_v6_daddr as u64)?;
                    core::ptr::write(d.cast::<u64>(), a[0]);
                    core::ptr::write(d.cast::<u64>().add(1), a[1]);
                    core::ptr::write(s.cast::<u64>(), a[2]);
                    core::ptr::write(s.cast::<u64>().add(1), a[3]);
                }
                _ => {}
            }
        }
        return Ok(());
    }
    let family: u16 = kread(sk + o.skc_family as u64)?;
    info.family = family as u8;
    info.sport = kread(sk + o.skc_num as u64)?;
    info.dport = u16::from_be(kread(sk + o.skc_dport as u64)?);
    // Straight into the entry (no copy through the stack).
    let (s, d, len) = match family {
        AF_INET => (o.skc_rcv_saddr, o.skc_daddr, 4),
        AF_INET6 => (o.skc_v6_rcv_saddr, o.skc_v6_daddr, 16),
        _ => return Ok(()),
    };
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe {
        bpf_probe_read_kernel_buf((sk + s as u64) as *const u8, &mut info.saddr[..len])?;
        bpf_probe_read_kernel_buf((sk + d as u64) as *const u8, &mut info.daddr[..len])?;
    }
    Ok(())
}

// ---- accept(): link the socket to its owner ----

#[tracepoint]
pub fn accept_exit(ctx: TracePointContext) -> u32 {
    // govkit: allow(let-underscore-result) -- a tracepoint has nobody to report to; failures are counted
    let _ = try_accept_exit(&ctx);
    0
}

fn try_accept_exit(ctx: &TracePointContext) -> Result<(), i32> {
    // A direct context load (no helper call): the busy-polling servers this
    // runs under return EAGAIN millions of times a second. The offset is
    // the kernel's fixed `struct syscall_trace_exit` layout, checked
    // against the format file by user space before load.
    // SAFETY: tracepoint contexts are readable at constant offsets within
    // the record.
    let fd: i64 = unsafe {
        *(ctx.as_ptr() as *const u8)
            .add(SYS_EXIT_RET_OFFSET)
            .cast::<i64>()
    };
    if fd < 0 {
        return Ok(());
    }
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    if !traced(tgid) {
        return Ok(());
    }
    let Some(sk) = socket_of_fd(fd as u64) else {
        count(counter::ACCEPT_LOOKUP_FAILED);
        return Ok(());
    };
    let state: u8 = kread(sk + rodata(&OFFSETS).skc_state as u64)?;
    let regs = task.user_regs();
    accepted(ctx, sk, state, (pid_tgid, Some(task)), regs, 0, now_ns())
}

/// `fexit` of `inet_csk_accept` (kernels with BPF trampolines): the
/// accepted `struct sock` straight from the kernel, in the accepting task;
/// an accept that returns EAGAIN costs a NULL check. Used instead of the
/// two syscall tracepoints when it loads: while one of those is attached,
/// every system call of every task takes the kernel's slow path.
///
/// The socket is the return value, read from the context slot after the
/// arguments: typed by BTF there (unlike `bpf_get_func_ret`'s copy), it can
/// be handed to `bpf_get_socket_cookie`, which the lifecycle without the
/// state hook keys records by. The slot depends on the kernel's signature:
/// `(sk, arg)` from Linux 6.10, `(sk, flags, err, kern)` before; user space
/// loads whichever of the two programs the verifier accepts.
#[fexit(function = "inet_csk_accept")]
pub fn accept_fexit2(ctx: FExitContext) -> i32 {
    accept_fexit(&ctx, ctx.arg(2))
}

#[fexit(function = "inet_csk_accept")]
pub fn accept_fexit4(ctx: FExitContext) -> i32 {
    accept_fexit(&ctx, ctx.arg(4))
}

#[inline(always)]
fn accept_fexit(ctx: &FExitContext, sk: *mut aya_ebpf::cty::c_void) -> i32 {
    if sk.is_null() {
        return 0;
    }
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    if !traced((pid_tgid >> 32) as u32) {
        return 0;
    }
    // In-kernel servers (NFS, SMB) accept from kernel threads: no owner
    // with a user stack.
    const PF_KTHREAD: u32 = 0x0020_0000;
    if task.flags() & PF_KTHREAD != 0 {
        return 0;
    }
    // SAFETY: `sk` is the BTF-typed socket the verifier checks the
    // helper's argument against.
    let cookie = unsafe { aya_ebpf::helpers::bpf_get_socket_cookie(sk) };
    // Through the BTF pointer too.
    let state: u8 = Task::load(sk.cast_const().cast(), rodata(&OFFSETS).skc_state);
    let Some(sk) = as_number(0, sk as u64) else {
        return 0;
    };
    let regs = task.user_regs();
    // govkit: allow(let-underscore-result) -- a hook has nobody to report to; failures leave the socket untracked
    let _ = accepted(
        ctx,
        sk,
        state,
        (pid_tgid, Some(task)),
        regs,
        cookie,
        now_ns(),
    );
    0
}

/// Where the user registers are, relative to `task_struct.stack`
/// (`THREAD_SIZE` minus padding minus `sizeof(struct pt_regs)`: constant
/// for a kernel build, but not visible in BTF). Learned in `connect_open`
/// and `sock_destroy`, where `bpf_task_pt_regs` is available, for the
/// cgroup hooks, where it is not. User space closes a socket (under
/// `sock_destroy`) or makes one loopback connection (under the state hook)
/// at start so that it is known before the first connect or accept.
#[map]
static REGS_DELTA: Array<u64> = Array::with_max_entries(1, 0);

/// x86-64 system call numbers of accept and accept4.
const NR_ACCEPT: u64 = 43;
const NR_ACCEPT4: u64 = 288;
/// x86-64 user code segment (`__USER_CS`): the registers are a user frame.
const USER_CS: u64 = 0x33;

/// Cgroup `getpeername` hooks (attached to the root cgroup, so they see
/// every socket): `accept(fd, addr, len)` with an address buffer asks the
/// new socket for its peer address before returning, in the accepting
/// task's context, and the hook is handed the socket. Unlike the syscall
/// tracepoints this costs nothing anywhere else: no system call slow path
/// for every task, nothing for an accept that returns EAGAIN. An accept
/// without an address buffer (`accept(fd, NULL, NULL)`) never gets here;
/// user space finds those sockets in /proc and says so. Must return 1
/// (allow).
///
/// Every cgroup hook is built twice: reading the current task through its
/// BTF pointer (`Task`), and, for kernels whose verifier does not give
/// cgroup programs that pointer, with helper calls only (`_compat`, which
/// user space loads when the first is refused).
#[cgroup_sock_addr(getpeername4)]
pub fn accept_peer4(ctx: SockAddrContext) -> i32 {
    accept_peer::<true>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername6)]
pub fn accept_peer6(ctx: SockAddrContext) -> i32 {
    accept_peer::<true>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername4)]
pub fn accept_peer4_compat(ctx: SockAddrContext) -> i32 {
    accept_peer::<false>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername6)]
pub fn accept_peer6_compat(ctx: SockAddrContext) -> i32 {
    accept_peer::<false>(&ctx);
    1
}

/// Cgroup `connect4`/`connect6` hooks (root cgroup): `connect()` on a TCP
/// socket, in the connecting task, before the kernel picks the local port.
/// With the accept hooks and `sock_diag` in user space they replace
/// `inet_sock_set_state`, which fires on every state change of every
/// socket on the host. Must return 1 (allow).
#[cgroup_sock_addr(connect4)]
pub fn connect_open4(ctx: SockAddrContext) -> i32 {
    connect_hook::<true>(&ctx);
    1
}

#[cgroup_sock_addr(connect6)]
pub fn connect_open6(ctx: SockAddrContext) -> i32 {
    connect_hook::<true>(&ctx);
    1
}

#[cgroup_sock_addr(connect4)]
pub fn connect_open4_compat(ctx: SockAddrContext) -> i32 {
    connect_hook::<false>(&ctx);
    1
}

#[cgroup_sock_addr(connect6)]
pub fn connect_open6_compat(ctx: SockAddrContext) -> i32 {
    connect_hook::<false>(&ctx);
    1
}

#[inline(always)]
fn connect_hook<const BTF: bool>(ctx: &SockAddrContext) {
    let Some((who, me, sk)) = cgroup_hook_entry::<BTF>(ctx) else {
        return;
    };
    // The caller's user registers: a system call from user space (not an
    // in-kernel connect from a kernel thread).
    let regs = peer_regs(who.1)
        .filter(|&(_, cs, _)| cs == USER_CS)
        .map(|(_, _, regs)| regs);
    if regs.is_some() {
        count(counter::CGROUP_CONNECTS);
    }
    if me {
        return;
    }
    let generation = scratch_begin();
    let Some(info) = new_info(coarse_now_ns(), tcp_state::SYN_SENT, origin::CONNECT) else {
        return;
    };
    info.cookie = socket_cookie(ctx);
    record_open(ctx, sk, info, who.0, who.1, regs, generation);
}

/// The task opening a socket: `pid_tgid`, and its BTF pointer in the
/// programs built with one.
type Who = (u64, Option<Task>);

/// What the cgroup hooks, which run for every process, check first:
/// `None` for a process not traced (the first thing checked) or a socket
/// that is not TCP; else (who, whether it is govkit itself, whose
/// start-up check counts but records nothing, the socket).
#[inline(always)]
fn cgroup_hook_entry<const BTF: bool>(ctx: &SockAddrContext) -> Option<(Who, bool, u64)> {
    let who = if BTF {
        let task = Task::current();
        (task.pid_tgid(), Some(task))
    } else {
        (bpf_get_current_pid_tgid(), None)
    };
    let tgid = (who.0 >> 32) as u32;
    let me = tgid == rodata(&SELF_TGID);
    if !me && !traced(tgid) {
        return None;
    }
    Some((who, me, tcp_sock_of(ctx)?))
}

/// The current task through its BTF pointer
/// (`bpf_get_current_task_btf`): its fields are plain loads, which the
/// verifier checks against the kernel's BTF and makes fault-safe, instead
/// of a helper call each (pid and tgid, comm, cgroup id, and
/// `bpf_probe_read_kernel` for `task->stack`, `task->flags` and the user
/// registers). Helper calls are dear on hosts with return thunks and
/// speculation barriers: on this project's test host (`--bpf-stats`
/// ablations) a probe read costs 40-80 ns whatever its size, and the
/// cgroup hooks' opens went from ~570 to ~410 ns. The offsets are
/// `.rodata`, which the verifier knows as constants (the map is frozen
/// before the programs load).
#[derive(Clone, Copy)]
struct Task(*const u8);

impl Task {
    #[inline(always)]
    fn current() -> Self {
        // SAFETY: a helper without arguments.
        Self(unsafe { bpf_get_current_task_btf() }.cast())
    }

    /// The field at `off` of the struct at `base`, which may be any
    /// pointer the verifier knows the BTF type of (a NULL one reads 0).
    #[inline(always)]
    fn load<T>(base: *const u8, off: u32) -> T {
        // SAFETY: the verifier turns a load through a BTF pointer into
        // one that cannot fault (an exception-table entry).
        unsafe { core::ptr::read_volatile(base.wrapping_add(off as usize).cast::<T>()) }
    }

    /// `bpf_get_current_pid_tgid`'s value.
    #[inline(always)]
    fn pid_tgid(self) -> u64 {
        let o = rodata(&OFFSETS);
        let tgid: u32 = Self::load(self.0, o.task_tgid);
        let pid: u32 = Self::load(self.0, o.task_pid);
        (u64::from(tgid) << 32) | u64::from(pid)
    }

    /// `task->stack`: the kernel stack, whose top holds the user registers.
    #[inline(always)]
    fn stack(self) -> u64 {
        Self::load(self.0, rodata(&OFFSETS).task_stack)
    }

    /// `task->flags` (`PF_*`).
    #[inline(always)]
    fn flags(self) -> u32 {
        Self::load(self.0, rodata(&OFFSETS).task_flags)
    }

    /// `bpf_task_pt_regs`: the task's saved user registers, as a BTF
    /// pointer (tracing programs only).
    #[inline(always)]
    fn pt_regs(self) -> *const u8 {
        // SAFETY: `self` is the trusted pointer of `bpf_get_current_task_btf`.
        let regs =
            unsafe { aya_ebpf::helpers::generated::bpf_task_pt_regs(self.0.cast_mut().cast()) };
        regs as *const u8
    }

    /// The task's user registers, for tracing programs (cgroup programs
    /// may not call `bpf_task_pt_regs`; they use `peer_regs`): ip and sp
    /// through the BTF pointer it returns.
    #[inline(always)]
    fn user_regs(self) -> Option<UserRegs> {
        let regs = self.pt_regs();
        if regs.is_null() {
            return None;
        }
        Some(UserRegs {
            ip: Self::load(regs, PT_REGS_IP),
            sp: Self::load(regs, PT_REGS_SP),
            bp_at: as_number(1, regs as u64)? + PT_REGS_BP as u64,
        })
    }

    /// `task->comm` (16 bytes, NUL-padded by the kernel) in two words.
    #[inline(always)]
    fn comm(self, dst: &mut [u8; 16]) {
        let off = rodata(&OFFSETS).task_comm;
        let p = dst.as_mut_ptr().cast::<u64>();
        // SAFETY: 16 bytes at an 8-aligned offset of an 8-aligned struct.
        unsafe {
            core::ptr::write_volatile(p, Self::load(self.0, off));
            core::ptr::write_volatile(p.add(1), Self::load(self.0, off + 8));
        }
    }

    /// `bpf_get_current_cgroup_id`'s value: the id of the kernfs node of
    /// the task's cgroup in the v2 hierarchy,
    /// `task->cgroups->dfl_cgrp->kn->id`.
    #[inline(always)]
    fn cgroup_id(self) -> u64 {
        let o = rodata(&OFFSETS);
        let cset: *const u8 = Self::load(self.0, o.task_cgroups);
        let cgrp: *const u8 = Self::load(cset, o.css_set_dfl_cgrp);
        let kn: *const u8 = Self::load(cgrp, o.cgroup_kn);
        Self::load(kn, o.kernfs_node_id)
    }
}

/// A task's user registers at its system call, as far as an open needs
/// them: ip and sp, and where bp is kept (it is read only when the stack
/// has to be unwound, not for a call site seen before).
#[derive(Clone, Copy)]
struct UserRegs {
    ip: u64,
    sp: u64,
    bp_at: u64,
}

/// The tail of x86-64 `struct pt_regs` from `orig_ax` (word 15): orig_ax,
/// ip, cs, flags, sp. bp is word 4.
const PT_REGS_TAIL: u64 = 15 * 8;
const PT_REGS_BP: u32 = 4 * 8;
const PT_REGS_IP: u32 = 16 * 8;
const PT_REGS_SP: u32 = 19 * 8;

/// Reads the registers an open needs from the `struct pt_regs` at `regs`:
/// `(orig_ax (the system call), cs, the registers)`.
#[inline(always)]
fn read_user_regs(regs: u64) -> Option<(u64, u64, UserRegs)> {
    let [nr, ip, cs, _flags, sp]: [u64; 5] = kread(regs + PT_REGS_TAIL).ok()?;
    Some((
        nr,
        cs,
        UserRegs {
            ip,
            sp,
            bp_at: regs + PT_REGS_BP as u64,
        },
    ))
}

/// The kernel socket of a cgroup hook's context, as a number, when it is
/// TCP.
#[inline(always)]
fn tcp_sock_of(ctx: &SockAddrContext) -> Option<u64> {
    // SAFETY: the context and its socket are valid for the program's run.
    let bsk = unsafe { (*ctx.sock_addr).__bindgen_anon_1.sk };
    if bsk.is_null() {
        return None;
    }
    // SAFETY: a `bpf_sock` from the context: field reads are rewritten by
    // the verifier into reads of the kernel socket.
    if unsafe { (*bsk).protocol } != IPPROTO_TCP as u32 {
        return None;
    }
    as_number(0, bsk as u64)
}

/// The socket's cookie (generated on first use; what `sock_diag` reports).
#[inline(always)]
fn socket_cookie(ctx: &SockAddrContext) -> u64 {
    // SAFETY: the helper takes the program's own context.
    unsafe { aya_ebpf::helpers::bpf_get_socket_cookie(ctx.as_ptr()) }
}

/// Per-CPU slots that turn a pointer into a plain number (the verifier
/// forbids arithmetic on socket pointers; the socket's address is the
/// `SOCKS` key and the base of the endpoint reads). Slot 0: the cgroup
/// hooks and the fexit accept, slot 1: `user_regs` and `learn_regs_delta`.
#[map]
static NUMBER_SLOT: PerCpuArray<u64> = PerCpuArray::with_max_entries(2, 0);

#[inline(always)]
fn as_number(slot: u32, v: u64) -> Option<u64> {
    let p = NUMBER_SLOT.get_ptr_mut(slot)?;
    // SAFETY: this CPU's slot; volatile so that the value read back is a
    // plain number, not the register that held the pointer.
    unsafe {
        core::ptr::write_volatile(p, v);
        Some(core::ptr::read_volatile(p))
    }
}

#[inline(always)]
fn accept_peer<const BTF: bool>(ctx: &SockAddrContext) {
    let Some((who, me, sk)) = cgroup_hook_entry::<BTF>(ctx) else {
        return;
    };
    // getpeername() itself (or any other caller) is not an accept.
    let Some((nr, cs, regs)) = peer_regs(who.1) else {
        return;
    };
    if (nr != NR_ACCEPT && nr != NR_ACCEPT4) || cs != USER_CS {
        return;
    }
    count(counter::PEER_ACCEPTS);
    if me {
        return;
    }
    let cookie = socket_cookie(ctx);
    // SAFETY: the context's socket, checked non-NULL by `tcp_sock_of`;
    // the verifier rewrites the field read into a load of `skc_state`.
    let state = unsafe { (*(*ctx.sock_addr).__bindgen_anon_1.sk).state } as u8;
    // govkit: allow(let-underscore-result) -- a hook has nobody to report to; failures leave the socket untracked
    let _ = accepted(ctx, sk, state, who, Some(regs), cookie, coarse_now_ns());
}

/// The current task's user registers (`read_user_regs`), found through
/// `task_struct.stack` (read through `task` when the program has its BTF
/// pointer) and the learned `REGS_DELTA`.
#[inline(always)]
fn peer_regs(task: Option<Task>) -> Option<(u64, u64, UserRegs)> {
    let delta = *REGS_DELTA.get(0)?;
    if delta == 0 {
        return None;
    }
    let stack = match task {
        Some(task) => task.stack(),
        None => {
            // SAFETY: a helper without arguments.
            let task = unsafe { bpf_get_current_task() };
            kread(task + rodata(&OFFSETS).task_stack as u64).ok()?
        }
    };
    read_user_regs(stack + delta)
}

/// An accepted socket in `state` (taken when accept() returns: the peer
/// may have closed already), in its owner's context at `now`: record it.
#[inline(always)]
#[allow(clippy::too_many_arguments, reason = "three callers, all plain values")]
fn accepted<C: EbpfContext>(
    ctx: &C,
    sk: u64,
    state: u8,
    who: Who,
    regs: Option<UserRegs>,
    cookie: u64,
    now: u64,
) -> Result<(), i32> {
    if state == tcp_state::CLOSE {
        // Reset before accept() returned: gone, it cannot leak, and its
        // CLOSE has passed, so nothing would free its record.
        return Ok(());
    }
    let generation = scratch_begin();
    let info = new_info(now, state, origin::ACCEPT).ok_or(0)?;
    info.cookie = cookie;
    if state == tcp_state::CLOSE_WAIT
        || (state == tcp_state::ESTABLISHED && rodata(&TRACK_ESTABLISHED) != 0)
    {
        read_endpoints(sk, info)?;
    }
    record_open(ctx, sk, info, who.0, who.1, regs, generation);
    Ok(())
}

/// current->files->fdt->fd[fd]->private_data (struct socket)->sk
#[inline(always)]
fn socket_of_fd(fd: u64) -> Option<u64> {
    let o = rodata(&OFFSETS);
    if o.task_files == 0 {
        return None;
    }
    // SAFETY: every pointer is read with bpf_probe_read_kernel, which fails
    // cleanly on a bad address.
    unsafe {
        let task = bpf_get_current_task();
        let files: u64 = bpf_probe_read_kernel((task + o.task_files as u64) as *const u64).ok()?;
        let fdt: u64 = bpf_probe_read_kernel((files + o.files_fdt as u64) as *const u64).ok()?;
        let max: u32 =
            bpf_probe_read_kernel((fdt + o.fdtable_max_fds as u64) as *const u32).ok()?;
        if fd >= max as u64 {
            return None;
        }
        let fds: u64 = bpf_probe_read_kernel((fdt + o.fdtable_fd as u64) as *const u64).ok()?;
        let file: u64 = bpf_probe_read_kernel((fds + fd * 8) as *const u64).ok()?;
        let socket: u64 =
            bpf_probe_read_kernel((file + o.file_private_data as u64) as *const u64).ok()?;
        let sk: u64 = bpf_probe_read_kernel((socket + o.socket_sk as u64) as *const u64).ok()?;
        (sk != 0).then_some(sk)
    }
}

// ---- exec(): learned rows of the old image are stale ----

#[tracepoint]
pub fn process_exec(_ctx: TracePointContext) -> u32 {
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    if !traced(tgid) {
        return 0;
    }
    match EVENTS.reserve::<EventHeader>(0) {
        Some(mut e) => {
            e.write(EventHeader {
                kind: event_kind::EXEC,
                tgid,
            });
            e.submit(BPF_RB_NO_WAKEUP);
        }
        None => count(counter::RINGBUF_DROPS),
    }
    0
}

// ---- user stacks ----

/// Checks a cached site: every return address still where it was.
#[inline(always)]
fn site_matches(site: &Site, sp: u64) -> bool {
    let Some(buf) = SPAN_BUF.get_ptr_mut(0) else {
        return false;
    };
    let len = site.span as usize & (SITE_SPAN - 1);
    // SAFETY: per-CPU buffer of SITE_SPAN bytes; user memory read through
    // the helper into it.
    let read = unsafe {
        let bytes = core::slice::from_raw_parts_mut(buf.cast::<u8>(), SITE_SPAN);
        bpf_probe_read_user_buf(sp as *const u8, &mut bytes[..len])
    };
    if read.is_err() {
        return false;
    }
    // SAFETY: the same buffer, as words, after the read.
    let words = unsafe { &*buf };
    // Sites are cached only with word-aligned offsets (`open_stack`).
    for i in 0..MAX_FRAMES {
        if i as u32 >= site.n {
            break;
        }
        if words[(site.offsets[i] as usize >> 3) & (SITE_WORDS - 1)] != site.ras[i] {
            return false;
        }
    }
    true
}

/// Unwinds the current task's user stack with the learned rows and stores it
/// in `STACKS`; on an unknown pc sends a capture (budget permitting). A call
/// site seen before is recognised without unwinding (`SITES`).
#[inline(always)]
fn open_stack(info: &mut SockInfo, sk: u64, tgid: u32, tid: u32, regs: Option<UserRegs>) {
    let Some(UserRegs { ip, sp: sp0, bp_at }) = regs else {
        info.stack_flags = stack_flags::TRUNCATED;
        return;
    };
    let site_key = SiteKey {
        ip,
        sp: sp0,
        tgid,
        _pad: 0,
    };
    if let Some(site) = SITES.get_ptr(&site_key) {
        // SAFETY: map value pointer from a successful lookup.
        let site = unsafe { &*site };
        if site_matches(site, sp0) {
            info.stack_id = site.stack_id;
            info.stack_flags = site.flags as u8;
            count(counter::SITE_HITS);
            return;
        }
    }
    let (Some(scratch), Some(site)) = (SCRATCH.get_ptr_mut(0), SITE_SCRATCH.get_ptr_mut(0)) else {
        return;
    };
    // SAFETY: per-CPU scratch slots.
    let (trace, site) = unsafe { (&mut *scratch, &mut *site) };
    // An unreadable bp leaves 0: an unwind step through it then fails to
    // read and the stack ends there, truncated.
    let bp0: u64 = kread(bp_at).unwrap_or(0);
    let (mut sp, mut bp) = (sp0, bp0);
    trace.tgid = tgid;
    trace.len = 0;
    site.n = 0;
    site.span = 0;
    let mut pc = ip;
    let mut exact = 1u32;
    let mut flags = stack_flags::TRUNCATED;
    let mut missed = false;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ tgid as u64;
    for i in 0..MAX_FRAMES {
        trace.frames[i] = pc;
        trace.len = i as u32 + 1;
        hash = (hash ^ pc).wrapping_mul(0x0000_0100_0000_01b3);
        let key = UnwindKey { pc, tgid, exact };
        // SAFETY: rows are plain data.
        let Some(row) = (unsafe { UNWIND.get(&key) }) else {
            missed = true;
            break;
        };
        if row.kind == unwind_kind::END {
            flags = stack_flags::COMPLETE;
            break;
        }
        if row.kind != unwind_kind::FRAME {
            break;
        }
        let base = if row.cfa_reg == reg::RBP { bp } else { sp };
        let cfa = base.wrapping_add(row.cfa_offset as i64 as u64);
        // SAFETY: user memory read through the helper.
        let Ok(ra) = (unsafe { bpf_probe_read_user((cfa - 8) as *const u64) }) else {
            break;
        };
        if row.rbp_saved != 0 {
            let at = cfa.wrapping_add(row.rbp_offset as i64 as u64);
            // SAFETY: user memory read through the helper.
            match unsafe { bpf_probe_read_user(at as *const u64) } {
                Ok(v) => bp = v,
                Err(_) => break,
            }
        }
        let off = (cfa - 8).wrapping_sub(sp0);
        // Return addresses sit in 8-aligned slots (the ABI keeps sp
        // aligned): the check compares whole words.
        if off < (SITE_SPAN - 8) as u64 && off & 7 == 0 && i < MAX_FRAMES {
            site.offsets[i] = off as u32;
            site.ras[i] = ra;
            site.n = i as u32 + 1;
            site.span = off as u32 + 8;
        } else {
            site.span = u32::MAX; // too deep (or misaligned) to validate cheaply: not cached
        }
        if ra == 0 {
            flags = stack_flags::COMPLETE;
            break;
        }
        sp = cfa;
        pc = ra;
        exact = 0;
    }
    if missed {
        let key = UnwindKey { pc, tgid, exact };
        let now = now_ns();
        // The window's entry when it is still open (a stale one is
        // replaced below).
        let window = PENDING
            .get_ptr_mut(&key)
            // SAFETY: a map value pointer from a successful lookup.
            .filter(|&p| now.wrapping_sub(unsafe { (*p).since }) < PENDING_NS);
        // SAFETY: as above; counts are approximate across CPUs.
        if window.is_some_and(|p| unsafe { (*p).sent } >= PENDING_MAX) {
            count(counter::CAPTURES_PENDING);
            flags = stack_flags::THROTTLED;
        } else if take_budget(now) {
            if let Some(id) = send_capture(sk, tgid, tid, trace, pc, sp, bp, exact) {
                info.capture_id = id;
                flags = stack_flags::CAPTURED;
                match window {
                    // SAFETY: as above.
                    Some(p) => unsafe { (*p).sent += 1 },
                    None => {
                        let fresh = Pending {
                            since: now,
                            sent: 1,
                        };
                        // govkit: allow(let-underscore-result) -- an LRU map: best effort, a lost entry only means more captures
                        let _ = PENDING.insert(&key, &fresh, 0);
                    }
                }
            }
        } else {
            count(counter::CAPTURES_THROTTLED);
            flags = stack_flags::THROTTLED;
        }
    }
    hash ^= flags as u64;
    info.stack_flags = flags;
    info.stack_id = hash;
    // SAFETY: presence check only.
    if unsafe { STACKS.get(&hash) }.is_none() && STACKS.insert(&hash, &*trace, 0).is_err() {
        count(counter::STACKS_FULL);
        return;
    }
    // Fully unwound by the kernel: remember the site.
    if !missed && (site.span as usize) < SITE_SPAN {
        site.stack_id = hash;
        site.flags = flags as u32;
        // govkit: allow(let-underscore-result) -- an LRU map: the cache is best effort
        let _ = SITES.insert(&site_key, &*site, 0);
    }
}

/// Records where the user registers are relative to the task's kernel
/// stack, for the cgroup hook (`REGS_DELTA`), once: an array lookup after
/// that.
#[inline(always)]
fn learn_regs_delta(task: Task) {
    let Some(delta) = REGS_DELTA.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the array's only slot; the value is the same whichever task
    // or CPU writes it.
    if unsafe { *delta } != 0 {
        return;
    }
    let stack = task.stack();
    if let Some(at) = as_number(1, task.pt_regs() as u64)
        && stack != 0
        && at > stack
    {
        // SAFETY: as above.
        unsafe { *delta = at - stack };
    }
}

#[inline(always)]
fn take_budget(now: u64) -> bool {
    let Some(b) = CAPTURE_BUDGET.get_ptr_mut(0) else {
        return false;
    };
    // SAFETY: per-CPU slot.
    let b = unsafe { &mut *b };
    if now.wrapping_sub(b.window_ns) > 1_000_000_000 {
        b.window_ns = now;
        b.used = 0;
    }
    if b.used >= rodata(&CAPTURES_PER_SEC) {
        return false;
    }
    b.used += 1;
    true
}

#[inline(always)]
#[allow(clippy::too_many_arguments, reason = "one call site, all plain values")]
fn send_capture(
    sk: u64,
    tgid: u32,
    tid: u32,
    trace: &StackTrace,
    pc: u64,
    sp: u64,
    bp: u64,
    exact: u32,
) -> Option<u64> {
    let Some(mut entry) = EVENTS.reserve::<Capture>(0) else {
        count(counter::RINGBUF_DROPS);
        return None;
    };
    let seq = match CAPTURE_SEQ.get_ptr_mut(0) {
        // SAFETY: per-CPU slot.
        Some(s) => unsafe {
            *s += 1;
            *s
        },
        None => 0,
    };
    // SAFETY: a helper without arguments.
    let cpu = unsafe { aya_ebpf::helpers::bpf_get_smp_processor_id() } as u64;
    let id = (cpu << 48) | (seq & 0xffff_ffff_ffff);
    let c = entry.as_mut_ptr();
    // SAFETY: the reserved record is sizeof(Capture) bytes; every field is
    // written before submit.
    unsafe {
        (*c).header = EventHeader {
            kind: event_kind::CAPTURE,
            tgid,
        };
        (*c).tid = tid;
        (*c).nframes = trace.len.saturating_sub(1);
        (*c).capture_id = id;
        (*c).sock = sk;
        (*c).pc = pc;
        (*c).sp = sp;
        (*c).bp = bp;
        (*c).exact = exact;
        (*c).frames = trace.frames;
        let mut len = 0u32;
        let stack: &mut [u8; CAPTURE_STACK_BYTES] = &mut (*c).stack;
        for i in 0..(CAPTURE_STACK_BYTES / CAPTURE_CHUNK) {
            let dst = &mut stack[i * CAPTURE_CHUNK..(i + 1) * CAPTURE_CHUNK];
            if bpf_probe_read_user_buf((sp + (i * CAPTURE_CHUNK) as u64) as *const u8, dst).is_err()
            {
                break;
            }
            len += CAPTURE_CHUNK as u32;
        }
        (*c).stack_len = len;
    }
    // Wake the reader: it sleeps until a capture arrives (or its next
    // report), and new call sites should be learned at once.
    entry.submit(BPF_RB_FORCE_WAKEUP);
    count(counter::CAPTURES);
    Some(id)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
