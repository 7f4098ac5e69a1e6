//! `govkit trace sched`: run-queue latency, off-CPU time, context switches
//! and (cross-node) migrations per process or thread, aggregated by the
//! kernel programs of `ebpf-programs/kernel/src/sched/`; user space reads
//! the aggregates.

use std::collections::HashMap;
use std::time::Instant;

use aya::maps::{Array, HashMap as BpfHashMap, MapData, PerCpuArray, Queue};
use aya::{Ebpf, EbpfLoader};
use govkit_ebpf_common::{HIST_SLOTS, MAX_CPUS, SchedKey, SchedOffsets, SchedStats, sched_counter};
use serde::Serialize;

use crate::btf::vmlinux_btf;
use crate::procfs::cgroup_of;
pub use crate::programs::ProgramCost;
use crate::programs::{
    attach_btf_tracepoint, attach_raw, check_pids, enable_run_time_stats, load_error,
    program_costs, set_targets, take_map, with_sources,
};
use crate::{TraceError, env, procfs, sched_object_bytes};

/// What to trace.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these processes (empty: every process). Filtered in the kernel.
    pub pids: Vec<u32>,
    /// Aggregate per thread instead of per process.
    pub per_thread: bool,
    /// Only processes whose `comm` is one of these (user space).
    pub comms: Vec<String>,
    /// Only processes in this cgroup (v2 path, e.g. `/system.slice/x.service`)
    /// or below it (user space; exited processes cannot be placed and are
    /// left out).
    pub cgroup: Option<String>,
    /// Turn on the kernel's BPF run-time statistics and report them.
    pub bpf_stats: bool,
}

/// The kernel's aggregates at one moment.
#[derive(Clone)]
pub struct Snapshot {
    pub at: Instant,
    pub entries: HashMap<SchedKey, SchedStats>,
    pub counters: SchedCounters,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("entries", &self.entries.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// Kernel-side counters (summed over CPUs).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SchedCounters {
    /// Scheduler events handled for traced tasks.
    pub events: u64,
    /// Events dropped because the per-process table was full.
    pub stats_map_full: u64,
    /// Threads that could not get a timestamp slot.
    pub threads_map_full: u64,
}

/// One bucket of a log2 histogram, bounds inclusive like runqlat's.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Bucket {
    pub low_us: u64,
    pub high_us: u64,
    pub count: u64,
}

