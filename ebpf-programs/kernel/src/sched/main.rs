//! Kernel side of `govkit trace sched`.
//!
//! Everything is aggregated here: per process (or per thread) counters and
//! log2 histograms in `SCHED_STATS` (`shared.rs`), per-thread state in
//! task storage. Nothing goes through a ring buffer, so the cost per
//! scheduler event is fixed whatever the event rate, and user space only
//! reads the aggregates.
//!
//! Run-queue latency follows runqlat: a thread is enqueued when it is woken
//! (`sched_wakeup`, `sched_wakeup_new`) or switched out while still runnable
//! (preempted); the wait ends when it is switched in. Off-CPU time is the
//! time from a voluntary switch-out (blocking) to the next switch-in.
//!
//! This build is the cheap one: the scheduler runs it on every context
//! switch and wakeup, some 150,000 times a second each on a switch-bound
//! host. `--bpf-stats` ablations on the test host priced each part of an
//! event; what is left is what the figures need:
//! - BTF-typed tracepoints: the `task_struct` arguments are pointers the
//!   verifier knows, so `pid`, `tgid`, the state and the CPU are plain
//!   loads, not a `bpf_probe_read_kernel` call each (40-80 ns per call).
//! - Per-thread state in BPF task storage, a slot in the task itself
//!   (~27 ns, no table to fill up or evict from), which also keeps the
//!   index of the process's statistics: an array access instead of a hash
//!   lookup per event (~80 ns).
//! - One clock read per event, and none for a switch between untraced
//!   tasks. The clock must be read: the run queue's own clock
//!   (`rq->clock`, `sched_info`) is not updated at a switch that follows a
//!   wakeup (the kernel skips that update), so it leaves out the very
//!   wake-up latency this measures (0.4 µs against runqlat's 5 µs on the
//!   pipe ping-pong).
//! `compat.rs` is the build for kernels that refuse this one.
#![no_std]
#![no_main]
// The BPF target has no `AtomicU64::fetch_add`; the intrinsic lowers to the
// BPF atomic add instruction.
#![feature(core_intrinsics)]
#![allow(
    internal_features,
    reason = "core_intrinsics is the only way to emit BPF atomic adds"
)]
#![allow(
    unsafe_code,
    reason = "eBPF programs read kernel memory through BTF pointers and helpers"
)]

mod shared;

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::LruHashMap,
    programs::BtfTracePointContext,
};
use govkit_ebpf_common::{SchedStats, ThreadState, sched_counter};

use crate::shared::{
    OFFSETS, count, involuntary, key, migrated, now_ns, rodata, slot_of, stats, stats_at,
    switched_in, switched_out, times_in, times_out, traced,
};

/// A BPF task-storage map (`BPF_MAP_TYPE_TASK_STORAGE`) of `ThreadState`,
/// declared the BTF way (`.maps`), which local-storage maps require: the
/// loader reads the type, flags and key/value types from the members'
/// types. aya-ebpf has no task-storage type yet.
#[repr(C)]
pub struct ThreadStorage {
    /// `BPF_MAP_TYPE_TASK_STORAGE`.
    r#type: *const [i32; 29],
    key: *const i32,
    value: *const ThreadState,
    max_entries: *const [i32; 0],
    /// `BPF_F_NO_PREALLOC`, which local storage requires.
    map_flags: *const [i32; 1],
}

// SAFETY: placeholder pointers the loader replaces; never dereferenced.
unsafe impl Sync for ThreadStorage {}

#[unsafe(link_section = ".maps")]
#[unsafe(export_name = "THREAD_STORAGE")]
static THREAD_STORAGE: ThreadStorage = ThreadStorage {
    r#type: core::ptr::null(),
    key: core::ptr::null(),
    value: core::ptr::null(),
    max_entries: core::ptr::null(),
    map_flags: core::ptr::null(),
};

const BPF_LOCAL_STORAGE_GET_F_CREATE: u64 = 1;

/// Wakeup times of threads whose task storage could not be created at the
/// wakeup, by thread id. The kernel refuses to create task storage while
/// this CPU is already inside a task-storage call, which a wakeup can
/// nest in (the serve test's workload met about one such wakeup per run,
/// each a lost run-queue wait before this map). Read once, at the
/// thread's first switch-in, when its storage is new.
#[map]
static EARLY_WAKEUPS: LruHashMap<u32, u64> = LruHashMap::with_max_entries(1024, 0);

/// The field at `off` of the task (or any struct) at `base`, a pointer
/// whose BTF type the verifier knows: it checks the offset against the
/// type and turns the load into one that cannot fault. The offsets are
/// `.rodata`, constants to the verifier (frozen before load).
#[inline(always)]
fn load<T>(base: *const u8, off: u32) -> T {
    // SAFETY: see above.
    unsafe { core::ptr::read_volatile(base.wrapping_add(off as usize).cast::<T>()) }
}

/// The task's state, created zeroed on first use (freed with the task);
/// None when the kernel cannot create it now (the caller counts the loss).
#[inline(always)]
fn state_of(task: *const u8) -> Option<*mut ThreadState> {
    // SAFETY: `task` is a BTF `task_struct` pointer, which the verifier
    // checks the helper's argument against.
    let t = unsafe {
        aya_ebpf::helpers::generated::bpf_task_storage_get(
            (&raw const THREAD_STORAGE).cast_mut().cast(),
            task.cast_mut().cast(),
            core::ptr::null_mut(),
            BPF_LOCAL_STORAGE_GET_F_CREATE,
        )
    };
    (!t.is_null()).then(|| t.cast())
}

