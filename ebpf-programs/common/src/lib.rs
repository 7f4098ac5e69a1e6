//! Types shared by govkit's kernel-side eBPF programs (`ebpf-programs/`) and
//! the user-space tracer (`tracebpf/`). Every type is `#[repr(C)]`, has no
//! padding the kernel could leave uninitialised, and the same layout on both
//! sides; the sizes are asserted at compile time below.
#![no_std]

/// Maximum user frames one stack holds.
pub const MAX_FRAMES: usize = 32;
/// Bytes of user stack copied for a call site the kernel cannot unwind yet.
pub const CAPTURE_STACK_BYTES: usize = 16384;
/// The copy is made in chunks of this size; it stops at the first unreadable one.
pub const CAPTURE_CHUNK: usize = 1024;

/// TCP states as the kernel numbers them (`include/net/tcp_states.h`).
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
    pub const NEW_SYN_RECV: u8 = 12;
}

/// How a tracked socket came to be.
pub mod origin {
    /// Accepted by the kernel (three-way handshake done), not yet `accept`ed.
    pub const UNOWNED: u8 = 0;
    /// Opened by `connect` in the owner's context.
    pub const CONNECT: u8 = 1;
    /// Returned by `accept`/`accept4` in the owner's context.
    pub const ACCEPT: u8 = 2;
}

/// Flags on a socket's stack.
pub mod stack_flags {
    /// The kernel walked the whole stack with learned unwind rows.
    pub const COMPLETE: u8 = 1;
    /// A capture was sent: user space completes the stack from it.
    pub const CAPTURED: u8 = 2;
    /// The walk stopped at a frame it could not unwind (unsupported CFI,
    /// unreadable stack, depth limit); frames so far are kept.
    pub const TRUNCATED: u8 = 4;
    /// The walk hit a call site not learned yet and the capture budget was
    /// spent: frames so far are kept.
    pub const THROTTLED: u8 = 8;
}

/// log2 of the number of `SLOTS`.
pub const SLOT_BITS: u32 = 14;
/// Low bit of `SockSlot::sk` while an open is writing the slot (socket
/// addresses are aligned, so a published address never has it).
pub const SLOT_CLAIMED: u64 = 1;

/// An entry of the `SLOTS` array: where a socket's record lives when its
/// slot (`slot_index` of its address) is free, so that opening and closing
/// it costs an array access instead of a hash insert and delete. `sk` is 0
/// when free; a socket whose slot is taken goes to `SOCKS`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SockSlot {
    pub sk: u64,
    pub info: SockInfo,
}

/// The `SLOTS` index of the socket at kernel address `sk` (Fibonacci
/// hashing of the address above its cache-line offset).
#[inline(always)]
#[must_use]
pub const fn slot_index(sk: u64) -> u32 {
    ((sk >> 6).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as u32
}

/// Value of the `SOCKS` map, keyed by the kernel socket address.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SockInfo {
    /// `bpf_ktime_get_ns` when the socket was opened (connect) or established.
    pub open_ns: u64,
    /// When the socket entered `state`.
    pub state_ns: u64,
    /// Key into `STACKS`, 0 when the owner is not known yet.
    pub stack_id: u64,
    /// Sequence number of the capture sent for this socket, 0 when none.
    pub capture_id: u64,
    pub cgroup_id: u64,
    /// The kernel's socket cookie (`bpf_get_socket_cookie`, what
    /// `sock_diag` reports as `idiag_cookie`), taken by the cgroup hooks;
    /// 0 from the others. How user space finds the socket's state and
    /// endpoints when no tracepoint follows its state changes.
    pub cookie: u64,
    pub tgid: u32,
    pub tid: u32,
    pub comm: [u8; 16],
    pub state: u8,
    pub family: u8,
    pub origin: u8,
    pub stack_flags: u8,
    pub sport: u16,
    pub dport: u16,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
}

/// Value of the `STACKS` map: user return addresses, innermost first
/// (`frames[0]` is the instruction after the syscall).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StackTrace {
    pub tgid: u32,
    pub len: u32,
    pub frames: [u64; MAX_FRAMES],
}

/// Key of the `UNWIND` map: one learned call-frame row per process and pc.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnwindKey {
    pub pc: u64,
    pub tgid: u32,
    /// 1 when `pc` is the interrupted instruction (frame 0), 0 when it is a
    /// return address (the row then describes `pc - 1`).
    pub exact: u32,
}

