//! `govkit trace connections`: loads the kernel programs, learns call sites
//! from captures, and reports sockets leaked in `CLOSE_WAIT` with the user
//! stack that opened them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::{
    CgroupAttachMode, CgroupSockAddr, FExit, ProgramError, RawTracePoint, TracePoint,
};
use aya::{Ebpf, EbpfLoader};
use govkit_ebpf_common::{
    CAPTURE_STACK_BYTES, KernelOffsets, MAX_FRAMES, SLOT_BITS, SLOT_CLAIMED, SockInfo, SockSlot,
    StackTrace, UnwindKey, counter, event_kind, origin, stack_flags, tcp_state,
};
use serde::Serialize;

use crate::procfs::{self, Mapping, TcpSocket};
use crate::symbolize::Symbolizer;
use crate::unwind::{FrameCache, walk};
use crate::{TraceError, env, object_bytes};

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

/// A leak group's key: pid, stack, how it was opened, state.
type GroupKey = (u32, Vec<String>, &'static str, &'static str);

/// One group of leaked sockets: same process, same opening stack.
#[derive(Debug, Clone, Serialize)]
pub struct Leak {
    pub pid: u32,
    pub comm: String,
    /// The owner's cgroup v2 path (/proc/PID/cgroup), empty when unknown.
    pub cgroup: String,
    /// The opener's cgroup v2 id, captured at open in the kernel (the
    /// inode number of its directory in cgroupfs); 0 for sockets the
    /// kernel side did not see opening.
    pub cgroup_id: u64,
    pub state: &'static str,
    pub count: usize,
    /// Age of the oldest socket of the group since it was opened (for
    /// sockets opened before tracing: since tracing started, a lower bound).
    pub oldest_age_s: f64,
    /// Longest time a socket of the group has spent in `CLOSE_WAIT`, or
    /// for idle ESTABLISHED sockets (`--idle`), the longest idle time.
    pub oldest_in_state_s: f64,
    /// "connect", "accept", "before-tracing" or "unseen".
    pub opened_by: &'static str,
    /// User stack that opened the sockets, innermost first.
    pub stack: Vec<String>,
    /// Whether `stack` reaches the outermost frame.
    pub stack_complete: bool,
    pub sockets: Vec<LeakedSocket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeakedSocket {
    pub local: String,
    pub remote: String,
    pub inode: u64,
    pub age_s: f64,
}

/// Kernel-side counters, summed over CPUs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    pub ringbuf_drops: u64,
    pub socks_map_full: u64,
    pub stacks_map_full: u64,
    pub captures: u64,
    pub captures_throttled: u64,
    /// Opens from a call site being learned whose capture was not sent:
    /// one for the same pc was already on its way to user space.
    pub captures_pending: u64,
    pub state_changes: u64,
    pub opens: u64,
    pub accept_lookup_failed: u64,
    /// Opens whose stack the kernel recognised from a cached call site.
    pub site_hits: u64,
    /// Passive opens completed (any process): what `accept()` hands out.
    pub passive_opens: u64,
    /// Accepts seen by the cgroup getpeername hook (traced processes).
    pub peer_accepts: u64,
    /// Opens dropped because a preempting task reused the per-CPU scratch.
    pub preempted: u64,
    /// Opens recorded in the hash map because the socket's slot in the
    /// slot array was held by another socket.
    pub slot_fallbacks: u64,
    /// TCP sockets destroyed (any process) while the destroy hook was
    /// attached: at start-up without the state hook, where it teaches the
    /// user registers' offset.
    pub destroys: u64,
    /// Connects seen by the cgroup connect hooks (traced processes).
    pub cgroup_connects: u64,
    /// Opens that took over a slot whose record's socket was gone (without
    /// the state hook nothing frees records when sockets close).
    pub slot_takeovers: u64,
}

/// Run time of each program, from the kernel's BPF stats.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramCost {
    pub program: String,
    pub runs: u64,
    pub run_time_ns: u64,
    pub ns_per_run: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub leaks: Vec<Leak>,
    /// Events the kernel side could not deliver or record: ring-buffer
    /// drops, sockets and stacks not stored because a map was full, opens
    /// dropped after preemption.
    pub lost_events: u64,
    /// Sockets the kernel side tracks right now.
    pub tracked_sockets: usize,
    pub duration_s: f64,
    pub counters: Counters,
    /// Per-program kernel cost; empty unless `--bpf-stats`.
    pub programs: Vec<ProgramCost>,
    /// Call sites unwound in user space (each once).
    pub call_sites_learned: u64,
    /// The kernel hooks in use.
    pub hooks: Vec<String>,
}

/// A group for sockets the kernel side saw opening, with their stack.
fn tracked_group(
    info: &SockInfo,
    state: &'static str,
    opened_by: &'static str,
    stack: Vec<String>,
    stack_complete: bool,
) -> Leak {
    Leak {
        pid: info.tgid,
        comm: procfs::comm(info.tgid).unwrap_or_else(|| comm_of(info)),
        cgroup: cgroup_path(info.tgid),
        cgroup_id: info.cgroup_id,
        state,
        count: 0,
        oldest_age_s: 0.0,
        oldest_in_state_s: 0.0,
        opened_by,
        stack,
        stack_complete,
        sockets: Vec::new(),
    }
}

/// A group for sockets the kernel side has no entry for (no stack): they
/// existed before tracing (`before-tracing`), or were opened without being
/// seen (`unseen`: `note` says why).
fn untracked(pid: u32, state: &'static str, opened_by: &'static str, note: &str) -> Leak {
    Leak {
        pid,
        comm: procfs::comm(pid).unwrap_or_default(),
        cgroup: cgroup_path(pid),
        cgroup_id: 0,
        state,
        count: 0,
        oldest_age_s: 0.0,
        oldest_in_state_s: 0.0,
        opened_by,
        stack: vec![note.to_owned()],
        stack_complete: false,
        sockets: Vec::new(),
    }
}

/// A symbolized stack and whether it reaches the outermost frame.
type Symbolized = (Vec<String>, bool);

struct CaptureResult {
    frames: Vec<u64>,
    complete: bool,
    seen: Instant,
}

/// Maps snapshot of a process, kept after it exits.
struct Proc {
    maps: Vec<Mapping>,
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

/// Forwards aya-log records from the kernel side to `tracing`.
#[derive(Debug, Clone, Copy)]
pub struct TracingLog;

impl log::Log for TracingLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        tracing::warn!(target: "govkit::ebpf", "{}", record.args());
    }
    fn flush(&self) {}
}

/// `CLOCK_MONOTONIC`, the clock of `bpf_ktime_get_ns`, in ns.
pub(crate) fn ktime_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

/// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed.
pub(crate) fn vmlinux_btf() -> Result<crate::btf::Btf, TraceError> {
    let vmlinux =
        std::fs::read(env::BTF).map_err(|e| load_error(&format!("reading {}", env::BTF), e))?;
    crate::btf::Btf::parse(&vmlinux).map_err(|e| load_error(&format!("parsing {}", env::BTF), e))
}