/// The statistics of the thread `task` whose state is `st`: through the
/// slot it keeps, or looked up (and kept) the first time and whenever the
/// slot has been handed to another process.
#[inline(always)]
fn thread_stats(st: *mut ThreadState, task: *const u8, tgid: u32) -> Option<*mut SchedStats> {
    let key = key(tgid, load(task, rodata(&OFFSETS).task_pid));
    // SAFETY: the task's storage, valid during the program.
    unsafe {
        if (*st).has_slot != 0
            && (*st).key == key
            && let Some(s) = stats_at((*st).slot, &key)
        {
            return Some(s);
        }
        let slot = slot_of(&key, task as u64)?;
        (*st).slot = slot;
        (*st).key = key;
        (*st).has_slot = 1;
        stats_at(slot, &key)
    }
}

/// `sched_wakeup(struct task_struct *p)` and `sched_wakeup_new(p)`.
#[inline(always)]
fn wakeup(p: *const u8) {
    let tgid: u32 = load(p, rodata(&OFFSETS).task_tgid);
    if !traced(tgid) {
        return;
    }
    count(sched_counter::EVENTS);
    let now = now_ns();
    match state_of(p) {
        // SAFETY: the task's storage, valid during the program.
        Some(st) => unsafe { (*st).times.enqueued = now },
        None => {
            let pid: u32 = load(p, rodata(&OFFSETS).task_pid);
            if EARLY_WAKEUPS.insert(&pid, &now, 0).is_err() {
                count(sched_counter::THREADS_FULL);
            }
        }
    }
}

#[btf_tracepoint(function = "sched_wakeup")]
pub fn sched_wakeup(ctx: BtfTracePointContext) -> i32 {
    wakeup(ctx.arg(0));
    0
}

#[btf_tracepoint(function = "sched_wakeup_new")]
pub fn sched_wakeup_new(ctx: BtfTracePointContext) -> i32 {
    wakeup(ctx.arg(0));
    0
}

/// `sched_switch(bool preempt, struct task_struct *prev, struct task_struct
/// *next[, unsigned int prev_state])`, in `prev`'s context.
#[btf_tracepoint(function = "sched_switch")]
pub fn sched_switch(ctx: BtfTracePointContext) -> i32 {
    let o = rodata(&OFFSETS);
    let prev: *const u8 = ctx.arg(1);
    let next: *const u8 = ctx.arg(2);
    let prev_tgid: u32 = load(prev, o.task_tgid);
    let next_tgid: u32 = load(next, o.task_tgid);
    let (prev_traced, next_traced) = (traced(prev_tgid), traced(next_tgid));
    // Both sides idle or untraced: nothing to record, not even the time.
    if !prev_traced && !next_traced {
        return 0;
    }
    let now = now_ns();
    if prev_traced {
        count(sched_counter::EVENTS);
        let involuntary = involuntary(
            |n| ctx.arg::<u64>(n),
            || u64::from(load::<u32>(prev, o.task_state)),
        );
        let st = state_of(prev);
        if st.is_none() {
            count(sched_counter::THREADS_FULL);
        }
        if let Some(st) = st
            && let Some(s) = thread_stats(st, prev, prev_tgid)
        {
            // SAFETY: the task's storage, valid during the program.
            let on_cpu = times_out(unsafe { &raw mut (*st).times }, involuntary, now);
            switched_out(s, involuntary, on_cpu, now);
        }
    }
    if !next_traced {
        return 0;
    }
    let Some(st) = state_of(next) else {
        count(sched_counter::THREADS_FULL);
        return 0;
    };
    // SAFETY: the task's storage, valid during the program.
    let (enqueued, blocked) = unsafe {
        let t = &raw mut (*st).times;
        // New storage (never switched in or out): a wakeup may have gone
        // to EARLY_WAKEUPS.
        if (*t).enqueued == 0 && (*t).on_cpu == 0 && (*st).has_slot == 0 {
            let pid: u32 = load(next, o.task_pid);
            if let Some(&at) = EARLY_WAKEUPS.get(&pid) {
                (*t).enqueued = at;
                // govkit: allow(let-underscore-result) -- gone already is fine
                let _ = EARLY_WAKEUPS.remove(&pid);
            }
        }
        times_in(t, now)
    };
    if enqueued == 0 && blocked == 0 {
        return 0;
    }
    if let Some(s) = thread_stats(st, next, next_tgid) {
        switched_in(s, enqueued, blocked, now);
    }
    0
}

/// `sched_migrate_task(struct task_struct *p, int dest_cpu)`, before the
/// task's CPU changes.
#[btf_tracepoint(function = "sched_migrate_task")]
pub fn sched_migrate(ctx: BtfTracePointContext) -> i32 {
    let o = rodata(&OFFSETS);
    let p: *const u8 = ctx.arg(0);
    let tgid: u32 = load(p, o.task_tgid);
    if !traced(tgid) {
        return 0;
    }
    count(sched_counter::EVENTS);
    let pid: u32 = load(p, o.task_pid);
    let orig: u32 = load(p, o.task_cpu);
    if let Some(s) = stats(p as u64, tgid, pid) {
        migrated(s, orig, ctx.arg::<u64>(1) as u32);
    }
    0
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
