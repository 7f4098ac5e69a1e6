//! `govkit numa`: topology, placement of a process, a plan, applying and
//! reverting it, and running a command bound to a node.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use numa_tune::cpulist::CpuSet;
use numa_tune::pin::{self, PinError, PinRecord, Pinned, Restored};
use numa_tune::plan::Plan;
use numa_tune::process::{Placement, Roots};
use numa_tune::{Topology, sys};
use serde_json::json;

use crate::Context;
use crate::cli::OutputFormat;
use crate::error::{Outcome, UserError};
use crate::output::Stdout;

/// NUMA placement: where a process's threads and memory are, and pinning
/// them to the node that holds their memory.
#[derive(Debug, Args)]
pub struct NumaArgs {
    /// Read the topology from this sysfs root instead of /sys (fixture
    /// trees of other hosts).
    #[arg(long, value_name = "DIR", global = true)]
    sysfs_root: Option<PathBuf>,
    #[command(subcommand)]
    command: NumaCommand,
}

#[derive(Debug, Subcommand)]
enum NumaCommand {
    /// The host's nodes: CPUs, memory, distances, packages and SMT.
    Topology,
    /// Where each thread of PID runs, its allowed CPUs and cpuset, and the
    /// process's memory per node, with a locality score.
    Inspect(PidArgs),
    /// Which node PID's threads should run on, and why.
    Plan(PidArgs),
    /// Pin PID's threads to the planned node (never outside their cpuset),
    /// recording the old affinities so `revert` can restore them.
    Apply(ApplyArgs),
    /// Restore the affinities `apply` changed.
    Revert(RevertArgs),
    /// Run a command on one node's CPUs (and memory with --membind), like
    /// `numactl --cpunodebind=N --membind=N`.
    Exec(ExecArgs),
}

#[derive(Debug, Args)]
struct PidArgs {
    /// The process.
    #[arg(value_name = "PID")]
    pid: u32,
}

#[derive(Debug, Args)]
struct ApplyArgs {
    /// The process.
    #[arg(value_name = "PID")]
    pid: u32,
    /// Show what would change without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Also move the process's pages from other nodes to the planned node.
    #[arg(long)]
    migrate_memory: bool,
    /// Where the record of changed affinities is kept.
    #[arg(long, value_name = "DIR", default_value = "/run/govkit/numa")]
    state_dir: PathBuf,
}