/// Kernel struct offsets from the running kernel's BTF.
fn kernel_offsets(host: &env::Host) -> Result<KernelOffsets, TraceError> {
    let btf = vmlinux_btf()?;
    let off = |s: &str, m: &str| {
        btf.member_offset(s, m)
            .map_err(|e| load_error(&format!("{} (kernel {})", env::BTF, host.kernel), e))
    };
    let common = off("sock", "__sk_common")?;
    Ok(KernelOffsets {
        task_files: off("task_struct", "files")?,
        files_fdt: off("files_struct", "fdt")?,
        fdtable_fd: off("fdtable", "fd")?,
        fdtable_max_fds: off("fdtable", "max_fds")?,
        file_private_data: off("file", "private_data")?,
        socket_sk: off("socket", "sk")?,
        sk_protocol: off("sock", "sk_protocol")?,
        skc_family: common + off("sock_common", "skc_family")?,
        skc_num: common + off("sock_common", "skc_num")?,
        skc_dport: common + off("sock_common", "skc_dport")?,
        skc_rcv_saddr: common + off("sock_common", "skc_rcv_saddr")?,
        skc_daddr: common + off("sock_common", "skc_daddr")?,
        skc_v6_rcv_saddr: common + off("sock_common", "skc_v6_rcv_saddr")?,
        skc_v6_daddr: common + off("sock_common", "skc_v6_daddr")?,
        skc_state: common + off("sock_common", "skc_state")?,
        task_flags: off("task_struct", "flags")?,
        task_stack: off("task_struct", "stack")?,
        skc_cookie: common + off("sock_common", "skc_cookie")?,
        sk_socket: off("sock", "sk_socket")?,
        task_pid: off("task_struct", "pid")?,
        task_tgid: off("task_struct", "tgid")?,
        task_comm: off("task_struct", "comm")?,
        task_cgroups: off("task_struct", "cgroups")?,
        css_set_dfl_cgrp: off("css_set", "dfl_cgrp")?,
        cgroup_kn: off("cgroup", "kn")?,
        kernfs_node_id: off("kernfs_node", "id")?,
        _pad: 0,
    })
}

/// Slots of the kernel side's slot array to use: all (`1 << SLOT_BITS`),
/// or fewer with `GOVKIT_TRACE_SLOTS` (a power of two), which tests use to
/// send most sockets to the hash map instead.
fn slots_in_use() -> Result<u32, TraceError> {
    let all = 1u32 << SLOT_BITS;
    let Ok(v) = std::env::var("GOVKIT_TRACE_SLOTS") else {
        return Ok(all);
    };
    match v.parse::<u32>() {
        Ok(n) if n.is_power_of_two() && n <= all => Ok(n),
        _ => Err(TraceError::Input(format!(
            "GOVKIT_TRACE_SLOTS: {v:?} is not a power of two from 1 to {all}"
        ))),
    }
}

/// Whether `sock_common` has the layout the kernel side's one-read
/// endpoint path assumes (every kernel since 2.6.x; checked, not assumed).
fn packed_endpoints(o: &KernelOffsets) -> bool {
    let d = o.skc_daddr;
    o.skc_rcv_saddr == d + 4
        && o.skc_dport == d + 12
        && o.skc_num == d + 14
        && o.skc_family == d + 16
        && o.skc_v6_rcv_saddr == o.skc_v6_daddr + 16
}

