//! What both builds of the scheduler tracer share: configuration, the
//! per-process statistics and the code that fills them, the `--pid`
//! filter, counters and the histogram slot.
//!
//! Statistics live in an array (`SCHED_STATS`), one slot per process (or
//! thread), found through the `SCHED_SLOTS` hash: a thread of the BTF build
//! keeps its slot's index in its task storage, so that its events cost an
//! array access (inlined by the verifier) instead of a hash lookup (a
//! function call, about 80 ns per event on the test host). User space
//! frees the slots of processes that have exited one reporting interval
//! after removing them from `SCHED_SLOTS`, zeroed, through `FREE_SLOTS`.

use core::intrinsics::{AtomicOrdering, atomic_xadd};

use aya_ebpf::{
    helpers::{bpf_ktime_get_ns, bpf_probe_read_kernel},
    macros::map,
    maps::{Array, HashMap, PerCpuArray, Queue},
};
use govkit_ebpf_common::{
    HIST_SLOTS, MAX_CPUS, SCHED_ENTRIES, SchedKey, SchedOffsets, SchedStats, ThreadTimes,
    sched_counter,
};

// ---- configuration written by user space before load (.rodata) ----

#[unsafe(no_mangle)]
pub(crate) static OFFSETS: SchedOffsets = SchedOffsets {
    task_pid: 0,
    task_tgid: 0,
    task_state: 0,
    task_cpu: 0,
    task_comm: 0,
    switch_has_prev_state: 0,
    task_cgroups: 0,
    css_set_dfl_cgrp: 0,
    cgroup_kn: 0,
    kernfs_node_id: 0,
};
/// 1 when only the processes in `TARGETS` are traced.
#[unsafe(no_mangle)]
pub(crate) static FILTER_PIDS: u32 = 0;
/// 1 to aggregate per thread instead of per process.
#[unsafe(no_mangle)]
pub(crate) static PER_THREAD: u32 = 0;

// ---- maps ----

#[map]
pub(crate) static SCHED_SLOTS: HashMap<SchedKey, u32> = HashMap::with_max_entries(SCHED_ENTRIES, 0);
#[map]
pub(crate) static SCHED_STATS: Array<SchedStats> = Array::with_max_entries(SCHED_ENTRIES, 0);
/// Slots user space has freed (zeroed).
#[map]
pub(crate) static FREE_SLOTS: Queue<u32> = Queue::with_max_entries(SCHED_ENTRIES, 0);
/// Slots never handed out start at this index.
#[map]
pub(crate) static NEXT_SLOT: Array<u64> = Array::with_max_entries(1, 0);
#[map]
pub(crate) static TARGETS: HashMap<u32, u8> = HashMap::with_max_entries(1024, 0);
/// NUMA node of each CPU, filled by user space from sysfs.
#[map]
pub(crate) static CPU_NODE: Array<u32> = Array::with_max_entries(MAX_CPUS, 0);
#[map]
pub(crate) static SCHED_COUNTERS: PerCpuArray<u64> =
    PerCpuArray::with_max_entries(sched_counter::COUNT, 0);

const TASK_RUNNING: u64 = 0;
const BPF_NOEXIST: u64 = 1;

#[inline(always)]
pub(crate) fn now_ns() -> u64 {
    // SAFETY: a helper without arguments.
    unsafe { bpf_ktime_get_ns() }
}

#[inline(always)]
pub(crate) fn rodata<T: Copy>(v: &T) -> T {
    // SAFETY: reading our own static; volatile keeps the compiler from
    // folding the placeholder value user space overwrites before load.
    unsafe { core::ptr::read_volatile(v) }
}

#[inline(always)]
pub(crate) fn kread<T>(addr: u64) -> Option<T> {
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe { bpf_probe_read_kernel(addr as *const T) }.ok()
}

#[inline(always)]
pub(crate) fn count(index: u32) {
    if let Some(c) = SCHED_COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, programs do not preempt each other on a CPU.
        unsafe { *c += 1 };
    }
}

