//! Which kernel hooks the connections tracer runs on, chosen and checked
//! at start: the accept hook (`fexit`, the cgroup `getpeername` hooks or
//! the syscall tracepoints), the socket lifecycle (cgroup `connect` hooks
//! with `sock_diag`, else the `inet_sock_set_state` state hook), and the
//! kernel structure offsets the programs are loaded with.

use std::net::Ipv4Addr;

use aya::Ebpf;
use aya::maps::{MapData, PerCpuArray};
use aya::programs::{CgroupAttachMode, CgroupSockAddr, FExit, TracePoint};
use govkit_ebpf_common::{KernelOffsets, SLOT_BITS, counter};

use super::Hooks;
use crate::programs::{
    Hook, Target, attach_raw, load_error, load_program, unload_programs, with_sources,
};
use crate::{TraceError, env, procfs};

/// Kernel struct offsets from the running kernel's BTF.
pub(super) fn kernel_offsets(host: &env::Host) -> Result<KernelOffsets, TraceError> {
    let btf = crate::btf::vmlinux_btf()?;
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
pub(super) fn slots_in_use() -> Result<u32, TraceError> {
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
pub(super) fn packed_endpoints(o: &KernelOffsets) -> bool {
    let d = o.skc_daddr;
    o.skc_rcv_saddr == d + 4
        && o.skc_dport == d + 12
        && o.skc_num == d + 14
        && o.skc_family == d + 16
        && o.skc_v6_rcv_saddr == o.skc_v6_daddr + 16
}

/// Loads and attaches every program of the object; returns the hooks
/// attached.
pub(super) fn attach_programs(ebpf: &mut Ebpf, hooks: Hooks) -> Result<Vec<Hook>, TraceError> {
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
            Err(e) => tracing::warn!(
                "trace connections: the cgroup connect hooks with sock_diag are unavailable ({e}); following every TCP state change instead (inet_sock_set_state), which costs more per connection"
            ),
        }
    }
    if !light {
        attached.push(attach_raw(ebpf, "sock_state", "inet_sock_set_state")?);
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
                tracing::warn!(
                    "trace connections: the cgroup getpeername accept hook is unavailable ({e}); using the accept syscall tracepoints, the costly path: while they are attached, every system call of every task on the host takes the kernel's slow path"
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
        let mut hooks =
            vec![attach_raw(ebpf, "sock_destroy", "tcp_destroy_sock").map_err(|e| e.to_string())?];
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