/// A latency distribution in µs. Percentiles are estimated from the log2
/// histogram (linear within the bucket).
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub histogram: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessSched {
    pub pid: u32,
    /// Set with `--per-thread`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    pub comm: String,
    /// Whether the process (thread) was still alive at the report.
    pub alive: bool,
    /// Voluntary + involuntary.
    pub context_switches: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
    pub migrations: u64,
    pub numa_migrations: u64,
    pub oncpu_us: u64,
    pub runq_latency_us: Latency,
    pub offcpu_us: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchedReport {
    pub duration_s: f64,
    pub processes: Vec<ProcessSched>,
    /// Scheduler events the kernel side could not record.
    pub lost_events: u64,
    pub counters: SchedCounters,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<ProgramCost>,
}

/// A loaded and attached scheduler tracer.
pub struct SchedTracer {
    ebpf: Ebpf,
    /// Process (thread) to its slot of `stats`.
    slots: BpfHashMap<MapData, SchedKey, u32>,
    stats: Array<MapData, SchedStats>,
    /// Slots given back to the kernel, zeroed.
    free: Queue<MapData, u32>,
    /// Slots of exited processes removed from `slots` at the last
    /// `forget_exited`: freed at the next one, when no program can still
    /// be adding to them (a thread's last switch-out can come after its
    /// process left /proc).
    quarantine: Vec<u32>,
    counters: PerCpuArray<MapData, u64>,
    bpf_stats: Option<std::os::fd::OwnedFd>,
    options: Options,
    /// Which build of the kernel programs runs.
    pub build: Build,
    /// The kernel hooks its programs are attached to (`tp_btf/sched_switch`, …).
    pub hooks: Vec<String>,
    pub started: Instant,
    pub host: env::Host,
    /// Nodes of the host (1 on a single-node machine).
    pub nodes: usize,
}

impl std::fmt::Debug for SchedTracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedTracer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn offsets(host: &env::Host) -> Result<SchedOffsets, TraceError> {
    let btf = vmlinux_btf()?;
    let what = format!("{} (kernel {})", env::BTF, host.kernel);
    let off = |s: &str, m: &str| btf.member_offset(s, m).map_err(|e| load_error(&what, e));
    // `__state` since 5.14, `state` before.
    let task_state = off("task_struct", "__state").or_else(|_| off("task_struct", "state"))?;
    // task_cpu(): `thread_info.cpu` with THREAD_INFO_IN_TASK on 5.16+,
    // `task_struct.cpu` otherwise.
    let task_cpu = match (off("task_struct", "thread_info"), off("thread_info", "cpu")) {
        (Ok(ti), Ok(cpu)) => ti + cpu,
        _ => off("task_struct", "cpu")?,
    };
    let switch_args = btf
        .tracepoint_args("sched_switch")
        .ok_or_else(|| load_error(&what, "no BTF-typed tracepoint sched_switch in this kernel"))?;
    Ok(SchedOffsets {
        task_pid: off("task_struct", "pid")?,
        task_tgid: off("task_struct", "tgid")?,
        task_state,
        task_cpu,
        task_comm: off("task_struct", "comm")?,
        switch_has_prev_state: u32::from(switch_args >= 4),
        task_cgroups: off("task_struct", "cgroups")?,
        css_set_dfl_cgrp: off("css_set", "dfl_cgrp")?,
        cgroup_kn: off("cgroup", "kn")?,
        kernfs_node_id: off("kernfs_node", "id")?,
    })
}

/// Set to 1, `trace sched` uses the raw-tracepoint build even where the
/// BTF build loads (tests, and a way out should the BTF build misbehave).
pub const COMPAT_ENV: &str = "GOVKIT_TRACE_SCHED_COMPAT";

/// Which build of the kernel programs a tracer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// BTF-typed tracepoints, task fields as plain loads, per-thread
    /// timestamps in task storage.
    Btf,
    /// Raw tracepoints, `bpf_probe_read_kernel` and an LRU hash, and why
    /// (the BTF build's load error, or the variable that forced it).
    Compat(String),
}

impl std::fmt::Display for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Btf => f.write_str("BTF tracepoints, task storage"),
            Self::Compat(why) => write!(f, "raw tracepoints, the costlier build: {why}"),
        }
    }
}

/// What both builds are loaded with.
struct Config<'a> {
    offsets: SchedOffsets,
    filter: u32,
    per_thread: u32,
    pids: &'a [u32],
    topology: &'a numa_tune::topology::Topology,
}

/// The programs of both builds and their tracepoints.
const PROGRAMS: [(&str, &str); 4] = [
    ("sched_wakeup", "sched_wakeup"),
    ("sched_wakeup_new", "sched_wakeup_new"),
    ("sched_switch", "sched_switch"),
    ("sched_migrate", "sched_migrate_task"),
];

/// Loads one build's object with the configuration, and fills its maps.
fn load_object(config: &Config<'_>, compat: bool) -> Result<Ebpf, TraceError> {
    let bytes = sched_object_bytes(compat)?;
    let mut ebpf = EbpfLoader::new()
        // The task-storage map has no typed aya API; only the kernel uses it.
        .allow_unsupported_maps()
        .override_global("OFFSETS", &config.offsets, true)
        .override_global("FILTER_PIDS", &config.filter, true)
        .override_global("PER_THREAD", &config.per_thread, true)
        .load(&bytes)
        .map_err(|e| load_error("loading the eBPF object", with_sources(&e)))?;
    set_targets(&mut ebpf, config.pids)?;
    let mut nodes: Array<_, u32> =
        Array::try_from(map(&mut ebpf, "CPU_NODE")?).map_err(|e| load_error("map CPU_NODE", e))?;
    for cpu in config.topology.cpus.iter().filter(|c| c.id < MAX_CPUS) {
        nodes
            .set(cpu.id, cpu.node, 0)
            .map_err(|e| load_error("map CPU_NODE", e))?;
    }
    Ok(ebpf)
}