#[inline(always)]
pub(crate) fn add(p: *mut u64, v: u64) {
    // SAFETY: `p` points into a map value, which stays valid for the
    // program's run; several CPUs update the same value, hence atomic.
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(p, v) };
}

#[inline(always)]
pub(crate) fn traced(tgid: u32) -> bool {
    if tgid == 0 {
        return false; // idle
    }
    if rodata(&FILTER_PIDS) == 0 {
        return true;
    }
    // SAFETY: the value is not used, only its presence.
    unsafe { TARGETS.get(&tgid) }.is_some()
}

/// Whether a task left the CPU involuntarily, by the kernel's own rule for
/// nvcsw/nivcsw: preempted, or switched out while still runnable. `arg(n)`
/// is `sched_switch`'s n-th argument; `task_state` reads the task's state
/// on kernels whose `sched_switch` passes no `prev_state` (before 5.18).
#[inline(always)]
pub(crate) fn involuntary(arg: impl Fn(usize) -> u64, task_state: impl FnOnce() -> u64) -> bool {
    let state = if rodata(&OFFSETS).switch_has_prev_state != 0 {
        arg(3) & 0xffff_ffff
    } else {
        task_state()
    };
    arg(0) & 0xff != 0 || state == TASK_RUNNING
}

/// log2 slot of a duration in µs (0 and 1 µs both go to slot 0).
#[inline(always)]
pub(crate) fn slot(ns: u64) -> usize {
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

/// The key of a task's statistics.
#[inline(always)]
pub(crate) fn key(tgid: u32, pid: u32) -> SchedKey {
    SchedKey {
        tgid,
        tid: if rodata(&PER_THREAD) == 0 { 0 } else { pid },
    }
}

/// The statistics slot of `key`, handed out on first use (`task`: the
/// address of the task that asks, for the `comm` of a new entry).
#[inline(always)]
pub(crate) fn slot_of(key: &SchedKey, task: u64) -> Option<u32> {
    // SAFETY: a value of our map, copied at once.
    if let Some(&slot) = unsafe { SCHED_SLOTS.get(key) } {
        return Some(slot);
    }
    let slot = match FREE_SLOTS.pop() {
        Ok(Some(slot)) => slot,
        _ => {
            let next = NEXT_SLOT.get_ptr_mut(0)?;
            // SAFETY: a value of our map; CPUs race for it, hence atomic.
            // SeqCst: with Relaxed, this LLVM emits the BPF add without
            // BPF_FETCH although the old value is used (every slot was 1).
            let n = unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::SeqCst }>(next, 1) };
            if n >= u64::from(SCHED_ENTRIES) {
                count(sched_counter::STATS_FULL);
                return None;
            }
            n as u32
        }
    };
    let stats = SCHED_STATS.get_ptr_mut(slot)?;
    // SAFETY: a value of our array, zeroed (never used, or zeroed by user
    // space before it freed the slot); nobody else holds this slot yet.
    unsafe {
        (*stats).comm = kread(task + u64::from(rodata(&OFFSETS).task_comm)).unwrap_or([0; 16]);
        (*stats).cgroup_id = cgroup_id(task).unwrap_or(0);
        (*stats).key = *key;
    }
    if SCHED_SLOTS.insert(key, &slot, BPF_NOEXIST).is_ok() {
        return Some(slot);
    }
    // Another CPU gave this key a slot meanwhile (or the table is full):
    // ours goes back.
    // govkit: allow(let-underscore-result) -- the queue holds every slot; a failed push loses one slot, not a figure
    let _ = FREE_SLOTS.push(slot, 0);
    // SAFETY: as above.
    match unsafe { SCHED_SLOTS.get(key) } {
        Some(&slot) => Some(slot),
        None => {
            count(sched_counter::STATS_FULL);
            None
        }
    }
}

