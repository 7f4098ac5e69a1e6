//! Machinery both tracers share: loading programs and reporting the
//! verifier's reason, attaching them to kernel hooks (and detaching them
//! again), the kernel-side `--pid` filter, the kernel's per-program run-time
//! statistics, and forwarding the programs' log records.

use aya::Ebpf;
use aya::maps::{HashMap as BpfHashMap, Map};
use aya::programs::{
    BtfTracePoint, CgroupAttachMode, CgroupSockAddr, FExit, ProgramError, RawTracePoint, TracePoint,
};
use serde::Serialize;

use crate::{TraceError, procfs};

/// Run time of each program, from the kernel's BPF stats.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramCost {
    pub program: String,
    pub runs: u64,
    pub run_time_ns: u64,
    pub ns_per_run: f64,
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

/// Where one program is attached, kept with its link so that the hook can
/// be detached and attached again (`Tracer::set_hooks_attached`).
pub(crate) enum Target {
    Raw(&'static str),
    /// A BTF-typed tracepoint (`tp_btf`), named at load.
    BtfTracepoint(&'static str),
    Tracepoint(&'static str, &'static str),
    FExit,
    /// The cgroup directory (kept open), the attach mode, and the attach
    /// point's name (`getpeername4`, …).
    Cgroup(std::fs::File, CgroupAttachMode, &'static str),
}

pub(crate) enum Link {
    Raw(aya::programs::raw_trace_point::RawTracePointLinkId),
    BtfTracepoint(aya::programs::tp_btf::BtfTracePointLinkId),
    Tracepoint(aya::programs::trace_point::TracePointLinkId),
    FExit(aya::programs::fexit::FExitLinkId),
    Cgroup(aya::programs::cgroup_sock_addr::CgroupSockAddrLinkId),
}

/// An attached (or detached) kernel hook.
pub(crate) struct Hook {
    pub(crate) program: &'static str,
    pub(crate) target: Target,
    link: Option<Link>,
}

impl Hook {
    /// Attaches the (loaded) `program` at `target`.
    pub(crate) fn new(
        ebpf: &mut Ebpf,
        program: &'static str,
        target: Target,
    ) -> Result<Self, ProgramError> {
        let mut hook = Self {
            program,
            target,
            link: None,
        };
        hook.attach(ebpf)?;
        Ok(hook)
    }

    /// Attaches the (loaded) program; does nothing when it is attached.
    pub(crate) fn attach(&mut self, ebpf: &mut Ebpf) -> Result<(), ProgramError> {
        if self.link.is_some() {
            return Ok(());
        }
        let p = ebpf
            .program_mut(self.program)
            .ok_or(ProgramError::NotLoaded)?;
        self.link = Some(match &self.target {
            Target::Raw(tp) => Link::Raw(<&mut RawTracePoint>::try_from(p)?.attach(tp)?),
            Target::BtfTracepoint(_) => {
                Link::BtfTracepoint(<&mut BtfTracePoint>::try_from(p)?.attach()?)
            }
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
    pub(crate) fn detach(&mut self, ebpf: &mut Ebpf) -> Result<(), ProgramError> {
        let Some(link) = self.link.take() else {
            return Ok(());
        };
        let p = ebpf
            .program_mut(self.program)
            .ok_or(ProgramError::NotLoaded)?;
        match link {
            Link::Raw(id) => <&mut RawTracePoint>::try_from(p)?.detach(id),
            Link::BtfTracepoint(id) => <&mut BtfTracePoint>::try_from(p)?.detach(id),
            Link::Tracepoint(id) => <&mut TracePoint>::try_from(p)?.detach(id),
            Link::FExit(id) => <&mut FExit>::try_from(p)?.detach(id),
            Link::Cgroup(id) => <&mut CgroupSockAddr>::try_from(p)?.detach(id),
        }
    }

    /// How reports name the hook.
    pub(crate) fn name(&self) -> String {
        match &self.target {
            Target::Raw(tp) => format!("raw_tracepoint/{tp}"),
            Target::BtfTracepoint(tp) => format!("tp_btf/{tp}"),
            Target::Tracepoint(cat, name) => format!("tracepoint/{cat}:{name}"),
            Target::FExit => "fexit/inet_csk_accept".to_owned(),
            Target::Cgroup(_, _, point) => format!("cgroup/{point}"),
        }
    }
}

/// Loads program `name` of type `P` with `load`.
pub(crate) fn load_program<P>(
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

/// Unloads (and so detaches) `programs` after a failed self-check. A
/// failure leaves a hook that records nothing useful, harmless.
pub(crate) fn unload_programs(ebpf: &mut Ebpf, programs: &[&str]) {
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

/// Every PID to trace must exist and run (a typo, or a process that has
/// already exited, is an input error, exit 2).
pub(crate) fn check_pids(pids: &[u32]) -> Result<(), TraceError> {
    for &pid in pids {
        if !procfs::exists(pid) {
            return Err(TraceError::NoProcess(pid));
        }
        if !procfs::alive(pid) {
            return Err(TraceError::Input(format!(
                "process {pid} has exited: it is a zombie its parent has not reaped, with every file closed; there is nothing left to trace"
            )));
        }
    }
    Ok(())
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

/// The verifier log is long; keep its tail, where the reason is.
pub(crate) fn verifier(e: &aya::programs::ProgramError) -> String {
    let s = format!("{e:?}");
    let tail: Vec<&str> = s.lines().rev().take(12).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Takes map `name` out of a loaded object, for a tracer to keep.
pub(crate) fn take_map(ebpf: &mut Ebpf, name: &str) -> Result<Map, TraceError> {
    ebpf.take_map(name)
        .ok_or_else(|| load_error("eBPF object", format!("no map {name}")))
}

/// Turns the kernel's BPF run-time statistics on while the returned
/// descriptor is held (`--bpf-stats`): they add two clock reads to every
/// BPF program run on the host, so they are off unless asked for.
pub(crate) fn enable_run_time_stats() -> Result<std::os::fd::OwnedFd, TraceError> {
    aya::sys::enable_stats(aya::sys::Stats::RunTime)
        .map_err(|e| load_error("enabling BPF run-time statistics", e))
}

/// Loads raw-tracepoint program `program` and attaches it to `tracepoint`.
pub(crate) fn attach_raw(
    ebpf: &mut Ebpf,
    program: &'static str,
    tracepoint: &'static str,
) -> Result<Hook, TraceError> {
    load_program::<RawTracePoint>(ebpf, program, RawTracePoint::load)?;
    Hook::new(ebpf, program, Target::Raw(tracepoint)).map_err(|e| {
        load_error(
            &format!("attaching {program} to raw tracepoint {tracepoint}"),
            e,
        )
    })
}

/// Loads BTF-tracepoint program `program` for `tracepoint` (typed by the
/// kernel's `btf`) and attaches it.
pub(crate) fn attach_btf_tracepoint(
    ebpf: &mut Ebpf,
    program: &'static str,
    tracepoint: &'static str,
    btf: &aya::Btf,
) -> Result<Hook, TraceError> {
    load_program(ebpf, program, |p: &mut BtfTracePoint| {
        p.load(tracepoint, btf)
    })?;
    Hook::new(ebpf, program, Target::BtfTracepoint(tracepoint)).map_err(|e| {
        load_error(
            &format!("attaching {program} to BTF tracepoint {tracepoint}"),
            e,
        )
    })
}
