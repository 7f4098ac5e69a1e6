//! Kernel side of `govkit trace sched`.
//!
//! Everything is aggregated here: per process (or per thread) counters and
//! log2 histograms in `SCHED_STATS`, per-thread timestamps in
//! `THREAD_TIMES`. Nothing goes through a ring buffer, so the cost per
//! scheduler event is a few map lookups whatever the event rate, and user
//! space only reads the aggregates.
//!
//! Run-queue latency follows runqlat: a thread is enqueued when it is woken
//! (`sched_wakeup`, `sched_wakeup_new`) or switched out while still runnable
//! (preempted); the wait ends when it is switched in. Off-CPU time is the
//! time from a voluntary switch-out (blocking) to the next switch-in.
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
    reason = "eBPF programs read kernel memory through helpers"
)]

use core::intrinsics::{AtomicOrdering, atomic_xadd};

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns, bpf_probe_read_kernel},
    macros::{map, raw_tracepoint},
    maps::{Array, HashMap, LruHashMap, PerCpuArray},
    programs::RawTracePointContext,
};
use govkit_ebpf_common::{
    HIST_SLOTS, MAX_CPUS, SchedKey, SchedOffsets, SchedStats, ThreadTimes, sched_counter,
};

// ---- configuration written by user space before load (.rodata) ----

#[unsafe(no_mangle)]
static OFFSETS: SchedOffsets = SchedOffsets {
    task_pid: 0,
    task_tgid: 0,
    task_state: 0,
    task_cpu: 0,
    task_comm: 0,
    switch_has_prev_state: 0,
};
/// 1 when only the processes in `TARGETS` are traced.
#[unsafe(no_mangle)]
static FILTER_PIDS: u32 = 0;
/// 1 to aggregate per thread instead of per process.
#[unsafe(no_mangle)]
static PER_THREAD: u32 = 0;

// ---- maps ----

#[map]
static SCHED_STATS: HashMap<SchedKey, SchedStats> = HashMap::with_max_entries(10_240, 0);
#[map]
static THREAD_TIMES: LruHashMap<u32, ThreadTimes> = LruHashMap::with_max_entries(65_536, 0);
#[map]
static TARGETS: HashMap<u32, u8> = HashMap::with_max_entries(1024, 0);
/// NUMA node of each CPU, filled by user space from sysfs.
#[map]
static CPU_NODE: Array<u32> = Array::with_max_entries(MAX_CPUS, 0);
#[map]
static SCHED_COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(sched_counter::COUNT, 0);
/// A zeroed entry (only its `comm` is ever written) to insert new stats from:
/// `SchedStats` is too big for the BPF stack.
#[map]
static STATS_TEMPLATE: PerCpuArray<SchedStats> = PerCpuArray::with_max_entries(1, 0);

const TASK_RUNNING: u64 = 0;
const BPF_NOEXIST: u64 = 1;

#[inline(always)]
fn now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_ns() }
}

#[inline(always)]
fn rodata<T: Copy>(v: &T) -> T {
    // SAFETY: reading our own static; volatile keeps the compiler from
    // folding the placeholder value user space overwrites before load.
    unsafe { core::ptr::read_volatile(v) }
}

#[inline(always)]
fn kread<T>(addr: u64) -> Option<T> {
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe { bpf_probe_read_kernel(addr as *const T) }.ok()
}

#[inline(always)]
fn count(index: u32) {
    if let Some(c) = SCHED_COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, programs do not preempt each other on a CPU.
        unsafe { *c += 1 };
    }
}

#[inline(always)]
fn add(p: *mut u64, v: u64) {
    // SAFETY: `p` points into a map value, which stays valid for the
    // program's run; several CPUs update the same value, hence atomic.
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(p, v) };
}

#[inline(always)]
fn traced(tgid: u32) -> bool {
    if tgid == 0 {
        return false; // idle
    }
    if rodata(&FILTER_PIDS) == 0 {
        return true;
    }
    // SAFETY: the value is not used, only its presence.
    unsafe { TARGETS.get(&tgid) }.is_some()
}

