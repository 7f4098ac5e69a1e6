//! `govkit trace connections`: loads the kernel programs, learns call sites
//! from captures, and reports sockets leaked in `CLOSE_WAIT` with the user
//! stack that opened them.
//!
//! The tracer is split by concern: `attach` chooses and checks the kernel
//! hooks, `records` reads the kernel side's socket records and counters,
//! `learning` unwinds new call sites and symbolizes stacks, `report` checks
//! records against the kernel's socket list and groups the leaks.

mod attach;
mod learning;
mod records;
mod report;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf};
use aya::{Ebpf, EbpfLoader};
use govkit_ebpf_common::{SockInfo, SockSlot, StackTrace, UnwindKey, tcp_state};

use self::learning::{CaptureResult, Proc};
pub use self::records::Counters;
pub use self::report::{Culprit, Leak, LeakedSocket, Report};
pub use crate::programs::ProgramCost;
use crate::programs::{
    Hook, Target, TracingLog, check_pids, enable_run_time_stats, load_error, program_costs,
    set_targets, take_map, with_sources,
};
use crate::symbolize::Symbolizer;
use crate::unwind::FrameCache;
use crate::{TraceError, env, object_bytes, procfs};

/// What to trace and what counts as a leak.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these processes (empty: every process).
    pub pids: Vec<u32>,
    /// A socket is leaked once it has been in `CLOSE_WAIT` this long.
    pub min_age: Duration,
    /// Stack captures (new call sites) allowed per CPU per second.
    pub captures_per_sec: u64,
    /// Turn on the kernel's BPF run-time statistics for the cost report.
    /// They add two clock reads to every BPF program run on the host while
    /// tracing, so they are off unless asked for.
    pub bpf_stats: bool,
    /// Also report ESTABLISHED sockets without data in either direction
    /// for this long (`tcp_info` via `sock_diag`).
    pub idle: Option<Duration>,
    /// Which kernel hooks to use for accepted sockets.
    pub hooks: Hooks,
}

/// What `govkit trace connections` does without options: every process,
/// leaks after 30 s in `CLOSE_WAIT`, 200 captures per CPU per second.
impl Default for Options {
    fn default() -> Self {
        Self {
            pids: Vec::new(),
            min_age: Duration::from_secs(30),
            captures_per_sec: 200,
            bpf_stats: false,
            idle: None,
            hooks: Hooks::Auto,
        }
    }
}

/// Kernel hooks for accepted sockets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Hooks {
    /// `fexit` on `inet_csk_accept` where the kernel allows BPF trampolines,
    /// else the cgroup `getpeername` hooks (checked at start with a
    /// loopback accept), else the syscall tracepoints, which slow every
    /// system call on the host. With either of the first two, connects from
    /// the cgroup `connect` hooks and no program on state changes where
    /// `sock_diag` works.
    #[default]
    Auto,
    /// The cgroup `getpeername4`/`getpeername6` hooks: an error when they
    /// cannot be used.
    Cgroup,
    /// The `syscalls:sys_exit_accept{,4}` tracepoints only.
    Tracepoints,
}