/// One build (`compat`: the raw-tracepoint one) loaded and attached, and
/// its hooks.
fn load(config: &Config<'_>, compat: bool) -> Result<(Ebpf, Vec<String>), TraceError> {
    let btf = if compat {
        None
    } else {
        Some(aya::Btf::from_sys_fs().map_err(|e| load_error(env::BTF, e))?)
    };
    let mut ebpf = load_object(config, compat)?;
    let mut hooks = Vec::new();
    for (prog, tp) in PROGRAMS {
        let hook = match &btf {
            Some(btf) => attach_btf_tracepoint(&mut ebpf, prog, tp, btf)?,
            None => attach_raw(&mut ebpf, prog, tp)?,
        };
        hooks.push(hook.name());
    }
    Ok((ebpf, hooks))
}

fn map<'a>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut aya::maps::Map, TraceError> {
    ebpf.map_mut(name)
        .ok_or_else(|| load_error("eBPF object", format!("no map {name}")))
}

impl SchedTracer {
    /// Checks the host, loads the programs and attaches them.
    pub fn start(options: Options) -> Result<Self, TraceError> {
        check_pids(&options.pids)?;
        let host = env::preflight()?;
        let offsets = offsets(&host)?;
        let topology = numa_tune::topology::Topology::read(&numa_tune::topology::default_root())
            .map_err(|e| load_error("reading the NUMA topology from /sys", e))?;
        let config = Config {
            offsets,
            filter: u32::from(!options.pids.is_empty()),
            per_thread: u32::from(options.per_thread),
            pids: &options.pids,
            topology: &topology,
        };
        let forced = std::env::var_os(COMPAT_ENV).is_some_and(|v| v == "1");
        let ((mut ebpf, hooks), build) = if forced {
            let why = format!("{COMPAT_ENV}=1");
            (load(&config, true)?, Build::Compat(why))
        } else {
            match load(&config, false) {
                Ok(loaded) => (loaded, Build::Btf),
                // Task storage or BTF tracepoints refused (an older or
                // unusual kernel): the same figures, at a higher cost.
                Err(e) => {
                    tracing::warn!(
                        "trace sched: the kernel refused the BTF build ({e}); using the raw-tracepoint build, which costs about 1.6 times as much per scheduler event"
                    );
                    (load(&config, true)?, Build::Compat(e.to_string()))
                }
            }
        };
        let bpf_stats = if options.bpf_stats {
            Some(enable_run_time_stats()?)
        } else {
            None
        };
        let slots = BpfHashMap::try_from(take_map(&mut ebpf, "SCHED_SLOTS")?)
            .map_err(|e| load_error("map SCHED_SLOTS", e))?;
        let stats = Array::try_from(take_map(&mut ebpf, "SCHED_STATS")?)
            .map_err(|e| load_error("map SCHED_STATS", e))?;
        let free = Queue::try_from(take_map(&mut ebpf, "FREE_SLOTS")?)
            .map_err(|e| load_error("map FREE_SLOTS", e))?;
        let counters = PerCpuArray::try_from(take_map(&mut ebpf, "SCHED_COUNTERS")?)
            .map_err(|e| load_error("map SCHED_COUNTERS", e))?;
        Ok(Self {
            ebpf,
            slots,
            stats,
            free,
            quarantine: Vec::new(),
            hooks,
            counters,
            bpf_stats,
            build,
            options,
            started: Instant::now(),
            host,
            nodes: topology.nodes.len(),
        })
    }