pub mod unwind_kind {
    /// CFA = register + offset, return address at CFA - 8.
    pub const FRAME: u8 = 1;
    /// The outermost frame: stop, the stack is complete.
    pub const END: u8 = 2;
    /// CFI the kernel cannot evaluate: stop, the stack is truncated.
    pub const UNSUPPORTED: u8 = 3;
}

/// x86-64 registers a row can use as its CFA base.
pub mod reg {
    pub const RSP: u8 = 7;
    pub const RBP: u8 = 6;
}

/// Value of the `UNWIND` map.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnwindRow {
    pub kind: u8,
    /// `reg::RSP` or `reg::RBP`.
    pub cfa_reg: u8,
    /// 1 when the caller's rbp was saved at CFA + `rbp_offset`.
    pub rbp_saved: u8,
    pub _pad: u8,
    pub cfa_offset: i32,
    pub rbp_offset: i32,
    pub _pad2: u32,
}

pub mod event_kind {
    /// A call site the kernel could not unwind: registers + stack copy.
    pub const CAPTURE: u32 = 1;
    /// A process called exec: its learned unwind rows are stale.
    pub const EXEC: u32 = 2;
}

/// Header of every ring-buffer record.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EventHeader {
    pub kind: u32,
    pub tgid: u32,
}

/// A ring-buffer record of kind `CAPTURE`. The frames the kernel did unwind
/// come first; the registers describe the frame where it stopped, and the
/// stack copy starts at that frame's rsp.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Capture {
    pub header: EventHeader,
    pub tid: u32,
    pub nframes: u32,
    pub capture_id: u64,
    pub sock: u64,
    /// The pc where the walk stopped; `exact` as in `UnwindKey`.
    pub pc: u64,
    pub sp: u64,
    pub bp: u64,
    pub exact: u32,
    pub stack_len: u32,
    pub frames: [u64; MAX_FRAMES],
    pub stack: [u8; CAPTURE_STACK_BYTES],
}

/// Indices into the per-CPU `COUNTERS` array.
pub mod counter {
    /// Ring-buffer records that could not be reserved (buffer full).
    pub const RINGBUF_DROPS: u32 = 0;
    /// Sockets not tracked because `SOCKS` was full.
    pub const SOCKS_FULL: u32 = 1;
    /// Stacks not stored because `STACKS` was full.
    pub const STACKS_FULL: u32 = 2;
    /// Stack captures sent to user space.
    pub const CAPTURES: u32 = 3;
    /// Call sites not captured because the capture budget was spent.
    pub const CAPTURES_THROTTLED: u32 = 4;
    /// Socket state changes seen (TCP).
    pub const STATE_CHANGES: u32 = 5;
    /// Sockets opened by connect or accept in a traced process.
    pub const OPENS: u32 = 6;
    /// accept() results whose socket could not be read from the fd table.
    pub const ACCEPT_LOOKUP_FAILED: u32 = 7;
    /// Opens whose stack was recognised from a cached call site.
    pub const SITE_HITS: u32 = 8;
    /// Sockets that completed a passive open (SYN_RECV → ESTABLISHED):
    /// what `accept` will hand out, in any process.
    pub const PASSIVE_OPENS: u32 = 9;
    /// Accepted sockets seen by the cgroup `getpeername` accept hook (an
    /// `accept` that asks for the peer address), in traced processes and
    /// govkit itself (its start-up check).
    pub const PEER_ACCEPTS: u32 = 10;
    /// Opens dropped because another program on the same CPU reused the
    /// per-CPU scratch space while this one was preempted (hooks that run
    /// preemptible: fexit, cgroup).
    pub const PREEMPTED: u32 = 11;
    /// Opens recorded in `SOCKS` because the socket's slot in `SLOTS` was
    /// held by another socket.
    pub const SLOT_FALLBACKS: u32 = 12;
    /// TCP sockets destroyed (`tcp:tcp_destroy_sock`), any process, while
    /// that hook is attached: at start-up without the state hook.
    pub const DESTROYS: u32 = 13;
    /// Connects seen by the cgroup `connect4`/`connect6` hooks with the
    /// caller's user registers found, in traced processes and govkit
    /// itself (its start-up check).
    pub const CGROUP_CONNECTS: u32 = 14;
    /// Opens that took over a slot whose record's socket was gone (without
    /// the state hook, records are not freed when sockets close).
    pub const SLOT_TAKEOVERS: u32 = 15;
    /// Opens from a call site not learned yet whose capture was not sent
    /// because one for the same pc was already on its way (they get a
    /// partial stack, like throttled ones).
    pub const CAPTURES_PENDING: u32 = 16;
    pub const COUNT: u32 = 17;
}

/// Per-CPU capture budget state (`CAPTURE_BUDGET` map).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub window_ns: u64,
    pub used: u64,
}