/// Where one program is attached, kept with its link so that the hook can
/// be detached and attached again (`Tracer::set_hooks_attached`).
enum Target {
    Raw(&'static str),
    Tracepoint(&'static str, &'static str),
    FExit,
    /// The cgroup directory (kept open), the attach mode, and the attach
    /// point's name (`getpeername4`, …).
    Cgroup(std::fs::File, CgroupAttachMode, &'static str),
}

enum Link {
    Raw(aya::programs::raw_trace_point::RawTracePointLinkId),
    Tracepoint(aya::programs::trace_point::TracePointLinkId),
    FExit(aya::programs::fexit::FExitLinkId),
    Cgroup(aya::programs::cgroup_sock_addr::CgroupSockAddrLinkId),
}

/// An attached (or detached) kernel hook.
struct Hook {
    program: &'static str,
    target: Target,
    link: Option<Link>,
}

impl Hook {
    /// Attaches the (loaded) `program` at `target`.
    fn new(ebpf: &mut Ebpf, program: &'static str, target: Target) -> Result<Self, ProgramError> {
        let mut hook = Self {
            program,
            target,
            link: None,
        };
        hook.attach(ebpf)?;
        Ok(hook)
    }

    /// Attaches the (loaded) program; does nothing when it is attached.
    fn attach(&mut self, ebpf: &mut Ebpf) -> Result<(), ProgramError> {
        if self.link.is_some() {
            return Ok(());
        }
        let p = ebpf
            .program_mut(self.program)
            .ok_or(ProgramError::NotLoaded)?;
        self.link = Some(match &self.target {
            Target::Raw(tp) => Link::Raw(<&mut RawTracePoint>::try_from(p)?.attach(tp)?),
            Target::Tracepoint(cat, name) => {
                Link::Tracepoint(<&mut TracePoint>::try_from(p)?.attach(cat, name)?)
            }
            Target::FExit => Link::FExit(<&mut FExit>::try_from(p)?.attach()?),
            Target::Cgroup(dir, mode, _) => {
                Link::Cgroup(<&mut CgroupSockAddr>::try_from(p)?.attach(dir, *mode)?)
            }
        });
        Ok(())
    }

    /// Detaches the program (it stays loaded, its maps keep their records).
    fn detach(&mut self, ebpf: &mut Ebpf) -> Result<(), ProgramError> {
        let Some(link) = self.link.take() else {
            return Ok(());
        };
        let p = ebpf
            .program_mut(self.program)
            .ok_or(ProgramError::NotLoaded)?;
        match link {
            Link::Raw(id) => <&mut RawTracePoint>::try_from(p)?.detach(id),
            Link::Tracepoint(id) => <&mut TracePoint>::try_from(p)?.detach(id),
            Link::FExit(id) => <&mut FExit>::try_from(p)?.detach(id),
            Link::Cgroup(id) => <&mut CgroupSockAddr>::try_from(p)?.detach(id),
        }
    }

    /// How reports name the hook.
    fn name(&self) -> String {
        match &self.target {
            Target::Raw(tp) => format!("raw_tracepoint/{tp}"),
            Target::Tracepoint(cat, name) => format!("tracepoint/{cat}:{name}"),
            Target::FExit => "fexit/inet_csk_accept".to_owned(),
            Target::Cgroup(_, _, point) => format!("cgroup/{point}"),
        }
    }
}

/// Loads and attaches every program of the object; returns the hooks
/// attached.
fn attach_programs(ebpf: &mut Ebpf, hooks: Hooks) -> Result<Vec<Hook>, TraceError> {
    let fexit = if hooks == Hooks::Auto {
        attach_accept_fexit(ebpf)
    } else {
        None
    };
    let mut attached = Vec::new();
    let mut light = false;
    // GOVKIT_TRACE_STATE_HOOK=1: the state hook even where the lighter
    // lifecycle works (tests of that path, overhead comparisons).
    let state_hook = std::env::var_os("GOVKIT_TRACE_STATE_HOOK").is_some_and(|v| v == "1");
    if hooks != Hooks::Tracepoints && !state_hook {
        match attach_cgroup_lifecycle(ebpf, fexit.is_none()) {
            Ok(hooks) => {
                attached = hooks;
                light = true;
            }
            Err(e) => tracing::debug!(
                "cgroup connect hooks with sock_diag unavailable, following state changes: {e}"
            ),
        }
    }
    if !light {
        load_program::<RawTracePoint>(ebpf, "sock_state", RawTracePoint::load)?;
        attached.push(
            Hook::new(ebpf, "sock_state", Target::Raw("inet_sock_set_state")).map_err(|e| {
                load_error(
                    "attaching sock_state to raw tracepoint inet_sock_set_state",
                    e,
                )
            })?,
        );
    }
    let cgroup = if light || fexit.is_some() || hooks == Hooks::Tracepoints {
        None
    } else {
        match attach_accept_cgroup(ebpf) {
            Ok(hooks) => Some(hooks),
            Err(e) if hooks == Hooks::Cgroup => {
                return Err(load_error("--hooks cgroup", e));
            }
            Err(e) => {
                tracing::debug!(
                    "cgroup getpeername accept hook unavailable, using syscall tracepoints: {e}"
                );
                None
            }
        }
    };
    let mut tracepoints: Vec<(&'static str, &[(&'static str, &'static str)])> =
        vec![("process_exec", &[("sched", "sched_process_exec")][..])];
    if let Some(hook) = fexit {
        attached.push(hook);
    } else if let Some(hooks) = cgroup {
        attached.extend(hooks);
    } else if !light {
        tracepoints.push((
            "accept_exit",
            &[
                ("syscalls", "sys_exit_accept4"),
                ("syscalls", "sys_exit_accept"),
            ][..],
        ));
    }
    for (prog, attach) in tracepoints {
        load_program::<TracePoint>(ebpf, prog, TracePoint::load)?;
        for &(cat, name) in attach {
            let hook = Hook::new(ebpf, prog, Target::Tracepoint(cat, name))
                .map_err(|e| load_error(&format!("attaching {prog} to {cat}:{name}"), e))?;
            attached.push(hook);
        }
    }
    Ok(attached)
}

/// Loads program `name` of type `P` with `load`.
fn load_program<P>(
    ebpf: &mut Ebpf,
    name: &str,
    load: impl FnOnce(&mut P) -> Result<(), ProgramError>,
) -> Result<(), TraceError>
where
    for<'a> &'a mut P: TryFrom<&'a mut aya::programs::Program, Error = ProgramError>,
{
    let p: &mut P = ebpf
        .program_mut(name)
        .ok_or_else(|| load_error("eBPF object", format!("no program {name}")))?
        .try_into()
        .map_err(|e| load_error(name, e))?;
    load(p).map_err(|e| load_error(&format!("loading program {name}"), verifier(&e)))
}

/// Tries the `fexit` accept hook; None (and the reason at debug level)
/// when this kernel refuses it: no BPF trampolines, lockdown, no BTF for
/// the function. Two builds of the program read the return value from
/// different context slots (`inet_csk_accept` lost two arguments in 6.10):
/// the first that the verifier accepts is used.
fn attach_accept_fexit(ebpf: &mut Ebpf) -> Option<Hook> {
    let btf = match aya::Btf::from_sys_fs() {
        Ok(btf) => btf,
        Err(e) => {
            tracing::debug!("fexit on inet_csk_accept unavailable (kernel BTF: {e})");
            return None;
        }
    };
    let mut errors = Vec::new();
    for name in ["accept_fexit2", "accept_fexit4"] {
        let result = (|| -> Result<Hook, String> {
            load_program(ebpf, name, |p: &mut FExit| p.load("inet_csk_accept", &btf))
                .map_err(|e| e.to_string())?;
            Hook::new(ebpf, name, Target::FExit).map_err(|e| {
                unload_programs(ebpf, &[name]);
                e.to_string()
            })
        })();
        match result {
            Ok(hook) => return Some(hook),
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    tracing::debug!(
        "fexit on inet_csk_accept unavailable, using the next accept hook: {}",
        errors.join("; ")
    );
    None
}

/// A cgroup hook: its program, the program's build with helper calls
/// only (for kernels whose verifier does not give cgroup programs the
/// current task's BTF pointer), and the attach point.
type CgroupProgram = (&'static str, &'static str, &'static str);

/// Programs of the cgroup accept hook.
const PEER_PROGRAMS: [CgroupProgram; 2] = [
    ("accept_peer4", "accept_peer4_compat", "getpeername4"),
    ("accept_peer6", "accept_peer6_compat", "getpeername6"),
];
/// Programs of the cgroup connect hook.
const CONNECT_PROGRAMS: [CgroupProgram; 2] = [
    ("connect_open4", "connect_open4_compat", "connect4"),
    ("connect_open6", "connect_open6_compat", "connect6"),
];

/// Every program of `programs`, both builds (to unload).
fn cgroup_program_names(programs: &[CgroupProgram]) -> Vec<&'static str> {
    programs.iter().flat_map(|&(p, c, _)| [p, c]).collect()
}

/// Loads the cgroup programs `programs` and attaches them to the root of
/// the cgroup v2 hierarchy (every socket's cgroup is below it).
fn attach_cgroup_programs(
    ebpf: &mut Ebpf,
    programs: &[CgroupProgram],
) -> Result<Vec<Hook>, String> {
    let root = procfs::cgroup2_mount().ok_or("no cgroup v2 hierarchy is mounted")?;
    let open = || std::fs::File::open(&root).map_err(|e| format!("{}: {e}", root.display()));
    // From 5.7 aya attaches through a BPF link, which always coexists with
    // other programs and takes no flags (ALLOW_MULTI is EINVAL there);
    // before, a plain attach must ask for ALLOW_MULTI not to lock others out.
    let links = aya::util::KernelVersion::current()
        .is_ok_and(|v| v >= aya::util::KernelVersion::new(5, 7, 0));
    let mode = if links {
        CgroupAttachMode::Single
    } else {
        CgroupAttachMode::AllowMultiple
    };
    let mut hooks = Vec::new();
    // Tests set GOVKIT_TRACE_CGROUP_COMPAT=1 to run the helper builds on a
    // kernel that would take the others.
    let forced = std::env::var_os("GOVKIT_TRACE_CGROUP_COMPAT").is_some_and(|v| v == "1");
    for &(btf, compat, point) in programs {
        let loaded = if forced {
            Err(load_error(btf, "GOVKIT_TRACE_CGROUP_COMPAT=1"))
        } else {
            load_program::<CgroupSockAddr>(ebpf, btf, CgroupSockAddr::load)
        };
        let name = match loaded {
            Ok(()) => btf,
            Err(e) => {
                tracing::debug!("{btf} refused, loading {compat} (helper calls only): {e}");
                load_program::<CgroupSockAddr>(ebpf, compat, CgroupSockAddr::load)
                    .map_err(|e| e.to_string())?;
                compat
            }
        };
        let hook = Hook::new(ebpf, name, Target::Cgroup(open()?, mode, point)).map_err(|e| {
            format!(
                "attaching {name} to {}: {}",
                root.display(),
                with_sources(&e)
            )
        })?;
        hooks.push(hook);
    }
    Ok(hooks)
}

/// Unloads (and so detaches) `programs` after a failed self-check. A
/// failure leaves a hook that records nothing useful, harmless.
fn unload_programs(ebpf: &mut Ebpf, programs: &[&str]) {
    for &name in programs {
        let Some(p) = ebpf.program_mut(name) else {
            continue;
        };
        let unloaded = match p {
            aya::programs::Program::CgroupSockAddr(p) => p.unload(),
            aya::programs::Program::RawTracePoint(p) => p.unload(),
            aya::programs::Program::FExit(p) => p.unload(),
            _ => Ok(()),
        };
        unloaded.unwrap_or_default();
    }
}

/// The cgroup accept hooks (`getpeername4`/`getpeername6`) for a tracer
/// that follows state changes with `inet_sock_set_state` (attached first):
/// checked with one loopback connection and accept in govkit itself. The
/// connect teaches the kernel side where the user registers are
/// (`REGS_DELTA`), the accept must then be recognised as one
/// (`PEER_ACCEPTS`). Detached again when the check fails.
fn attach_accept_cgroup(ebpf: &mut Ebpf) -> Result<Vec<Hook>, String> {
    let hooks = attach_cgroup_programs(ebpf, &PEER_PROGRAMS);
    let checked = hooks.and_then(|h| self_check(ebpf, &[counter::PEER_ACCEPTS]).map(|()| h));
    if checked.is_err() {
        unload_programs(ebpf, &cgroup_program_names(&PEER_PROGRAMS));
    }
    checked
}

/// The socket lifecycle without `inet_sock_set_state`, which runs on every
/// state change of every TCP socket on the host (about ten per loopback
/// connection; an empty program there costs a connect/close loop 2-3 % on
/// its own): opens from the cgroup `connect4`/`connect6` hooks and the
/// accept hook (the cgroup `getpeername4`/`getpeername6` pair when `peer`,
/// else the fexit program attached already, which also records cookies),
/// and nothing else in the kernel.
/// States, endpoints and time in `CLOSE_WAIT` are read from `sock_diag` by
/// socket cookie when a report is made; records are never freed in the
/// kernel: a stale slot record is taken over by the next socket that
/// hashes there (the kernel side's `occupant_gone`), stale `SOCKS` entries
/// are swept (`sweep_stale_socks`). Needs `sock_diag` (`inet_diag`, often
/// a module): tried first. `tcp:tcp_destroy_sock` is attached for the
/// start only, to learn where the user registers are from one socket
/// closed here; a loopback connection and accept in govkit itself must
/// then be recognised by the cgroup hooks. Everything attached here is
/// detached again when a step fails.
fn attach_cgroup_lifecycle(ebpf: &mut Ebpf, peer: bool) -> Result<Vec<Hook>, String> {
    crate::sockdiag::close_wait().map_err(|e| format!("sock_diag: {e}"))?;
    let peer_programs: &[CgroupProgram] = if peer { &PEER_PROGRAMS } else { &[] };
    let mut programs = cgroup_program_names(&CONNECT_PROGRAMS);
    programs.extend(cgroup_program_names(peer_programs));
    programs.push("sock_destroy");
    let result = (|| -> Result<Vec<Hook>, String> {
        load_program::<RawTracePoint>(ebpf, "sock_destroy", RawTracePoint::load)
            .map_err(|e| e.to_string())?;
        let mut hooks = vec![
            Hook::new(ebpf, "sock_destroy", Target::Raw("tcp_destroy_sock"))
                .map_err(|e| format!("attaching sock_destroy to tcp_destroy_sock: {e}"))?,
        ];
        // A socket closed here, in govkit's own system call.
        drop(
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .map_err(|e| format!("self-check socket: {e}"))?,
        );
        hooks.extend(attach_cgroup_programs(ebpf, &CONNECT_PROGRAMS)?);
        hooks.extend(attach_cgroup_programs(ebpf, peer_programs)?);
        let moved: &[u32] = if peer {
            &[counter::CGROUP_CONNECTS, counter::PEER_ACCEPTS]
        } else {
            &[counter::CGROUP_CONNECTS]
        };
        self_check(ebpf, moved)?;
        // Learned: the destroy hook would only cost two runs per
        // connection from here on.
        hooks.retain(|h| h.program != "sock_destroy");
        unload_programs(ebpf, &["sock_destroy"]);
        Ok(hooks)
    })();
    if result.is_err() {
        unload_programs(ebpf, &programs);
    }
    result
}

/// One loopback connection and accept in govkit itself; every counter of
/// `moved` must count it (they count govkit's own calls too).
fn self_check(ebpf: &Ebpf, moved: &[u32]) -> Result<(), String> {
    let read = || -> Result<Vec<u64>, String> {
        let counters: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(ebpf.map("COUNTERS").ok_or("no map COUNTERS")?)
                .map_err(|e| e.to_string())?;
        moved
            .iter()
            .map(|i| {
                let values = counters.get(i, 0).map_err(|e| e.to_string())?;
                Ok(values.iter().sum())
            })
            .collect()
    };
    let before = read()?;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("self-check listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let client =
        std::net::TcpStream::connect(addr).map_err(|e| format!("self-check connect: {e}"))?;
    // std's accept asks for the peer address: the hook must see it.
    let (server, _) = listener
        .accept()
        .map_err(|e| format!("self-check accept: {e}"))?;
    drop((client, server));
    let after = read()?;
    match before.iter().zip(&after).position(|(b, a)| a <= b) {
        None => Ok(()),
        Some(i) if moved[i] == counter::PEER_ACCEPTS => Err(
            "the accept hook did not recognise a loopback accept (user registers not found)"
                .to_owned(),
        ),
        Some(_) => Err(
            "the connect hook did not recognise a loopback connect (user registers not found)"
                .to_owned(),
        ),
    }
}

/// Every PID to trace must exist (a typo is an input error, exit 2).
pub(crate) fn check_pids(pids: &[u32]) -> Result<(), TraceError> {
    match pids.iter().find(|&&pid| !procfs::exists(pid)) {
        Some(pid) => Err(TraceError::Input(format!("process {pid} does not exist"))),
        None => Ok(()),
    }
}

/// Fills an object's `TARGETS` map, the kernel-side `--pid` filter.
pub(crate) fn set_targets(ebpf: &mut Ebpf, pids: &[u32]) -> Result<(), TraceError> {
    let mut targets: BpfHashMap<_, u32, u8> = BpfHashMap::try_from(
        ebpf.map_mut("TARGETS")
            .ok_or_else(|| load_error("eBPF object", "no map TARGETS"))?,
    )
    .map_err(|e| load_error("map TARGETS", e))?;
    for &pid in pids {
        targets
            .insert(pid, 1, 0)
            .map_err(|e| load_error("map TARGETS", e))?;
    }
    Ok(())
}

pub(crate) fn load_error(what: &str, e: impl std::fmt::Display) -> TraceError {
    TraceError::Environment(format!("{what}: {e}"))
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
        let offsets = kernel_offsets(&host)?;
        let filter: u32 = u32::from(!options.pids.is_empty());
        let packed = u32::from(packed_endpoints(&offsets));
        let slots_in_use = slots_in_use()?;
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
            Some(
                aya::sys::enable_stats(aya::sys::Stats::RunTime)
                    .map_err(|e| load_error("enabling BPF run-time statistics", e))?,
            )
        } else {
            None
        };
        let links = attach_programs(&mut ebpf, options.hooks)?;
        let hooks = links.iter().map(Hook::name).collect();
        let take = |ebpf: &mut Ebpf, name: &str| {
            ebpf.take_map(name)
                .ok_or_else(|| load_error("eBPF object", format!("no map {name}")))
        };
        let socks = BpfHashMap::try_from(take(&mut ebpf, "SOCKS")?)
            .map_err(|e| load_error("map SOCKS", e))?;
        let slots = aya::maps::Array::try_from(take(&mut ebpf, "SLOTS")?)
            .map_err(|e| load_error("map SLOTS", e))?;
        let stacks = BpfHashMap::try_from(take(&mut ebpf, "STACKS")?)
            .map_err(|e| load_error("map STACKS", e))?;
        let unwind = BpfHashMap::try_from(take(&mut ebpf, "UNWIND")?)
            .map_err(|e| load_error("map UNWIND", e))?;
        let events = RingBuf::try_from(take(&mut ebpf, "EVENTS")?)
            .map_err(|e| load_error("map EVENTS", e))?;
        let counters = PerCpuArray::try_from(take(&mut ebpf, "COUNTERS")?)
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

    /// The kernel side's socket records, as (socket address, record, in a
    /// slot): the occupied `SLOTS` (one lookup each) and every `SOCKS`
    /// entry.
    fn records(&self) -> Vec<(u64, SockInfo, bool)> {
        let slots = (0..self.slots_in_use).filter_map(|i| {
            let s = self.slots.get(&i, 0).ok()?;
            // 0: free; the claim bit: an open is writing it right now.
            (s.sk != 0 && s.sk & SLOT_CLAIMED == 0).then_some((s.sk, s.info, true))
        });
        let socks = self
            .socks
            .iter()
            .filter_map(Result::ok)
            .map(|(sk, info)| (sk, info, false));
        slots.chain(socks).collect()
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

    fn handle(&mut self, rec: &[u8]) {
        let u32_at = |o: usize| {
            rec.get(o..o + 4)
                .map_or(0, |b| u32::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let u64_at = |o: usize| {
            rec.get(o..o + 8)
                .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let kind = u32_at(0);
        let tgid = u32_at(4);
        if kind == event_kind::EXEC {
            self.forget_process(tgid);
            return;
        }
        if kind != event_kind::CAPTURE || rec.len() < 64 + 8 * MAX_FRAMES {
            return;
        }
        let nframes = (u32_at(12) as usize).min(MAX_FRAMES);
        let capture_id = u64_at(16);
        let (pc, sp, bp, exact) = (u64_at(32), u64_at(40), u64_at(48), u32_at(56) != 0);
        let stack_len = (u32_at(60) as usize).min(CAPTURE_STACK_BYTES);
        let frames: Vec<u64> = (0..nframes).map(|i| u64_at(64 + 8 * i)).collect();
        let stack_start = 64 + 8 * MAX_FRAMES;
        let stack = rec
            .get(stack_start..stack_start + stack_len)
            .unwrap_or_default();
        let maps = self.maps(tgid, pc);
        let cache = &mut self.frame_cache;
        let regs = crate::unwind::Regs { pc, sp, bp, exact };
        let w = walk(regs, stack, MAX_FRAMES - nframes, &maps, |m| {
            let via = format!("/proc/{tgid}/map_files/{:x}-{:x}", m.start, m.end);
            cache.get(&m.path, || {
                std::fs::read(&via).or_else(|_| std::fs::read(&m.path)).ok()
            })
        });
        for s in &w.steps {
            let key = UnwindKey {
                pc: s.pc,
                tgid,
                exact: u32::from(s.exact),
            };
            // An LRU map: inserting only fails if the map is gone, and then
            // the kernel just keeps sending captures.
            if let Err(e) = self.unwind.insert(key, s.row, 0) {
                tracing::debug!("installing an unwind row: {e}");
            }
        }
        self.learned += 1;
        let mut all = frames;
        all.extend(w.steps.iter().map(|s| s.pc));
        self.captures.insert(
            capture_id,
            CaptureResult {
                frames: all,
                complete: w.complete,
                seen: Instant::now(),
            },
        );
    }

    /// The maps of `tgid`, re-read when `pc` is outside the snapshot.
    fn maps(&mut self, tgid: u32, pc: u64) -> Vec<Mapping> {
        let stale = self
            .procs
            .get(&tgid)
            .is_none_or(|p| !p.maps.iter().any(|m| pc >= m.start && pc < m.end));
        if stale && let Ok(maps) = procfs::read_maps(tgid) {
            self.procs.insert(tgid, Proc { maps });
        }
        self.procs
            .get(&tgid)
            .map(|p| p.maps.clone())
            .unwrap_or_default()
    }

    fn forget_process(&mut self, tgid: u32) {
        // Rows are only learned from captures, and every capture records its
        // process here: an exec of any other process (most of them, when
        // every process is traced) needs no walk over the row table.
        if self.procs.remove(&tgid).is_none() {
            return;
        }
        let keys: Vec<UnwindKey> = self
            .unwind
            .keys()
            .filter_map(Result::ok)
            .filter(|k| k.tgid == tgid)
            .collect();
        for k in keys {
            // Gone already (LRU eviction) is fine.
            self.unwind.remove(&k).unwrap_or_default();
        }
    }

    #[must_use]
    pub fn counters(&self) -> Counters {
        let sum = |i: u32| self.counters.get(&i, 0).map_or(0, |v| v.iter().sum());
        Counters {
            ringbuf_drops: sum(counter::RINGBUF_DROPS),
            socks_map_full: sum(counter::SOCKS_FULL),
            stacks_map_full: sum(counter::STACKS_FULL),
            captures: sum(counter::CAPTURES),
            captures_throttled: sum(counter::CAPTURES_THROTTLED),
            captures_pending: sum(counter::CAPTURES_PENDING),
            state_changes: sum(counter::STATE_CHANGES),
            opens: sum(counter::OPENS),
            accept_lookup_failed: sum(counter::ACCEPT_LOOKUP_FAILED),
            site_hits: sum(counter::SITE_HITS),
            passive_opens: sum(counter::PASSIVE_OPENS),
            peer_accepts: sum(counter::PEER_ACCEPTS),
            preempted: sum(counter::PREEMPTED),
            slot_fallbacks: sum(counter::SLOT_FALLBACKS),
            destroys: sum(counter::DESTROYS),
            cgroup_connects: sum(counter::CGROUP_CONNECTS),
            slot_takeovers: sum(counter::SLOT_TAKEOVERS),
        }
    }

    fn program_costs(&self) -> Vec<ProgramCost> {
        if self.stats.is_none() {
            return Vec::new();
        }
        program_costs(&self.ebpf)
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

    /// Without the state hook nothing frees records in the kernel: a
    /// `SOCKS` entry (a socket whose slot held another live socket's
    /// record) stays until a socket at the same address replaces it, or
    /// this sweep, every 10 s, drops it because no socket in `sock_diag`
    /// has its cookie. Slot records are left: user space cannot free a slot
    /// without racing an open, and the kernel side takes a stale one over
    /// when a socket hashes there.
    fn sweep_stale_socks(&mut self, records: &[(u64, SockInfo, bool)]) {
        let live: HashSet<u64> = match full_sockets() {
            Ok(sockets) => sockets.into_iter().map(|s| s.cookie).collect(),
            Err(e) => {
                tracing::debug!("sock_diag dump for the sweep failed: {e}");
                return;
            }
        };
        let entries: Vec<(u64, SockInfo)> = records
            .iter()
            .filter(|(_, _, in_slot)| !in_slot)
            .map(|&(sk, info, _)| (sk, info))
            .collect();
        let stale = stale_socks(&entries, &live, ktime_ns());
        tracing::debug!(
            "sweep: {} of {} SOCKS entries without a live socket",
            stale.len(),
            entries.len()
        );
        for sk in stale {
            // Gone already (destroyed meanwhile) is fine.
            self.socks.remove(&sk).unwrap_or_default();
        }
    }

    /// Notes when each `CLOSE_WAIT` socket was first seen (a `sock_diag` dump
    /// filtered by the kernel, else /proc/net/tcp, every quarter of
    /// `--min-age`, 1-10 s): the
    /// time in `CLOSE_WAIT` of sockets the kernel side has no entry for
    /// (opened before tracing, or accepted unseen) is measured from there.
    fn sight_close_wait(&mut self) {
        let period =
            (self.options.min_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let now = Instant::now();
        if now.duration_since(self.last_sighting) < period {
            return;
        }
        // Kernels without inet_diag (a module, not always loaded): the
        // slower /proc/net/tcp{,6}.
        let inodes: HashSet<u64> = crate::sockdiag::close_wait().unwrap_or_else(|e| {
            tracing::debug!("sock_diag CLOSE_WAIT dump failed, reading /proc/net/tcp: {e}");
            procfs::tcp_sockets()
                .into_iter()
                .filter(|s| s.state == tcp_state::CLOSE_WAIT)
                .map(|s| s.inode)
                .collect()
        });
        self.note_close_wait(&inodes, now);
    }

    /// `inodes` are the sockets in `CLOSE_WAIT` at `now`: first sightings
    /// are kept, sockets no longer there forgotten.
    fn note_close_wait(&mut self, inodes: &HashSet<u64>, now: Instant) {
        self.last_sighting = now;
        self.close_wait_seen.retain(|i, _| inodes.contains(i));
        for &i in inodes {
            self.close_wait_seen.entry(i).or_insert(now);
        }
    }

    /// Without the state hook: one `sock_diag` dump of every full TCP
    /// socket, which gives the whole report its states, endpoints, cookies
    /// and `tcp_info` times. None under the state hook, or when the dump
    /// fails (a warning says so; then records cannot be matched this
    /// report, and /proc/net/tcp still shows the leaks, without stacks).
    /// Its `CLOSE_WAIT` sockets are this moment's sighting
    /// (`sight_close_wait` would otherwise dump them again).
    fn diag_dump(&mut self) -> Option<Vec<crate::sockdiag::DiagSocket>> {
        if !self.light() {
            return None;
        }
        let sockets = full_sockets()
            .map_err(|e| {
                tracing::warn!("sock_diag dump failed: {e}; socket states unknown this report");
            })
            .ok()?;
        let close_wait = sockets
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT)
            .map(|s| s.inode)
            .collect();
        self.note_close_wait(&close_wait, Instant::now());
        Some(sockets)
    }

    /// How many of `records` belong to live sockets: all of them under the
    /// state hook; without it records outlive their sockets until taken
    /// over, and only those whose cookie a socket in `dump` has count.
    fn tracked(
        &self,
        dump: Option<&[crate::sockdiag::DiagSocket]>,
        records: &[(u64, SockInfo, bool)],
    ) -> usize {
        match dump {
            Some(sockets) => {
                let cookies: HashSet<u64> = sockets.iter().map(|s| s.cookie).collect();
                records
                    .iter()
                    .filter(|(_, info, _)| cookies.contains(&info.cookie))
                    .count()
            }
            None if self.light() => 0,
            None => records.len(),
        }
    }

    /// Reads the kernel's socket table, checks it against the kernel's
    /// socket list (`sock_diag`, else /proc/net/tcp) and groups the leaks.
    pub fn report(&mut self) -> Report {
        let dump = self.diag_dump();
        self.poll();
        let now_k = ktime_ns();
        let now = Instant::now();
        let live = live_sockets(dump.as_deref());
        let by_endpoints: HashMap<(SocketAddr, SocketAddr), &TcpSocket> =
            live.iter().map(|s| ((s.local, s.remote), s)).collect();
        let entries = self.records();
        let tracked = self.tracked(dump.as_deref(), &entries);
        let mut groups: BTreeMap<GroupKey, Leak> = BTreeMap::new();
        let established = self.established(dump.as_deref());
        let mut kernel_inodes = HashSet::new();
        // Sockets opened from one call site share a stack: symbolize it once.
        let mut stacks: HashMap<(u32, u64, u64, u8), Symbolized> = HashMap::new();
        let diag = self
            .light()
            .then(|| self.diag_by_cookie(dump.as_deref().unwrap_or_default(), now));
        for (sk, info, in_slot) in &entries {
            let mut info = *info;
            if let Some(diag) = &diag
                && !from_diag(&mut info, diag, now_k)
            {
                continue;
            }
            let info = &info;
            // Endpoints are read when a socket enters CLOSE_WAIT (and, with
            // --idle, ESTABLISHED): the states reported. Without the state
            // hook, from sock_diag just above.
            let idle_check = self.options.idle.is_some() && info.state == tcp_state::ESTABLISHED;
            if info.state != tcp_state::CLOSE_WAIT && !idle_check {
                continue;
            }
            let (local, remote) = endpoints(info);
            let (inode, state_name, in_state) = if idle_check {
                // ESTABLISHED now (sock_diag lists only those), idle long enough.
                let Some(i) = established.get(&(local, remote)) else {
                    continue;
                };
                kernel_inodes.insert(i.inode);
                let idle = Duration::from_millis(i.idle_ms);
                if info.origin == origin::UNOWNED || Some(idle) < self.options.idle {
                    continue;
                }
                (i.inode, "ESTABLISHED", idle)
            } else {
                let Some(sock) = by_endpoints.get(&(local, remote)) else {
                    // Gone without a CLOSE transition seen: a stale entry.
                    // One in a slot is replaced by the next socket at that
                    // address (user space cannot free a slot safely).
                    if !in_slot && now_k.saturating_sub(info.state_ns) > 5_000_000_000 {
                        // Gone already (closed meanwhile) is fine.
                        self.socks.remove(sk).unwrap_or_default();
                    }
                    continue;
                };
                kernel_inodes.insert(sock.inode);
                if info.origin == origin::UNOWNED || sock.state != tcp_state::CLOSE_WAIT {
                    continue;
                }
                let in_state = Duration::from_nanos(now_k.saturating_sub(info.state_ns));
                if in_state < self.options.min_age {
                    continue;
                }
                (sock.inode, "CLOSE_WAIT", in_state)
            };
            let key = (info.tgid, info.stack_id, info.capture_id, info.stack_flags);
            let (stack, complete) = if let Some(hit) = stacks.get(&key) {
                hit.clone()
            } else {
                let fresh = self.stack_of(info);
                stacks.insert(key, fresh.clone());
                fresh
            };
            let opened_by = if info.origin == origin::CONNECT {
                "connect"
            } else {
                "accept"
            };
            let age = Duration::from_nanos(now_k.saturating_sub(info.open_ns)).as_secs_f64();
            let leak = groups
                .entry((info.tgid, stack.clone(), opened_by, state_name))
                .or_insert_with(|| tracked_group(info, state_name, opened_by, stack, complete));
            leak.count += 1;
            leak.oldest_age_s = leak.oldest_age_s.max(age);
            leak.oldest_in_state_s = leak.oldest_in_state_s.max(in_state.as_secs_f64());
            leak.sockets.push(LeakedSocket {
                local: local.to_string(),
                remote: remote.to_string(),
                inode,
                age_s: age,
            });
        }
        self.untracked_leaks(&live, &kernel_inodes, now, &mut groups, &established);
        let counters = self.counters();
        let mut leaks: Vec<Leak> = groups.into_values().collect();
        leaks.sort_by(|a, b| b.count.cmp(&a.count).then(a.pid.cmp(&b.pid)));
        Report {
            leaks,
            lost_events: counters.ringbuf_drops
                + counters.socks_map_full
                + counters.stacks_map_full
                + counters.preempted,
            tracked_sockets: tracked,
            duration_s: now.duration_since(self.started).as_secs_f64(),
            programs: self.program_costs(),
            call_sites_learned: self.learned,
            counters,
            hooks: self.hooks.clone(),
        }
    }

    /// Without the state hook: the sockets in `CLOSE_WAIT` (and with
    /// `--idle`, ESTABLISHED) by cookie, with state, endpoints and time in
    /// the state. For `CLOSE_WAIT`, the time since the last ACK received
    /// (the peer's FIN, when the owner sends nothing after it) or since
    /// first sighting, whichever is longer (both are lower bounds); for
    /// ESTABLISHED, the time since it opened is not known here and does not
    /// matter (idle time is what `--idle` reports).
    fn diag_by_cookie(
        &self,
        sockets: &[crate::sockdiag::DiagSocket],
        now: Instant,
    ) -> HashMap<u64, (u8, SocketAddr, SocketAddr, Duration)> {
        let idle = self.options.idle.is_some();
        sockets
            .iter()
            .filter_map(|s| {
                let in_state = match s.state {
                    tcp_state::CLOSE_WAIT => {
                        let seen = self
                            .close_wait_seen
                            .get(&s.inode)
                            .map_or(Duration::ZERO, |t| now.duration_since(*t));
                        seen.max(Duration::from_millis(s.last_ack_ms.unwrap_or(0)))
                    }
                    tcp_state::ESTABLISHED if idle => Duration::ZERO,
                    _ => return None,
                };
                Some((s.cookie, (s.state, s.local, s.remote, in_state)))
            })
            .collect()
    }

    /// ESTABLISHED sockets and their idle times, with `--idle` (empty
    /// otherwise, or when `sock_diag` fails: then a warning says so): from
    /// the report's `dump` when it has one.
    fn established(
        &self,
        dump: Option<&[crate::sockdiag::DiagSocket]>,
    ) -> HashMap<(SocketAddr, SocketAddr), crate::sockdiag::Idle> {
        if self.options.idle.is_none() {
            return HashMap::new();
        }
        if let Some(sockets) = dump {
            return crate::sockdiag::idle_by_endpoints(sockets);
        }
        crate::sockdiag::established().unwrap_or_else(|e| {
            tracing::warn!("--idle: reading tcp_info through sock_diag failed: {e}");
            HashMap::new()
        })
    }

    /// Leaks among the sockets the kernel side has no entry for: /proc
    /// only, no stack. Those that existed before tracing, and those opened
    /// since without being seen (under the cgroup accept hook: accepted
    /// without asking for the peer address; else a socket not recorded,
    /// counted in `lost_events`).
    fn untracked_leaks(
        &mut self,
        live: &[TcpSocket],
        kernel_inodes: &HashSet<u64>,
        now: Instant,
        groups: &mut BTreeMap<GroupKey, Leak>,
        established: &HashMap<(SocketAddr, SocketAddr), crate::sockdiag::Idle>,
    ) {
        let close_wait: Vec<&TcpSocket> = live
            .iter()
            .filter(|s| s.state == tcp_state::CLOSE_WAIT && !kernel_inodes.contains(&s.inode))
            .collect();
        // Sockets that left CLOSE_WAIT are dropped by `sight_close_wait`;
        // here only a first sighting is added.
        for s in &close_wait {
            self.close_wait_seen.entry(s.inode).or_insert(now);
        }
        let idle: Vec<(&TcpSocket, Duration)> = match self.options.idle {
            Some(threshold) => live
                .iter()
                .filter(|s| s.state == tcp_state::ESTABLISHED && !kernel_inodes.contains(&s.inode))
                .filter_map(|s| {
                    let i = established.get(&(s.local, s.remote))?;
                    let d = Duration::from_millis(i.idle_ms);
                    (d >= threshold).then_some((s, d))
                })
                .collect(),
            None => Vec::new(),
        };
        let old_close_wait: Vec<(&TcpSocket, Duration)> = close_wait
            .iter()
            .map(|&s| {
                let seen = self.close_wait_seen.get(&s.inode).copied().unwrap_or(now);
                (s, now.duration_since(seen))
            })
            .filter(|(_, d)| *d >= self.options.min_age)
            .collect();
        if old_close_wait.is_empty() && idle.is_empty() {
            return;
        }
        let pids = (!self.options.pids.is_empty()).then_some(self.options.pids.as_slice());
        let owners = procfs::socket_owners(pids);
        let since_start = now.duration_since(self.started).as_secs_f64();
        let unseen_note = if self.hooks.iter().any(|h| h.starts_with("cgroup/")) {
            "[not seen when opened: accepted without asking for the peer address, \
             which the cgroup accept hook needs; --hooks tracepoints records these]"
        } else {
            "[not seen when opened: not recorded by the kernel side (see lost_events)]"
        };
        let me = std::process::id();
        let sockets = idle.into_iter().map(|(s, d)| (s, d, "ESTABLISHED")).chain(
            old_close_wait
                .into_iter()
                .map(|(s, d)| (s, d, "CLOSE_WAIT")),
        );
        for (s, in_state, state) in sockets {
            let Some(&(pid, _fd)) = owners.get(&s.inode).and_then(|o| o.first()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            let before = self.preexisting.contains(&s.inode);
            let (opened_by, note, age) = if before {
                let note = "[opened before tracing started: no stack]";
                ("before-tracing", note, since_start)
            } else {
                // Opened since tracing started: at least as old as its
                // time in the state.
                ("unseen", unseen_note, in_state.as_secs_f64())
            };
            let leak = groups
                .entry((pid, Vec::new(), opened_by, state))
                .or_insert_with(|| untracked(pid, state, opened_by, note));
            leak.count += 1;
            leak.oldest_age_s = leak.oldest_age_s.max(age);
            leak.oldest_in_state_s = leak.oldest_in_state_s.max(in_state.as_secs_f64());
            leak.sockets.push(LeakedSocket {
                local: s.local.to_string(),
                remote: s.remote.to_string(),
                inode: s.inode,
                age_s: age,
            });
        }
    }

    /// The symbolized opening stack of a socket, and whether it is complete.
    fn stack_of(&mut self, info: &SockInfo) -> (Vec<String>, bool) {
        let tgid = info.tgid;
        let (pcs, mut complete, note) = if info.stack_flags == stack_flags::CAPTURED {
            match self.captures.get(&info.capture_id) {
                Some(c) => (c.frames.clone(), c.complete, None),
                None => (Vec::new(), false, Some("[stack capture lost]")),
            }
        } else {
            match self.stacks.get(&info.stack_id, 0) {
                Ok(t) => (
                    t.frames[..(t.len as usize).min(MAX_FRAMES)].to_vec(),
                    info.stack_flags == stack_flags::COMPLETE,
                    match info.stack_flags {
                        stack_flags::THROTTLED => {
                            Some("[… call site not learned yet: capture budget spent]")
                        }
                        stack_flags::TRUNCATED => Some("[… unwinding stopped here]"),
                        _ => None,
                    },
                ),
                Err(_) => (Vec::new(), false, Some("[stack not recorded]")),
            }
        };
        let maps = self.procs.get(&tgid).map(|p| p.maps.clone()).or_else(|| {
            let m = procfs::read_maps(tgid).ok()?;
            self.procs.insert(tgid, Proc { maps: m.clone() });
            Some(m)
        });
        let maps = maps.unwrap_or_default();
        let mut out = Vec::new();
        for (i, pc) in pcs.iter().enumerate() {
            out.extend(self.symbolizer.frames(tgid, &maps, *pc, i == 0));
        }
        if !complete && note.is_none() && !pcs.is_empty() {
            out.push("[… stack truncated]".to_owned());
        }
        if let Some(n) = note {
            out.push(n.to_owned());
            complete = false;
        }
        (out, complete)
    }

    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A process's cgroup v2 path, `/` for the root, empty when unknown.
fn cgroup_path(pid: u32) -> String {
    crate::sched::cgroup_of(pid).map_or_else(String::new, |p| {
        if p.is_empty() { "/".to_owned() } else { p }
    })
}

fn comm_of(info: &SockInfo) -> String {
    let end = info
        .comm
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.comm.len());
    String::from_utf8_lossy(&info.comm[..end]).into_owned()
}

fn endpoints(info: &SockInfo) -> (SocketAddr, SocketAddr) {
    let ip = |b: &[u8; 16]| -> IpAddr {
        if info.family == 2 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(*b))
        }
    };
    (
        SocketAddr::new(ip(&info.saddr), info.sport),
        SocketAddr::new(ip(&info.daddr), info.dport),
    )
}

/// The host's TCP sockets as /proc/net/tcp{,6} lists them, or from a
/// `sock_diag` dump when there is one (full sockets only: the report looks
/// at CLOSE-WAIT and ESTABLISHED ones).
fn live_sockets(dump: Option<&[crate::sockdiag::DiagSocket]>) -> Vec<TcpSocket> {
    match dump {
        Some(sockets) => sockets
            .iter()
            .map(|s| TcpSocket {
                local: s.local,
                remote: s.remote,
                state: s.state,
                inode: s.inode,
            })
            .collect(),
        None => procfs::tcp_sockets(),
    }
}

/// Every full TCP socket on the host (`sock_diag`; `TIME_WAIT` and
/// `SYN_RECV` are mini sockets, never recorded).
fn full_sockets() -> std::io::Result<Vec<crate::sockdiag::DiagSocket>> {
    use netlink_packet_sock_diag::inet::StateFlags;
    crate::sockdiag::sockets(&(StateFlags::all() - StateFlags::TIME_WAIT - StateFlags::SYN_RECV))
}

/// The `SOCKS` entries (socket address, record) to drop: cookie not among
/// the `live` sockets', opened more than 5 s before `now_k` (a socket is
/// listed once connect hashes it, microseconds after its record; one whose
/// connect failed is not listed, and cannot reach CLOSE-WAIT without
/// connecting again, which records it again).
fn stale_socks(entries: &[(u64, SockInfo)], live: &HashSet<u64>, now_k: u64) -> Vec<u64> {
    entries
        .iter()
        .filter(|(_, info)| {
            info.cookie != 0
                && !live.contains(&info.cookie)
                && now_k.saturating_sub(info.open_ns) > 5_000_000_000
        })
        .map(|&(sk, _)| sk)
        .collect()
}

/// A socket's state, endpoints and time in the state from
/// `Tracer::diag_by_cookie`, written into its record; false when the
/// socket is in neither `CLOSE_WAIT` nor (with `--idle`) ESTABLISHED.
fn from_diag(info: &mut SockInfo, diag: &HashMap<u64, DiagEntry>, now_k: u64) -> bool {
    let Some(&(state, local, remote, in_state)) = diag.get(&info.cookie) else {
        return false;
    };
    set_endpoints(info, local, remote);
    info.state = state;
    info.state_ns = now_k.saturating_sub(u64::try_from(in_state.as_nanos()).unwrap_or(u64::MAX));
    true
}

/// State, local and remote endpoint, and time in the state of a socket.
type DiagEntry = (u8, SocketAddr, SocketAddr, Duration);

/// Writes endpoints into a record (the inverse of `endpoints`).
fn set_endpoints(info: &mut SockInfo, local: SocketAddr, remote: SocketAddr) {
    let bytes = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    };
    info.family = if local.is_ipv4() { 2 } else { 10 };
    info.saddr = bytes(local.ip());
    info.daddr = bytes(remote.ip());
    info.sport = local.port();
    info.dport = remote.port();
}

/// Runs and run time of every program of `ebpf` (meaningful while the
/// kernel's BPF run-time stats are on).
pub(crate) fn program_costs(ebpf: &Ebpf) -> Vec<ProgramCost> {
    ebpf.programs()
        .filter_map(|(name, p)| {
            let info = p.info().ok()?;
            let runs = info.run_count();
            let ns = u64::try_from(info.run_time().as_nanos()).unwrap_or(u64::MAX);
            Some(ProgramCost {
                program: name.to_owned(),
                runs,
                run_time_ns: ns,
                ns_per_run: if runs == 0 {
                    0.0
                } else {
                    info.run_time().as_secs_f64() * 1e9
                        / f64::from(u32::try_from(runs).unwrap_or(u32::MAX))
                },
            })
        })
        .collect()
}

/// The verifier log is long; keep its tail, where the reason is.
/// An error and its causes, `: `-separated (aya's syscall errors keep the
/// errno in the source).
pub(crate) fn with_sources(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

pub(crate) fn verifier(e: &aya::programs::ProgramError) -> String {
    let s = format!("{e:?}");
    let tail: Vec<&str> = s.lines().rev().take(12).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cookie: u64, open_ns: u64) -> SockInfo {
        SockInfo {
            open_ns,
            state_ns: open_ns,
            stack_id: 0,
            capture_id: 0,
            cgroup_id: 0,
            cookie,
            tgid: 1,
            tid: 1,
            comm: [0; 16],
            state: tcp_state::SYN_SENT,
            family: 0,
            origin: origin::CONNECT,
            stack_flags: 0,
            sport: 0,
            dport: 0,
            saddr: [0; 16],
            daddr: [0; 16],
        }
    }

    #[test]
    fn only_old_entries_of_sockets_that_are_gone_are_stale() {
        let s = 1_000_000_000;
        let entries = [
            (0x10, record(1, 0)),      // live
            (0x20, record(2, 0)),      // gone, old: stale
            (0x30, record(3, 60 * s)), // gone, but opened 2 s ago
            (0x40, record(0, 0)),      // no cookie (state-hook path): kept
        ];
        let live: HashSet<u64> = [1].into();
        assert_eq!(stale_socks(&entries, &live, 62 * s), vec![0x20]);
    }

    #[test]
    fn sock_diag_fills_a_record_that_endpoints_reads_back() {
        let now_k = 100_000_000_000;
        for (local, remote) in [
            ("127.0.0.1:4242", "10.1.2.3:80"),
            ("[::1]:4242", "[2001:db8::7]:443"),
        ] {
            let (local, remote): (SocketAddr, SocketAddr) =
                (local.parse().unwrap(), remote.parse().unwrap());
            let diag: HashMap<u64, DiagEntry> = [(
                7,
                (
                    tcp_state::CLOSE_WAIT,
                    local,
                    remote,
                    Duration::from_secs(40),
                ),
            )]
            .into();
            let mut info = record(7, 0);
            assert!(from_diag(&mut info, &diag, now_k));
            assert_eq!(endpoints(&info), (local, remote));
            assert_eq!(info.state, tcp_state::CLOSE_WAIT);
            assert_eq!(info.state_ns, now_k - 40_000_000_000);
            // Not in CLOSE_WAIT (nor, with --idle, ESTABLISHED): skipped.
            assert!(!from_diag(&mut record(8, 0), &diag, now_k));
        }
    }
}