/// log2 slot of a duration in µs (0 and 1 µs both go to slot 0).
#[inline(always)]
fn slot(ns: u64) -> usize {
    let mut v = ns / 1000;
    let mut r = 0usize;
    if v >= 1 << 32 {
        v >>= 32;
        r += 32;
    }
    if v >= 1 << 16 {
        v >>= 16;
        r += 16;
    }
    if v >= 1 << 8 {
        v >>= 8;
        r += 8;
    }
    if v >= 1 << 4 {
        v >>= 4;
        r += 4;
    }
    if v >= 1 << 2 {
        v >>= 2;
        r += 2;
    }
    if v >= 1 << 1 {
        r += 1;
    }
    if r >= HIST_SLOTS { HIST_SLOTS - 1 } else { r }
}

/// The stats entry of a task, created on first use.
#[inline(always)]
fn stats(task: u64, tgid: u32, pid: u32) -> Option<*mut SchedStats> {
    let key = SchedKey {
        tgid,
        tid: if rodata(&PER_THREAD) == 0 { 0 } else { pid },
    };
    if let Some(p) = SCHED_STATS.get_ptr_mut(&key) {
        return Some(p);
    }
    let template = STATS_TEMPLATE.get_ptr_mut(0)?;
    let o = rodata(&OFFSETS);
    // SAFETY: per-CPU slot of our own array; only `comm` is written.
    unsafe {
        (*template).comm = kread(task + u64::from(o.task_comm)).unwrap_or([0; 16]);
        // Another CPU may have created it meanwhile: that is fine.
        if SCHED_STATS.insert(&key, &*template, BPF_NOEXIST).is_err()
            && SCHED_STATS.get_ptr_mut(&key).is_none()
        {
            count(sched_counter::STATS_FULL);
            return None;
        }
    }
    SCHED_STATS.get_ptr_mut(&key)
}

#[inline(always)]
fn times(pid: u32) -> Option<*mut ThreadTimes> {
    if let Some(t) = THREAD_TIMES.get_ptr_mut(&pid) {
        return Some(t);
    }
    if THREAD_TIMES
        .insert(&pid, &ThreadTimes::default(), 0)
        .is_err()
    {
        count(sched_counter::THREADS_FULL);
        return None;
    }
    THREAD_TIMES.get_ptr_mut(&pid)
}

/// `sched_wakeup(struct task_struct *p)` and `sched_wakeup_new(p)`.
#[inline(always)]
fn wakeup(p: u64) {
    let o = rodata(&OFFSETS);
    let Some(tgid) = kread::<u32>(p + u64::from(o.task_tgid)) else {
        return;
    };
    if !traced(tgid) {
        return;
    }
    count(sched_counter::EVENTS);
    let Some(pid) = kread::<u32>(p + u64::from(o.task_pid)) else {
        return;
    };
    if let Some(t) = times(pid) {
        // SAFETY: a value of our map, valid during the program.
        unsafe { (*t).enqueued = now_ns() };
    }
}

#[raw_tracepoint(tracepoint = "sched_wakeup")]
pub fn sched_wakeup(ctx: RawTracePointContext) -> i32 {
    wakeup(ctx.arg(0));
    0
}

#[raw_tracepoint(tracepoint = "sched_wakeup_new")]
pub fn sched_wakeup_new(ctx: RawTracePointContext) -> i32 {
    wakeup(ctx.arg(0));
    0
}