    /// Reads the kernel's aggregates.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let sum = |i: u32| self.counters.get(&i, 0).map_or(0, |v| v.iter().sum());
        Snapshot {
            at: Instant::now(),
            entries: self
                .slots
                .iter()
                .filter_map(Result::ok)
                .filter_map(|(key, slot)| {
                    let stats = self.stats.get(&slot, 0).ok()?;
                    // A slot being handed over (the kernel sets the key
                    // before it publishes the slot).
                    (stats.key == key).then_some((key, stats))
                })
                .collect(),
            counters: SchedCounters {
                events: sum(sched_counter::EVENTS),
                stats_map_full: sum(sched_counter::STATS_FULL),
                threads_map_full: sum(sched_counter::THREADS_FULL),
            },
        }
    }

    /// Slots of the kernel's statistics array handed out from its unused
    /// end so far: freed slots are handed out again first, so this stays
    /// near the most processes alive at once, not the number ever seen.
    #[must_use]
    pub fn slots_used(&self) -> u64 {
        self.ebpf
            .map("NEXT_SLOT")
            .and_then(|m| Array::<_, u64>::try_from(m).ok())
            .and_then(|a| a.get(&0, 0).ok())
            .map_or(0, |n| n.min(u64::from(govkit_ebpf_common::SCHED_ENTRIES)))
    }

    /// Drops the kernel entries of processes that have exited (after their
    /// last figures were taken): keeps the table from filling up on a long
    /// run. Their slots go back to the kernel at the next call. Returns the
    /// keys removed.
    pub fn forget_exited(&mut self, snapshot: &Snapshot) -> Vec<SchedKey> {
        for slot in std::mem::take(&mut self.quarantine) {
            // A slot that cannot be zeroed stays out of use: a smaller
            // table, never another process's figures.
            if self.stats.set(slot, SchedStats::default(), 0).is_ok() {
                self.free.push(slot, 0).unwrap_or_default();
            }
        }
        let dead: Vec<SchedKey> = snapshot
            .entries
            .keys()
            .filter(|&&k| !task_alive(k))
            .copied()
            .collect();
        for k in &dead {
            if let Ok(slot) = self.slots.get(k, 0)
                && self.slots.remove(k).is_ok()
            {
                self.quarantine.push(slot);
            }
        }
        dead
    }

    /// The report for what happened between `base` (or the start) and `now`.
    #[must_use]
    pub fn report(&self, now: &Snapshot, base: Option<&Snapshot>) -> SchedReport {
        let start = base.map_or(self.started, |b| b.at);
        let mut processes: Vec<ProcessSched> = now
            .entries
            .iter()
            .filter_map(|(k, s)| {
                let s = match base.and_then(|b| b.entries.get(k)) {
                    Some(b) => diff(s, b),
                    None => *s,
                };
                if s.voluntary_switches + s.involuntary_switches + s.migrations + s.runq_count == 0
                {
                    return None;
                }
                let p = process(*k, &s);
                self.selected(&p).then_some(p)
            })
            .collect();
        // Most time spent waiting on a run queue first.
        let waited = |p: &ProcessSched| p.runq_latency_us.mean * float(p.runq_latency_us.count);
        processes.sort_by(|a, b| {
            waited(b)
                .total_cmp(&waited(a))
                .then(a.pid.cmp(&b.pid))
                .then(a.tid.cmp(&b.tid))
        });
        let c = match base {
            Some(b) => SchedCounters {
                events: now.counters.events.saturating_sub(b.counters.events),
                stats_map_full: now
                    .counters
                    .stats_map_full
                    .saturating_sub(b.counters.stats_map_full),
                threads_map_full: now
                    .counters
                    .threads_map_full
                    .saturating_sub(b.counters.threads_map_full),
            },
            None => now.counters,
        };
        SchedReport {
            duration_s: now.at.saturating_duration_since(start).as_secs_f64(),
            processes,
            lost_events: c.stats_map_full + c.threads_map_full,
            counters: c,
            programs: if self.bpf_stats.is_some() {
                program_costs(&self.ebpf)
            } else {
                Vec::new()
            },
        }
    }

    /// Runs and run time of the sched programs (meaningful while the
    /// kernel's BPF run-time stats are on, by this tracer or another).
    #[must_use]
    pub fn program_costs(&self) -> Vec<ProgramCost> {
        program_costs(&self.ebpf)
    }

    fn selected(&self, p: &ProcessSched) -> bool {
        if !self.options.comms.is_empty() && !self.options.comms.contains(&p.comm) {
            return false;
        }
        if let Some(want) = &self.options.cgroup {
            let Some(have) = cgroup_of(p.pid) else {
                return false;
            };
            let want = want.trim_end_matches('/');
            return have == want
                || have
                    .strip_prefix(want)
                    .is_some_and(|rest| rest.starts_with('/'))
                || want.is_empty();
        }
        true
    }
}