/// A running tracer.
pub struct Tracer {
    ebpf: Ebpf,
    socks: BpfHashMap<MapData, u64, SockInfo>,
    slots: aya::maps::Array<MapData, SockSlot>,
    /// How many of `slots` the kernel side uses (the first ones).
    slots_in_use: u32,
    stacks: BpfHashMap<MapData, u64, StackTrace>,
    unwind: BpfHashMap<MapData, UnwindKey, govkit_ebpf_common::UnwindRow>,
    events: RingBuf<MapData>,
    counters: PerCpuArray<MapData, u64>,
    logger: Option<aya_log::EbpfLogger<TracingLog>>,
    /// Held while tracing when `--bpf-stats` is on.
    stats: Option<std::os::fd::OwnedFd>,
    options: Options,
    started: Instant,
    captures: HashMap<u64, CaptureResult>,
    procs: HashMap<u32, Proc>,
    frame_cache: FrameCache,
    symbolizer: Symbolizer,
    /// Socket inodes that existed before tracing, and when each was first
    /// seen in `CLOSE_WAIT`.
    preexisting: HashSet<u64>,
    close_wait_seen: HashMap<u64, Instant>,
    /// When `close_wait_seen` was last refreshed from `sock_diag`.
    last_sighting: Instant,
    /// When `maintain` last read every record.
    last_sweep: Instant,
    learned: u64,
    pub host: env::Host,
    /// The kernel hooks attached.
    pub hooks: Vec<String>,
    links: Vec<Hook>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Tracer {
    /// Checks the host, loads and attaches the programs, and records the
    /// sockets that already exist.
    pub fn start(options: Options) -> Result<Self, TraceError> {
        check_pids(&options.pids)?;
        let bytes = object_bytes()?;
        let host = env::preflight()?;
        let ret =
            env::tracepoint_fields(&host.tracefs, "syscalls", "sys_exit_accept4", &["ret"])?[0];
        if ret as usize != govkit_ebpf_common::SYS_EXIT_RET_OFFSET {
            return Err(TraceError::Environment(format!(
                "syscalls:sys_exit_accept4 has `ret` at offset {ret}, not {}: this kernel's syscall tracepoint layout is not supported",
                govkit_ebpf_common::SYS_EXIT_RET_OFFSET
            )));
        }
        let offsets = attach::kernel_offsets(&host)?;
        let filter: u32 = u32::from(!options.pids.is_empty());
        let packed = u32::from(attach::packed_endpoints(&offsets));
        let slots_in_use = attach::slots_in_use()?;
        let slot_mask = slots_in_use - 1;
        let mut ebpf = EbpfLoader::new()
            .override_global("OFFSETS", &offsets, true)
            .override_global("PACKED_ENDPOINTS", &packed, true)
            .override_global("SLOT_MASK", &slot_mask, true)
            .override_global("SELF_TGID", &std::process::id(), true)
            .override_global("FILTER_PIDS", &filter, true)
            .override_global("CAPTURES_PER_SEC", &options.captures_per_sec, true)
            .override_global(
                "TRACK_ESTABLISHED",
                &u32::from(options.idle.is_some()),
                true,
            )
            .load(&bytes)
            .map_err(|e| load_error("loading the eBPF object", e))?;
        let logger = aya_log::EbpfLogger::init_with_logger(&mut ebpf, TracingLog).ok();
        set_targets(&mut ebpf, &options.pids)?;
        let stats = if options.bpf_stats {
            Some(enable_run_time_stats()?)
        } else {
            None
        };
        let links = attach::attach_programs(&mut ebpf, options.hooks)?;
        let hooks = links.iter().map(Hook::name).collect();
        let socks = BpfHashMap::try_from(take_map(&mut ebpf, "SOCKS")?)
            .map_err(|e| load_error("map SOCKS", e))?;
        let slots = aya::maps::Array::try_from(take_map(&mut ebpf, "SLOTS")?)
            .map_err(|e| load_error("map SLOTS", e))?;
        let stacks = BpfHashMap::try_from(take_map(&mut ebpf, "STACKS")?)
            .map_err(|e| load_error("map STACKS", e))?;
        let unwind = BpfHashMap::try_from(take_map(&mut ebpf, "UNWIND")?)
            .map_err(|e| load_error("map UNWIND", e))?;
        let events = RingBuf::try_from(take_map(&mut ebpf, "EVENTS")?)
            .map_err(|e| load_error("map EVENTS", e))?;
        let counters = PerCpuArray::try_from(take_map(&mut ebpf, "COUNTERS")?)
            .map_err(|e| load_error("map COUNTERS", e))?;
        // Sockets already open: no stack can be had for them, but they are
        // reported too. One already in CLOSE_WAIT has been there at least
        // since now.
        let now = Instant::now();
        let before = procfs::tcp_sockets();
        let close_wait_seen = before
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT)
            .map(|s| (s.inode, now))
            .collect();
        let preexisting = before.into_iter().map(|s| s.inode).collect();
        Ok(Self {
            ebpf,
            socks,
            slots,
            slots_in_use,
            stacks,
            unwind,
            events,
            counters,
            logger,
            stats,
            options,
            started: now,
            captures: HashMap::new(),
            procs: HashMap::new(),
            frame_cache: FrameCache::default(),
            symbolizer: Symbolizer::default(),
            preexisting,
            close_wait_seen,
            last_sighting: now,
            last_sweep: now,
            learned: 0,
            host,
            hooks,
            links,
        })
    }