/// Kernel structure offsets the accept path needs, resolved by user space
/// from the running kernel's BTF and written into the program's read-only
/// data before it is loaded (CO-RE without compiler support).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelOffsets {
    pub task_files: u32,
    pub files_fdt: u32,
    pub fdtable_fd: u32,
    pub fdtable_max_fds: u32,
    pub file_private_data: u32,
    pub socket_sk: u32,
    /// In `struct sock`.
    pub sk_protocol: u32,
    /// In `struct sock` (its `__sk_common` plus the member's offset).
    pub skc_family: u32,
    pub skc_num: u32,
    pub skc_dport: u32,
    pub skc_rcv_saddr: u32,
    pub skc_daddr: u32,
    pub skc_v6_rcv_saddr: u32,
    pub skc_v6_daddr: u32,
    pub skc_state: u32,
    /// `task_struct.flags` (PF_KTHREAD: kernel threads have no user stack).
    pub task_flags: u32,
    /// `task_struct.stack`: the kernel stack, whose top holds the user
    /// registers (hooks without `bpf_task_pt_regs` find them from here).
    pub task_stack: u32,
    /// In `struct sock`: `__sk_common.skc_cookie` and `sk_socket` (NULL
    /// once the owner has closed the socket), which tell whether a slot's
    /// record still belongs to a live, owned socket.
    pub skc_cookie: u32,
    pub sk_socket: u32,
    /// `task_struct.pid` and `.tgid`, `.comm`, `.cgroups` (a `css_set`),
    /// `css_set.dfl_cgrp`, `cgroup.kn` and `kernfs_node.id` (the cgroup
    /// id): what the cgroup hooks read with plain loads through the
    /// current task's BTF pointer instead of a helper call each.
    pub task_pid: u32,
    pub task_tgid: u32,
    pub task_comm: u32,
    pub task_cgroups: u32,
    pub css_set_dfl_cgrp: u32,
    pub cgroup_kn: u32,
    pub kernfs_node_id: u32,
    pub _pad: u32,
}

// ---- `govkit trace sched` ----

/// Slots of the log2 latency histograms: slot `i` counts values (µs) in
/// `[2^i, 2^(i+1))`, slot 0 also counts 0; the last slot is open-ended.
pub const HIST_SLOTS: usize = 32;

/// A process, or one of its threads when the tracer runs per thread (`tid`
/// is 0 otherwise): the key of the `SCHED_SLOTS` map, whose value is the
/// index of the process's `SchedStats` in the `SCHED_STATS` array.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SchedKey {
    pub tgid: u32,
    pub tid: u32,
}

/// Scheduler statistics of a process (or thread), aggregated in the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedStats {
    /// Switched out while blocking (`!preempt && prev_state != RUNNING`):
    /// the kernel's `nvcsw`.
    pub voluntary_switches: u64,
    /// Switched out while runnable (preempted): the kernel's `nivcsw`.
    pub involuntary_switches: u64,
    /// Moved to another CPU (`sched_migrate_task`).
    pub migrations: u64,
    /// Moved to a CPU of another NUMA node.
    pub numa_migrations: u64,
    /// Run-queue waits measured (wakeup or preemption to switch-in).
    pub runq_count: u64,
    pub runq_sum_ns: u64,
    /// Blocked periods measured (voluntary switch-out to switch-in).
    pub offcpu_count: u64,
    pub offcpu_sum_ns: u64,
    /// Time on CPU (switch-in to switch-out).
    pub oncpu_ns: u64,
    /// `comm` of the task that created the entry.
    pub comm: [u8; 16],
    /// Whose entry this is: a slot of the array is handed to another
    /// process once user space has freed it, and a thread that kept the
    /// slot's index checks this first.
    pub key: SchedKey,
    /// The cgroup v2 id (the inode of its cgroupfs directory) of the task
    /// that created the entry, when it did: what a process that exits
    /// before user space sees it is attributed to. 0: unknown.
    pub cgroup_id: u64,
    pub runq_hist: [u64; HIST_SLOTS],
    pub offcpu_hist: [u64; HIST_SLOTS],
}

/// Per-thread timestamps of the raw-tracepoint build (`bpf_ktime_get_ns`,
/// 0 = none).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadTimes {
    /// Became runnable (woken, or preempted while runnable).
    pub enqueued: u64,
    /// Switched out voluntarily (blocked).
    pub blocked: u64,
    /// Switched in.
    pub on_cpu: u64,
}