fn task_alive(k: SchedKey) -> bool {
    if k.tid == 0 {
        procfs::exists(k.tgid)
    } else {
        std::path::Path::new(&format!("/proc/{}/task/{}", k.tgid, k.tid)).exists()
    }
}

fn process(k: SchedKey, s: &SchedStats) -> ProcessSched {
    let alive = task_alive(k);
    let live_comm = if !alive {
        None
    } else if k.tid == 0 {
        procfs::comm(k.tgid)
    } else {
        std::fs::read_to_string(format!("/proc/{}/task/{}/comm", k.tgid, k.tid))
            .ok()
            .map(|c| c.trim_end().to_owned())
    };
    let comm = live_comm.unwrap_or_else(|| {
        let end = s.comm.iter().position(|&b| b == 0).unwrap_or(s.comm.len());
        String::from_utf8_lossy(&s.comm[..end]).into_owned()
    });
    ProcessSched {
        pid: k.tgid,
        tid: (k.tid != 0).then_some(k.tid),
        comm,
        alive,
        context_switches: s.voluntary_switches + s.involuntary_switches,
        voluntary_switches: s.voluntary_switches,
        involuntary_switches: s.involuntary_switches,
        migrations: s.migrations,
        numa_migrations: s.numa_migrations,
        oncpu_us: s.oncpu_ns / 1000,
        runq_latency_us: latency(&s.runq_hist, s.runq_count, s.runq_sum_ns),
        offcpu_us: latency(&s.offcpu_hist, s.offcpu_count, s.offcpu_sum_ns),
    }
}

/// `a - b` field by field (`b` is an earlier reading of the same entry).
#[must_use]
pub fn diff(a: &SchedStats, b: &SchedStats) -> SchedStats {
    let mut d = *a;
    d.voluntary_switches = a.voluntary_switches.saturating_sub(b.voluntary_switches);
    d.involuntary_switches = a
        .involuntary_switches
        .saturating_sub(b.involuntary_switches);
    d.migrations = a.migrations.saturating_sub(b.migrations);
    d.numa_migrations = a.numa_migrations.saturating_sub(b.numa_migrations);
    d.runq_count = a.runq_count.saturating_sub(b.runq_count);
    d.runq_sum_ns = a.runq_sum_ns.saturating_sub(b.runq_sum_ns);
    d.offcpu_count = a.offcpu_count.saturating_sub(b.offcpu_count);
    d.offcpu_sum_ns = a.offcpu_sum_ns.saturating_sub(b.offcpu_sum_ns);
    d.oncpu_ns = a.oncpu_ns.saturating_sub(b.oncpu_ns);
    for i in 0..HIST_SLOTS {
        d.runq_hist[i] = a.runq_hist[i].saturating_sub(b.runq_hist[i]);
        d.offcpu_hist[i] = a.offcpu_hist[i].saturating_sub(b.offcpu_hist[i]);
    }
    d
}

/// Inclusive µs bounds of histogram slot `i` (runqlat's convention).
#[must_use]
pub fn slot_bounds(i: usize) -> (u64, u64) {
    if i == 0 {
        (0, 1)
    } else {
        (1 << i, (1 << (i + 1)) - 1)
    }
}