#[derive(Debug, Args)]
struct RevertArgs {
    /// The process.
    #[arg(value_name = "PID")]
    pid: u32,
    /// Where `apply` kept its record.
    #[arg(long, value_name = "DIR", default_value = "/run/govkit/numa")]
    state_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ExecArgs {
    /// The node whose CPUs the command runs on.
    #[arg(long, value_name = "N")]
    node: u32,
    /// Also allocate the command's memory only on that node.
    #[arg(long)]
    membind: bool,
    /// The command and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(ctx: &Context, args: &NumaArgs) -> anyhow::Result<Outcome> {
    let sys_root = args
        .sysfs_root
        .as_ref()
        .map_or_else(|| PathBuf::from("/sys"), |r| ctx.cwd.join(r));
    let topo = Topology::read(&sys_root).map_err(numa_error)?;
    let roots = Roots {
        proc: PathBuf::from("/proc"),
        sys: sys_root,
    };
    match &args.command {
        NumaCommand::Topology => topology(ctx, &topo),
        NumaCommand::Inspect(a) => {
            let p = inspect(&roots, &topo, a.pid)?;
            print_placement(ctx, &topo, &p)
        }
        NumaCommand::Plan(a) => {
            let p = inspect(&roots, &topo, a.pid)?;
            let plan = numa_tune::plan::plan(&p, &topo);
            print_plan(ctx, &plan)
        }
        NumaCommand::Apply(a) => apply(ctx, &roots, &topo, a),
        NumaCommand::Revert(a) => revert(ctx, a),
        NumaCommand::Exec(a) => exec(&topo, a),
    }
}

fn format(ctx: &Context) -> anyhow::Result<OutputFormat> {
    match ctx.global.format.unwrap_or(OutputFormat::Human) {
        f @ (OutputFormat::Human | OutputFormat::Json) => Ok(f),
        other => Err(UserError::new(
            format!("govkit numa has no {other:?} output"),
            "use --format human or --format json",
        )
        .into()),
    }
}

fn numa_error(e: numa_tune::Error) -> anyhow::Error {
    let numa_tune::Error {
        path,
        message,
        permission,
    } = e;
    let hint = permission.then(|| {
        "reading a process's numa_maps needs ptrace access to it: run as its user, or as root with CAP_SYS_PTRACE (a container or Yama's ptrace_scope can still deny it)".to_owned()
    });
    UserError {
        message: format!("{}: {message}", path.display()),
        hint,
    }
    .into()
}

fn inspect(roots: &Roots, topo: &Topology, pid: u32) -> anyhow::Result<Placement> {
    numa_tune::process::inspect(roots, topo, pid).map_err(numa_error)
}

fn topology(ctx: &Context, topo: &Topology) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    if format(ctx)? == OutputFormat::Json {
        let packages: Vec<_> = topo
            .packages()
            .into_iter()
            .map(|(id, cpus)| json!({"id": id, "cpus": cpus}))
            .collect();
        let doc = json!({
            "nodes": topo.nodes,
            "cpus": topo.cpus,
            "offline_cpus": topo.offline_cpus,
            "packages": packages,
            "smt": topo.has_smt(),
        });
        serde_json::to_writer(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<6} {:<20} {:>12} {:>12}  distances",
            "node", "cpus", "memory", "free"
        )?;
        for n in &topo.nodes {
            let cpus = if n.cpus.is_empty() {
                "(memory only)".to_owned()
            } else {
                n.cpus.to_string()
            };
            let distances: Vec<String> = n.distances.iter().map(u32::to_string).collect();
            writeln!(
                out,
                "{:<6} {:<20} {:>9} MiB {:>8} MiB  {}",
                n.id,
                cpus,
                n.memory_bytes >> 20,
                n.memory_free_bytes >> 20,
                distances.join(" ")
            )?;
        }
        let packages = topo.packages();
        writeln!(
            out,
            "{} node(s), {} online CPU(s){}, {} package(s), SMT {}",
            topo.nodes.len(),
            topo.cpus.len(),
            if topo.offline_cpus.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} offline: {})",
                    topo.offline_cpus.len(),
                    topo.offline_cpus
                )
            },
            packages.len(),
            if topo.has_smt() { "on" } else { "off" }
        )?;
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn print_placement(ctx: &Context, topo: &Topology, p: &Placement) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    if format(ctx)? == OutputFormat::Json {
        let mut doc = serde_json::to_value(p)?;
        doc["memory_bytes"] = json!(p.memory_bytes());
        serde_json::to_writer(&mut out, &doc)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Outcome::Pass);
    }
    writeln!(
        out,
        "process {} ({}), {} thread(s)",
        p.pid,
        p.comm,
        p.threads.len()
    )?;
    if let Some(c) = &p.cpuset {
        writeln!(
            out,
            "cpuset ({}) {}: cpus {} mems {}",
            c.version, c.cgroup, c.cpus, c.mems
        )?;
    }
    writeln!(
        out,
        "{:>8}  {:<16} {:>4} {:>5}  allowed",
        "tid", "name", "cpu", "node"
    )?;
    for t in &p.threads {
        writeln!(
            out,
            "{:>8}  {:<16} {:>4} {:>5}  {}",
            t.tid,
            t.comm,
            t.cpu,
            t.node.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            t.allowed
        )?;
    }
    let total = p.memory_bytes();
    write!(out, "memory: {} MiB", total >> 20)?;
    for n in &topo.nodes {
        let bytes = p.memory_by_node.get(&n.id).copied().unwrap_or(0);
        write!(out, "  node {}: {} MiB", n.id, bytes >> 20)?;
    }
    writeln!(out)?;
    match p.locality {
        Some(l) => writeln!(
            out,
            "locality: {l:.2} (1.00 = every thread's memory is on its node)"
        )?,
        None => writeln!(out, "locality: n/a (no resident memory counted)")?,
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn print_plan(ctx: &Context, plan: &Plan) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    if format(ctx)? == OutputFormat::Json {
        serde_json::to_writer(&mut out, plan)?;
        writeln!(out)?;
    } else {
        match plan.node {
            Some(n) => writeln!(out, "plan for process {}: run on node {n}", plan.pid)?,
            None => writeln!(out, "plan for process {}: no change", plan.pid)?,
        }
        writeln!(out, "why: {}", plan.reason)?;
        for m in &plan.threads {
            writeln!(out, "  thread {:>8}: cpus {} -> {}", m.tid, m.from, m.to)?;
        }
        for (tid, why) in &plan.skipped {
            writeln!(out, "  thread {tid:>8}: left alone: {why}")?;
        }
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn start_time(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| {
        UserError::new(
            format!("process {pid} does not exist ({e})"),
            "check the PID",
        )
    })?;
    pin::start_time(&stat).ok_or_else(|| anyhow::anyhow!("{path}: no start time field"))
}

fn apply(
    ctx: &Context,
    roots: &Roots,
    topo: &Topology,
    args: &ApplyArgs,
) -> anyhow::Result<Outcome> {
    let placement = inspect(roots, topo, args.pid)?;
    let plan = numa_tune::plan::plan(&placement, topo);
    let Some(node) = plan.node else {
        return print_plan(ctx, &plan);
    };
    if args.dry_run {
        return print_plan(ctx, &plan);
    }
    let node_cpus = topo.node(node).map(|n| n.cpus.clone()).unwrap_or_default();
    let start = start_time(args.pid)?;
    let proc_dir = roots.proc.join(args.pid.to_string());
    let mut record = PinRecord {
        pid: args.pid,
        start_time: start,
        node,
        threads: Vec::new(),
    };
    let Pinned {
        pinned,
        vanished,
        left,
    } = pin::pin_threads(&proc_dir, node, &node_cpus, &mut record).map_err(pin_error)?;
    let mut migrated = None;
    if args.migrate_memory {
        let others = CpuSet::from_ids(topo.nodes.iter().map(|n| n.id).filter(|&n| n != node));
        let stuck =
            sys::migrate_pages(args.pid, &others, &CpuSet::from_ids([node])).map_err(|e| {
                UserError::new(
                    format!("migrate_pages for process {}: {e}", args.pid),
                    "moving another process's pages needs root (CAP_SYS_NICE)",
                )
            })?;
        migrated = Some(stuck);
    }
    std::fs::create_dir_all(&args.state_dir)
        .with_context(|| format!("cannot create {}", args.state_dir.display()))?;
    crate::output::write_atomically(
        &PinRecord::path(&args.state_dir, args.pid),
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;

    let mut out = Stdout::new();
    if format(ctx)? == OutputFormat::Json {
        let doc = json!({
            "pid": args.pid,
            "node": node,
            "pinned": pinned.iter().map(|(t, b, a)| json!({"tid": t, "from": b, "to": a})).collect::<Vec<_>>(),
            "vanished": vanished,
            "left_alone": left.iter().map(|(t, w)| json!({"tid": t, "reason": w})).collect::<Vec<_>>(),
            "pages_not_migrated": migrated,
            "record": PinRecord::path(&args.state_dir, args.pid),
        });
        serde_json::to_writer(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "process {}: pinned {} thread(s) to node {node}",
            args.pid,
            pinned.len()
        )?;
        for (tid, before, after) in &pinned {
            writeln!(out, "  thread {tid:>8}: cpus {before} -> {after}")?;
        }
        for tid in &vanished {
            writeln!(out, "  thread {tid:>8}: exited during apply")?;
        }
        for (tid, why) in &left {
            writeln!(out, "  thread {tid:>8}: left alone: {why}")?;
        }
        if let Some(stuck) = migrated {
            writeln!(
                out,
                "memory migrated to node {node} ({stuck} page(s) could not move)"
            )?;
        }
        writeln!(out, "undo with: govkit numa revert {}", args.pid)?;
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn pin_error(e: PinError) -> anyhow::Error {
    match e {
        PinError::Threads(e) => numa_error(e),
        e @ PinError::Affinity { .. } => UserError::new(
            e.to_string(),
            "changing another user's threads needs root (CAP_SYS_NICE)",
        )
        .into(),
        e @ PinError::BadRecord { .. } => UserError::new(e.to_string(), "remove the record").into(),
    }
}

fn revert(ctx: &Context, args: &RevertArgs) -> anyhow::Result<Outcome> {
    let path = PinRecord::path(&args.state_dir, args.pid);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        UserError::new(
            format!("no record of `govkit numa apply {}` in {} ({e})", args.pid, args.state_dir.display()),
            "revert restores what apply changed; nothing was applied to this process (or --state-dir differs)",
        )
    })?;
    let record: PinRecord = serde_json::from_str(&text).map_err(|e| {
        UserError::new(
            format!("{}: not a govkit apply record: {e}", path.display()),
            "remove it",
        )
    })?;
    if start_time(args.pid)? != record.start_time {
        return Err(UserError::new(
            format!(
                "process {} is not the one `apply` changed (the PID was reused)",
                args.pid
            ),
            format!("remove {}", path.display()),
        )
        .into());
    }
    let Restored {
        restored,
        exited: gone,
    } = pin::restore(&record).map_err(|e| match e {
        PinError::BadRecord { .. } => {
            UserError::new(format!("{}: {e}", path.display()), "remove it").into()
        }
        e => pin_error(e),
    })?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    let mut out = Stdout::new();
    if format(ctx)? == OutputFormat::Json {
        serde_json::to_writer(
            &mut out,
            &json!({"pid": args.pid, "restored": restored, "exited": gone}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "process {}: restored {restored} thread(s); {gone} had exited",
            args.pid
        )?;
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn exec(topo: &Topology, args: &ExecArgs) -> anyhow::Result<Outcome> {
    use std::os::unix::process::CommandExt;
    let existing: Vec<String> = topo.nodes.iter().map(|n| n.id.to_string()).collect();
    let node = topo.node(args.node).ok_or_else(|| {
        UserError::new(
            format!("node {} does not exist", args.node),
            format!("nodes on this host: {}", existing.join(", ")),
        )
    })?;
    if node.cpus.is_empty() {
        return Err(UserError::new(
            format!("node {} has no CPUs (a memory-only node)", args.node),
            "run on a node with CPUs and use --membind for memory placement",
        )
        .into());
    }
    let allowed = sys::get_affinity(0).context("sched_getaffinity")?;
    let cpus = allowed.intersection(&node.cpus);
    if cpus.is_empty() {
        return Err(UserError::new(
            format!(
                "node {}'s CPUs {} are outside this process's allowed CPUs {allowed}",
                args.node, node.cpus
            ),
            "the cgroup cpuset or affinity govkit runs under excludes that node",
        )
        .into());
    }
    sys::set_affinity(0, &cpus).context("sched_setaffinity")?;
    if args.membind {
        sys::bind_memory(&CpuSet::from_ids([args.node]))
            .with_context(|| format!("set_mempolicy(MPOL_BIND, node {})", args.node))?;
    }
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no command"))?;
    // exec only returns on failure.
    let err = std::process::Command::new(program).args(rest).exec();
    Err(UserError::new(
        format!("cannot run `{program}`: {err}"),
        "check the command name and PATH",
    )
    .into())
}