    /// Whether the cgroup hooks run their builds with helper calls only
    /// (kernels whose verifier does not give cgroup programs the current
    /// task's BTF pointer): about 0.3 µs more per connection.
    #[must_use]
    pub fn helper_builds(&self) -> bool {
        self.links.iter().any(|h| h.program.ends_with("_compat"))
    }

    /// Whether the socket lifecycle is followed without
    /// `inet_sock_set_state` (`attach_cgroup_lifecycle`, the only path with
    /// a cgroup connect hook): records are never freed in the kernel, and
    /// states and endpoints come from `sock_diag`.
    fn light(&self) -> bool {
        self.links
            .iter()
            .any(|h| matches!(h.target, Target::Cgroup(_, _, "connect4")))
    }

    /// Detaches the kernel hooks whose names (as in `hooks`) start with
    /// `prefix` (`false`) or attaches them again (`true`); the programs stay
    /// loaded and the maps keep their records. For measuring what hooks
    /// cost a load by switching them off and on within one run
    /// (`examples/hook_toggle.rs`): sockets that close while the hooks are
    /// off keep stale records.
    pub fn set_hooks_attached(&mut self, prefix: &str, on: bool) -> Result<(), TraceError> {
        for hook in &mut self.links {
            if !hook.name().starts_with(prefix) {
                continue;
            }
            let result = if on {
                hook.attach(&mut self.ebpf)
            } else {
                hook.detach(&mut self.ebpf)
            };
            result.map_err(|e| {
                load_error(
                    &format!(
                        "{} {}",
                        if on { "attaching" } else { "detaching" },
                        hook.name()
                    ),
                    with_sources(&e),
                )
            })?;
        }
        Ok(())
    }

    /// Sleeps until the kernel side sends a stack capture (it wakes user
    /// space for those only) or `timeout` passes. The tracer needs nothing
    /// else between reports: a poll loop that woke every few milliseconds
    /// cost a CPU-saturated service ~2 % of its throughput on 2 cores.
    pub fn wait(&self, timeout: Duration) {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let timeout = Timespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&self.events, PollFlags::IN)];
        // An interrupted or failed wait just returns early: the caller
        // polls the ring buffer and checks its deadlines either way.
        poll(&mut fds, Some(&timeout)).unwrap_or_default();
    }

    /// Drains the ring buffer: unwinds new call sites and installs their
    /// rows. Call often (every few ms) so that call sites are learned fast.
    pub fn poll(&mut self) -> usize {
        if let Some(l) = self.logger.as_mut() {
            l.flush();
        }
        self.sight_close_wait();
        let mut records = Vec::new();
        while let Some(item) = self.events.next() {
            records.push(item.to_vec());
        }
        for r in &records {
            self.handle(r);
        }
        records.len()
    }

    /// Keeps user-space and kernel state bounded on a long run: drops
    /// captures no tracked socket refers to any more, and the maps snapshots
    /// and stored stacks of processes that have exited (their sockets are
    /// closed, so nothing can refer to them). Call every few seconds.
    pub fn maintain(&mut self) {
        let now = Instant::now();
        // Reading every record is a system call per slot: every 10 s is
        // enough, captures being kept at least that long anyway.
        if now.duration_since(self.last_sweep) >= Duration::from_secs(10) {
            self.last_sweep = now;
            let records = self.records();
            let referenced: HashSet<u64> = records
                .iter()
                .map(|(_, info, _)| info.capture_id)
                .filter(|&id| id != 0)
                .collect();
            self.captures.retain(|id, c| {
                referenced.contains(id) || now.duration_since(c.seen) < Duration::from_secs(10)
            });
            if self.light() {
                self.sweep_stale_socks(&records);
            }
        }
        self.procs.retain(|&tgid, _| procfs::exists(tgid));
        let dead: Vec<u64> = self
            .stacks
            .iter()
            .filter_map(Result::ok)
            .filter(|(_, t)| !procfs::exists(t.tgid))
            .map(|(id, _)| id)
            .collect();
        for id in dead {
            // Gone already is fine: the kernel never deletes stacks.
            self.stacks.remove(&id).unwrap_or_default();
        }
    }

    fn program_costs(&self) -> Vec<ProgramCost> {
        if self.stats.is_none() {
            return Vec::new();
        }
        program_costs(&self.ebpf)
    }

    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
