//! Kernel side of `govkit trace sched`, the build for kernels that refuse
//! the BTF one (`main.rs`): raw tracepoints, task fields read with
//! `bpf_probe_read_kernel`, per-thread timestamps in an LRU hash.
//! The same aggregates in the same maps (`shared.rs`).
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

mod shared;

use aya_ebpf::{
    helpers::bpf_get_current_pid_tgid,
    macros::{map, raw_tracepoint},
    maps::LruHashMap,
    programs::RawTracePointContext,
};
use govkit_ebpf_common::{ThreadTimes, sched_counter};

use crate::shared::{
    OFFSETS, count, involuntary, kread, migrated, now_ns, rodata, stats, switched_in, switched_out,
    times_in, times_out, traced,
};

#[map]
static THREAD_TIMES: LruHashMap<u32, ThreadTimes> = LruHashMap::with_max_entries(65_536, 0);

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
    let prev: u64 = ctx.arg(1);
    let next: u64 = ctx.arg(2);
    // Current is still `prev` here.
    let pid_tgid = bpf_get_current_pid_tgid();
    let (prev_tgid, prev_pid) = ((pid_tgid >> 32) as u32, pid_tgid as u32);
    if traced(prev_tgid) {
        count(sched_counter::EVENTS);
        // An unreadable state counts as runnable.
        let involuntary = involuntary(
            |n| ctx.arg::<u64>(n),
            || kread::<u32>(prev + u64::from(o.task_state)).map_or(0, u64::from),
        );
        if let Some(s) = stats(prev, prev_tgid, prev_pid) {
            let on_cpu = times(prev_pid).map_or(0, |t| times_out(t, involuntary, now));
            switched_out(s, involuntary, on_cpu, now);
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
    let (enqueued, blocked) = times_in(t, now);
    if enqueued == 0 && blocked == 0 {
        return 0;
    }
    if let Some(s) = stats(next, next_tgid, next_pid) {
        switched_in(s, enqueued, blocked, now);
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
    if let Some(s) = stats(p, tgid, pid) {
        migrated(s, orig, dest);
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