/// Per-thread state of the BTF build, in the task's BPF task storage:
/// where its statistics are, and its timestamps (`bpf_ktime_get_ns`,
/// 0 = none).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadState {
    /// Index of the thread's `SchedStats` (valid while `key` matches).
    pub slot: u32,
    /// 1 when `slot` and `key` are set.
    pub has_slot: u32,
    pub key: SchedKey,
    pub times: ThreadTimes,
}

/// `task_struct` offsets the sched programs need, from the kernel's BTF.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedOffsets {
    pub task_pid: u32,
    pub task_tgid: u32,
    /// `__state` (5.14+) or `state`.
    pub task_state: u32,
    /// `task_cpu()`: `thread_info.cpu` or `cpu`, whichever this kernel has.
    pub task_cpu: u32,
    pub task_comm: u32,
    /// 1 when the `sched_switch` tracepoint passes `prev_state` (5.18+).
    pub switch_has_prev_state: u32,
    /// `task->cgroups->dfl_cgrp->kn->id`: the task's cgroup v2 id.
    pub task_cgroups: u32,
    pub css_set_dfl_cgrp: u32,
    pub cgroup_kn: u32,
    pub kernfs_node_id: u32,
}

/// Entries of the sched tracer's per-process table.
pub const SCHED_ENTRIES: u32 = 10_240;

/// Most CPUs the CPU-to-node table holds.
pub const MAX_CPUS: u32 = 4096;

/// Indexes of the sched programs' per-CPU counter array.
pub mod sched_counter {
    /// A process could not get a `SCHED_STATS` entry (map full): its events were dropped.
    pub const STATS_FULL: u32 = 0;
    /// Events handled.
    pub const EVENTS: u32 = 1;
    /// A thread could not get a `THREAD_TIMES` entry or its task storage.
    pub const THREADS_FULL: u32 = 2;
    pub const COUNT: u32 = 3;
}

/// Offset of `ret` in every `syscalls:sys_exit_*` record (the kernel's
/// `struct syscall_trace_exit`); checked against the format file at load.
pub const SYS_EXIT_RET_OFFSET: usize = 16;

const _: () = assert!(core::mem::size_of::<SockInfo>() == 112);
const _: () = assert!(core::mem::size_of::<SockSlot>() == 120);
const _: () =
    assert!(core::mem::size_of::<SchedStats>() == 9 * 8 + 16 + 8 + 8 + 2 * 8 * HIST_SLOTS);
const _: () = assert!(core::mem::size_of::<ThreadState>() == 40);
const _: () = assert!(core::mem::size_of::<SchedKey>() == 8);
const _: () = assert!(core::mem::size_of::<ThreadTimes>() == 24);
const _: () = assert!(core::mem::size_of::<SchedOffsets>() == 40);
const _: () = assert!(core::mem::size_of::<StackTrace>() == 8 + 8 * MAX_FRAMES);
const _: () = assert!(core::mem::size_of::<UnwindKey>() == 16);
const _: () = assert!(core::mem::size_of::<UnwindRow>() == 16);
const _: () = assert!(core::mem::size_of::<Capture>() == 64 + 8 * MAX_FRAMES + CAPTURE_STACK_BYTES);

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all of these are repr(C), contain only integers and arrays of
    // integers, and have no padding (sizes asserted above), so every bit
    // pattern is a valid value.
    #[allow(unsafe_code, reason = "aya::Pod is an unsafe marker trait")]
    mod impls {
        use super::super::{
            Budget, KernelOffsets, SchedKey, SchedOffsets, SchedStats, SockInfo, SockSlot,
            StackTrace, ThreadTimes, UnwindKey, UnwindRow,
        };
        // SAFETY: integers and integer arrays only, no padding (see above).
        unsafe impl aya::Pod for SockInfo {}
        // SAFETY: as above.
        unsafe impl aya::Pod for SockSlot {}
        // SAFETY: as above.
        unsafe impl aya::Pod for StackTrace {}
        // SAFETY: as above.
        unsafe impl aya::Pod for UnwindKey {}
        // SAFETY: as above.
        unsafe impl aya::Pod for UnwindRow {}
        // SAFETY: as above.
        unsafe impl aya::Pod for Budget {}
        // SAFETY: as above.
        unsafe impl aya::Pod for KernelOffsets {}
        // SAFETY: as above.
        unsafe impl aya::Pod for SchedKey {}
        // SAFETY: as above.
        unsafe impl aya::Pod for SchedStats {}
        // SAFETY: as above.
        unsafe impl aya::Pod for ThreadTimes {}
        // SAFETY: as above.
        unsafe impl aya::Pod for SchedOffsets {}
    }
}