/// `task->cgroups->dfl_cgrp->kn->id`: the cgroup v2 id of `task`, read once
/// per new entry (four reads; never on the per-event path).
#[inline(always)]
fn cgroup_id(task: u64) -> Option<u64> {
    let o = rodata(&OFFSETS);
    let css_set: u64 = kread(task + u64::from(o.task_cgroups))?;
    let cgroup: u64 = kread(css_set + u64::from(o.css_set_dfl_cgrp))?;
    let kn: u64 = kread(cgroup + u64::from(o.cgroup_kn))?;
    kread(kn + u64::from(o.kernfs_node_id))
}

/// The statistics of `slot`, if they are still `key`'s.
#[inline(always)]
pub(crate) fn stats_at(slot: u32, key: &SchedKey) -> Option<*mut SchedStats> {
    let stats = SCHED_STATS.get_ptr_mut(slot)?;
    // SAFETY: a value of our array, valid during the program.
    (unsafe { (*stats).key } == *key).then_some(stats)
}

/// The statistics of a task (`task`: its address, for the `comm` of a new
/// entry), through `SCHED_SLOTS`.
#[inline(always)]
pub(crate) fn stats(task: u64, tgid: u32, pid: u32) -> Option<*mut SchedStats> {
    let key = key(tgid, pid);
    stats_at(slot_of(&key, task)?, &key)
}

/// Counts a switch-out of a traced task: `involuntary` by the kernel's
/// rule for nvcsw/nivcsw, `on_cpu` the switch-in time (0: unknown).
#[inline(always)]
pub(crate) fn switched_out(s: *mut SchedStats, involuntary: bool, on_cpu: u64, now: u64) {
    // SAFETY: a value of our map, valid during the program.
    unsafe {
        if involuntary {
            add(&raw mut (*s).involuntary_switches, 1);
        } else {
            add(&raw mut (*s).voluntary_switches, 1);
        }
        if on_cpu != 0 && now > on_cpu {
            add(&raw mut (*s).oncpu_ns, now - on_cpu);
        }
    }
}

/// A traced thread is switched out at `now`: its timestamps start what
/// follows (a run-queue wait if `involuntary`, else a blocked period).
/// Returns when it was switched in (0: not seen).
#[inline(always)]
pub(crate) fn times_out(t: *mut ThreadTimes, involuntary: bool, now: u64) -> u64 {
    // SAFETY: a map value or the task's storage, valid during the program.
    unsafe {
        let on_cpu = (*t).on_cpu;
        (*t).on_cpu = 0;
        if involuntary {
            (*t).enqueued = now;
        } else {
            (*t).blocked = now;
        }
        on_cpu
    }
}

/// A traced thread is switched in at `now`: returns since when it waited
/// on a run queue and was blocked (0: not), and restarts its timestamps.
#[inline(always)]
pub(crate) fn times_in(t: *mut ThreadTimes, now: u64) -> (u64, u64) {
    // SAFETY: a map value or the task's storage, valid during the program.
    unsafe {
        let seen = ((*t).enqueued, (*t).blocked);
        (*t).enqueued = 0;
        (*t).blocked = 0;
        (*t).on_cpu = now;
        seen
    }
}

/// Records what ends when a traced task is switched in at `now`: a wait on
/// a run queue since `enqueued`, a blocked period since `blocked` (0: none).
#[inline(always)]
pub(crate) fn switched_in(s: *mut SchedStats, enqueued: u64, blocked: u64, now: u64) {
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
}

/// Counts a migration of a traced task from CPU `orig` to `dest`.
#[inline(always)]
pub(crate) fn migrated(s: *mut SchedStats, orig: u32, dest: u32) {
    // SAFETY: a value of our map, valid during the program.
    unsafe { add(&raw mut (*s).migrations, 1) };
    if let (Some(a), Some(b)) = (CPU_NODE.get(orig), CPU_NODE.get(dest))
        && a != b
    {
        // SAFETY: as above.
        unsafe { add(&raw mut (*s).numa_migrations, 1) };
    }
}