/// Summary of a log2 histogram.
#[must_use]
pub fn latency(hist: &[u64; HIST_SLOTS], count: u64, sum_ns: u64) -> Latency {
    let last = hist.iter().rposition(|&c| c != 0);
    let histogram = last.map_or_else(Vec::new, |last| {
        (0..=last)
            .map(|i| {
                let (low_us, high_us) = slot_bounds(i);
                Bucket {
                    low_us,
                    high_us,
                    count: hist[i],
                }
            })
            .collect()
    });
    Latency {
        count,
        mean: if count == 0 {
            0.0
        } else {
            float(sum_ns) / float(count) / 1000.0
        },
        p50: percentile(hist, 0.50),
        p99: percentile(hist, 0.99),
        histogram,
    }
}

/// The `q` quantile (0..1) of a log2 histogram in µs, interpolated linearly
/// inside the bucket it falls in.
#[must_use]
pub fn percentile(hist: &[u64; HIST_SLOTS], q: f64) -> f64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = q * float(total);
    let mut below = 0u64;
    for (i, &c) in hist.iter().enumerate() {
        if c == 0 {
            continue;
        }
        if float(below + c) >= rank {
            let (low, high) = slot_bounds(i);
            let frac = ((rank - float(below)) / float(c)).clamp(0.0, 1.0);
            return float(low) + frac * float(high + 1 - low);
        }
        below += c;
    }
    let (_, high) = slot_bounds(HIST_SLOTS - 1);
    float(high)
}

/// Counts and nanosecond sums as floating point for means and percentiles.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts and sums stay far below 2^52, and these are estimates"
)]
fn float(v: u64) -> f64 {
    v as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_runqlat() {
        assert_eq!(slot_bounds(0), (0, 1));
        assert_eq!(slot_bounds(1), (2, 3));
        assert_eq!(slot_bounds(10), (1024, 2047));
    }

    #[test]
    fn percentiles_interpolate_inside_a_bucket() {
        let mut h = [0u64; HIST_SLOTS];
        assert!(percentile(&h, 0.5).abs() < f64::EPSILON);
        h[3] = 100; // 8..=15 µs
        assert!((percentile(&h, 0.5) - 12.0).abs() < 1e-9);
        assert!((percentile(&h, 0.99) - 15.92).abs() < 1e-9);
        h[10] = 1; // one outlier at 1-2 ms moves p99 only slightly
        let p99 = percentile(&h, 0.99);
        assert!((8.0..16.0).contains(&p99), "{p99}");
        h[10] = 10;
        let p99 = percentile(&h, 0.99);
        assert!((1024.0..2048.0).contains(&p99), "{p99}");
    }

    #[test]
    fn histogram_stops_at_the_last_non_empty_bucket() {
        let mut h = [0u64; HIST_SLOTS];
        h[2] = 5;
        let l = latency(&h, 5, 25_000);
        assert_eq!(l.histogram.len(), 3);
        assert_eq!(
            l.histogram[2],
            Bucket {
                low_us: 4,
                high_us: 7,
                count: 5
            }
        );
        assert!((l.mean - 5.0).abs() < 1e-9);
        assert!(latency(&[0; HIST_SLOTS], 0, 0).histogram.is_empty());
    }

    #[test]
    fn diff_subtracts_every_field() {
        let mut a = SchedStats {
            voluntary_switches: 10,
            oncpu_ns: 5,
            ..SchedStats::default()
        };
        let mut b = SchedStats {
            voluntary_switches: 4,
            oncpu_ns: 9, // a reset entry never goes negative
            ..SchedStats::default()
        };
        a.runq_hist[5] = 7;
        b.runq_hist[5] = 2;
        let d = diff(&a, &b);
        assert_eq!(d.voluntary_switches, 6);
        assert_eq!(d.runq_hist[5], 5);
        assert_eq!(d.oncpu_ns, 0);
    }
}