/// `sched_switch(bool preempt, struct task_struct *prev, struct task_struct
/// *next[, unsigned int prev_state])`, in `prev`'s context.
#[raw_tracepoint(tracepoint = "sched_switch")]
pub fn sched_switch(ctx: RawTracePointContext) -> i32 {
    let o = rodata(&OFFSETS);
    let now = now_ns();
    let preempt = ctx.arg::<u64>(0) & 0xff != 0;
    let prev: u64 = ctx.arg(1);
    let next: u64 = ctx.arg(2);
    // Current is still `prev` here.
    let pid_tgid = bpf_get_current_pid_tgid();
    let (prev_tgid, prev_pid) = ((pid_tgid >> 32) as u32, pid_tgid as u32);
    if traced(prev_tgid) {
        count(sched_counter::EVENTS);
        let state = if o.switch_has_prev_state != 0 {
            ctx.arg::<u64>(3) & 0xffff_ffff
        } else {
            kread::<u32>(prev + u64::from(o.task_state)).map_or(TASK_RUNNING, u64::from)
        };
        // The kernel's own rule for nvcsw/nivcsw.
        let involuntary = preempt || state == TASK_RUNNING;
        if let Some(s) = stats(prev, prev_tgid, prev_pid) {
            // SAFETY: a value of our map, valid during the program.
            unsafe {
                if involuntary {
                    add(&raw mut (*s).involuntary_switches, 1);
                } else {
                    add(&raw mut (*s).voluntary_switches, 1);
                }
            }
            if let Some(t) = times(prev_pid) {
                // SAFETY: as above.
                unsafe {
                    if (*t).on_cpu != 0 && now > (*t).on_cpu {
                        add(&raw mut (*s).oncpu_ns, now - (*t).on_cpu);
                    }
                    (*t).on_cpu = 0;
                    if involuntary {
                        (*t).enqueued = now;
                    } else {
                        (*t).blocked = now;
                    }
                }
            }
        }
    }
    let Some(next_pid) = kread::<u32>(next + u64::from(o.task_pid)) else {
        return 0;
    };
    if next_pid == 0 {
        return 0;
    }
    let Some(next_tgid) = kread::<u32>(next + u64::from(o.task_tgid)) else {
        return 0;
    };
    if !traced(next_tgid) {
        return 0;
    }
    let Some(t) = times(next_pid) else {
        return 0;
    };
    // SAFETY: a value of our map, valid during the program.
    let (enqueued, blocked) = unsafe {
        let e = (*t).enqueued;
        let b = (*t).blocked;
        (*t).enqueued = 0;
        (*t).blocked = 0;
        (*t).on_cpu = now;
        (e, b)
    };
    if enqueued == 0 && blocked == 0 {
        return 0;
    }
    let Some(s) = stats(next, next_tgid, next_pid) else {
        return 0;
    };
    // SAFETY: a value of our map, valid during the program.
    unsafe {
        if enqueued != 0 && now >= enqueued {
            let d = now - enqueued;
            add(&raw mut (*s).runq_count, 1);
            add(&raw mut (*s).runq_sum_ns, d);
            if let Some(b) = (*s).runq_hist.get_mut(slot(d)) {
                add(b, 1);
            }
        }
        if blocked != 0 && now >= blocked {
            let d = now - blocked;
            add(&raw mut (*s).offcpu_count, 1);
            add(&raw mut (*s).offcpu_sum_ns, d);
            if let Some(b) = (*s).offcpu_hist.get_mut(slot(d)) {
                add(b, 1);
            }
        }
    }
    0
}

/// `sched_migrate_task(struct task_struct *p, int dest_cpu)`, before the
/// task's CPU changes.
#[raw_tracepoint(tracepoint = "sched_migrate_task")]
pub fn sched_migrate(ctx: RawTracePointContext) -> i32 {
    let o = rodata(&OFFSETS);
    let p: u64 = ctx.arg(0);
    let dest = ctx.arg::<u64>(1) as u32;
    let Some(tgid) = kread::<u32>(p + u64::from(o.task_tgid)) else {
        return 0;
    };
    if !traced(tgid) {
        return 0;
    }
    count(sched_counter::EVENTS);
    let (Some(pid), Some(orig)) = (
        kread::<u32>(p + u64::from(o.task_pid)),
        kread::<u32>(p + u64::from(o.task_cpu)),
    ) else {
        return 0;
    };
    let Some(s) = stats(p, tgid, pid) else {
        return 0;
    };
    // SAFETY: a value of our map, valid during the program.
    unsafe { add(&raw mut (*s).migrations, 1) };
    if let (Some(a), Some(b)) = (CPU_NODE.get(orig), CPU_NODE.get(dest))
        && a != b
    {
        // SAFETY: as above.
        unsafe { add(&raw mut (*s).numa_migrations, 1) };
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
