//! `govkit numa`: topology, placement of a process, a plan, applying and
//! reverting it, and running a command bound to a node.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use numa_tune::cpulist::CpuSet;
use numa_tune::pin::{self, PinError, PinRecord, Pinned, Restored};
use numa_tune::plan::Plan;
use numa_tune::process::{Kind, Placement, Roots};
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
    /// trees of other hosts). Only the topology: processes, their cgroups
    /// and the kernel calls stay this host's.
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

/// Where `apply` keeps its records by default.
const DEFAULT_STATE_DIR: &str = "/run/govkit/numa";

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
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
}

#[derive(Debug, Args)]
struct RevertArgs {
    /// The process.
    #[arg(value_name = "PID")]
    pid: u32,
    /// Where `apply` kept its record.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
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
    let topo = Topology::read(&sys_root).map_err(|e| match &args.sysfs_root {
        // A wrong --sysfs-root is the path's fault, not the kernel's.
        Some(given) if !e.path.is_dir() && e.path.ends_with("devices/system/node") => {
            UserError::new(
                format!("{}: missing", e.path.display()),
                format!(
                    "--sysfs-root {} is not a sysfs tree: it needs devices/system/node and devices/system/cpu",
                    given.display()
                ),
            )
            .into()
        }
        _ => numa_error(e),
    })?;
    // --sysfs-root changes the topology only: cgroups (cpusets) are the
    // real ones, under /sys, as the processes are the real ones.
    let roots = Roots {
        proc: PathBuf::from("/proc"),
        sys: PathBuf::from("/sys"),
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
        NumaCommand::Exec(a) => exec(ctx, &topo, a),
    }
}

fn format(ctx: &Context) -> anyhow::Result<OutputFormat> {
    match ctx.global.format.unwrap_or(OutputFormat::Human) {
        f @ (OutputFormat::Human | OutputFormat::Json) => Ok(f),
        other => Err(UserError::new(
            format!(
                "govkit numa has no {} output: its reports point at no source line",
                format!("{other:?}").to_lowercase()
            ),
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
        file: Some((path.display().to_string(), None)),
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
    let color = crate::output::stdout_color(ctx.global.color);
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    writeln!(
        out,
        "{}",
        paint(
            "1",
            &format!(
                "process {} ({}), {} thread(s)",
                p.pid,
                p.comm,
                p.threads.len()
            )
        )
    )?;
    if let Some(t) = p.memory_via_thread {
        writeln!(
            out,
            "leader thread: a zombie (exited; its other threads run): memory read through thread {t}"
        )?;
    }
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
    // The node holding most memory: threads elsewhere are marked (yellow).
    let home = p
        .memory_by_node
        .iter()
        .max_by_key(|(_, b)| **b)
        .map(|(n, _)| *n);
    for t in &p.threads {
        let row = format!(
            "{:>8}  {:<16} {:>4} {:>5}  {}",
            t.tid,
            t.comm,
            t.cpu,
            t.node.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            t.allowed
        );
        let remote = home.is_some() && t.node.is_some() && t.node != home;
        writeln!(out, "{}", if remote { paint("33", &row) } else { row })?;
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
            "locality: {} (1.00 = every thread's memory is on its node)",
            paint(
                if l >= 0.9 {
                    "32"
                } else if l >= 0.5 {
                    "33"
                } else {
                    "31"
                },
                &format!("{l:.2}")
            )
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

/// Whether process `pid` is still the one that started at `start`, and
/// runs: a process that has exited stays in /proc as a zombie until its
/// parent reaps it, and one being killed lists its dying threads for a
/// while (a zombie leader whose threads run is alive).
fn alive(pid: u32, started: u64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    pin::start_time(&stat) == Some(started)
        && !numa_tune::process::exiting(Path::new(&format!("/proc/{pid}")))
}

/// Refuses what apply must never touch: kernel threads (the kernel places
/// them, and refuses most affinity changes with EINVAL) and zombies
/// (nothing runs).
fn refuse_untouchable(pid: u32) -> anyhow::Result<()> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let comm = comm.trim();
    match numa_tune::process::kind(&stat) {
        Some(Kind::KernelThread) => Err(UserError::new(
            format!("process {pid} ({comm}) is a kernel thread: govkit does not pin kernel threads"),
            "the kernel places its own threads (and refuses most affinity changes to them); pin the user-space service instead",
        )
        .into()),
        Some(Kind::Zombie) if numa_tune::process::exiting(Path::new(&format!("/proc/{pid}"))) => {
            Err(UserError::new(
                format!("process {pid} ({comm}) is a zombie: it has exited and its parent has not reaped it; nothing runs to pin"),
                "nothing to do; its parent must wait() for it",
            )
            .into())
        }
        _ => Ok(()),
    }
}

/// "govkit numa revert PID", with `--state-dir` when it is not the
/// default.
fn undo_command(pid: u32, state_dir: &Path) -> String {
    if state_dir == Path::new(DEFAULT_STATE_DIR) {
        format!("govkit numa revert {pid}")
    } else {
        format!(
            "govkit numa revert {pid} --state-dir {}",
            state_dir.display()
        )
    }
}

/// What `apply` did, or would do: one shape for `--dry-run`, for a plan
/// with nothing to change, and for a real change.
#[derive(Debug, serde::Serialize)]
struct Applied {
    pid: u32,
    node: Option<u32>,
    dry_run: bool,
    /// Whether any affinity was changed.
    changed: bool,
    reason: String,
    pinned: Vec<serde_json::Value>,
    vanished: Vec<u32>,
    left_alone: Vec<serde_json::Value>,
    pages_not_migrated: Option<u64>,
    /// The record `revert` reads, when something was changed.
    record: Option<PathBuf>,
    undo: Option<String>,
}

impl Applied {
    fn planned(plan: &Plan, dry_run: bool) -> Self {
        Applied {
            pid: plan.pid,
            node: plan.node,
            dry_run,
            changed: false,
            reason: plan.reason.clone(),
            pinned: plan
                .threads
                .iter()
                .map(|m| json!({"tid": m.tid, "from": m.from, "to": m.to}))
                .collect(),
            vanished: Vec::new(),
            left_alone: plan
                .skipped
                .iter()
                .map(|(t, w)| json!({"tid": t, "reason": w}))
                .collect(),
            pages_not_migrated: None,
            record: None,
            undo: None,
        }
    }
}

fn apply(
    ctx: &Context,
    roots: &Roots,
    topo: &Topology,
    args: &ApplyArgs,
) -> anyhow::Result<Outcome> {
    let format = format(ctx)?;
    refuse_untouchable(args.pid)?;
    let placement = inspect(roots, topo, args.pid)?;
    let plan = numa_tune::plan::plan(&placement, topo);
    let Some(node) = plan.node.filter(|_| !args.dry_run) else {
        let planned = Applied::planned(&plan, args.dry_run);
        return if format == OutputFormat::Json {
            print_json(&planned)
        } else {
            print_plan(ctx, &plan)
        };
    };
    let path = PinRecord::path(&args.state_dir, args.pid);
    let (pinned, migrated) = change(roots, topo, args, node, &path)?;
    let Pinned {
        pinned,
        vanished,
        left,
    } = pinned;
    let undo = undo_command(args.pid, &args.state_dir);
    let applied = Applied {
        pid: args.pid,
        node: Some(node),
        dry_run: false,
        changed: !pinned.is_empty(),
        reason: plan.reason.clone(),
        pinned: pinned
            .iter()
            .map(|(t, b, a)| json!({"tid": t, "from": b, "to": a}))
            .collect(),
        vanished: vanished.clone(),
        left_alone: left
            .iter()
            .map(|(t, w)| json!({"tid": t, "reason": w}))
            .collect(),
        pages_not_migrated: migrated,
        record: Some(path),
        undo: Some(undo.clone()),
    };
    if format == OutputFormat::Json {
        return print_json(&applied);
    }
    let mut out = Stdout::new();
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
    writeln!(out, "undo with: {undo}")?;
    out.flush()?;
    Ok(Outcome::Pass)
}

/// Pins the threads of `args.pid` to `node` (and moves its memory with
/// `--migrate-memory`), all or nothing: the record is written before the
/// first change; on failure every change is rolled back and the record
/// removed; a process that exits meanwhile is reported as such, without a
/// record. `path` is the record's file. Returns what was pinned and the
/// pages that could not move.
fn change(
    roots: &Roots,
    topo: &Topology,
    args: &ApplyArgs,
    node: u32,
    path: &Path,
) -> anyhow::Result<(Pinned, Option<u64>)> {
    let node_cpus = topo.node(node).map(|n| n.cpus.clone()).unwrap_or_default();
    let start = start_time(args.pid)?;
    let proc_dir = roots.proc.join(args.pid.to_string());
    let mut record = PinRecord {
        pid: args.pid,
        start_time: start,
        node,
        threads: Vec::new(),
        masks: Vec::new(),
    };
    // The record goes first: a govkit killed half-way leaves what
    // `revert` needs to undo it.
    std::fs::create_dir_all(&args.state_dir)
        .with_context(|| format!("cannot create {}", args.state_dir.display()))?;
    let intent = PinRecord::intent(&proc_dir, &node_cpus, &record).map_err(pin_error)?;
    write_record(path, &intent)?;
    let changed = pin::pin_threads(&proc_dir, node, &node_cpus, &mut record)
        .map_err(pin_error)
        .and_then(|pinned| {
            let migrated = if args.migrate_memory {
                Some(migrate(topo, args.pid, node)?)
            } else {
                None
            };
            Ok((pinned, migrated))
        });
    let ((pinned, migrated), gone) = match changed {
        Ok(done) => (done, !alive(args.pid, start)),
        Err(e) => {
            // Undo what was done, then say why it stopped. The record
            // stays only when undoing failed: revert can try again.
            let undone = pin::restore(&record, &proc_dir);
            if undone.is_ok() || !alive(args.pid, start) {
                std::fs::remove_file(path).unwrap_or_default();
            }
            if !alive(args.pid, start) {
                return Err(exited_during_apply(args.pid));
            }
            return Err(match undone {
                Ok(r) => e.context(format!(
                    "apply stopped and was rolled back ({} thread(s) restored{})",
                    r.restored,
                    if r.born_since > 0 {
                        format!(", and {} created meanwhile", r.born_since)
                    } else {
                        String::new()
                    }
                )),
                Err(r) => e.context(format!(
                    "apply stopped, and rolling it back failed too ({r}); the record is kept: `{}` tries again",
                    undo_command(args.pid, &args.state_dir)
                )),
            });
        }
    };
    if gone {
        std::fs::remove_file(path).unwrap_or_default();
        return Err(exited_during_apply(args.pid));
    }
    write_record(path, &record)?;
    Ok((pinned, migrated))
}

fn exited_during_apply(pid: u32) -> anyhow::Error {
    UserError::new(
        format!("process {pid} exited during apply: nothing was pinned that outlives it, and no record was kept"),
        "nothing to undo",
    )
    .into()
}

fn write_record(path: &Path, record: &PinRecord) -> anyhow::Result<()> {
    crate::output::write_atomically(path, serde_json::to_string_pretty(record)?.as_bytes())
}

/// Moves the process's pages from the other nodes to `node`: the number
/// of pages that could not move.
fn migrate(topo: &Topology, pid: u32, node: u32) -> anyhow::Result<u64> {
    let others = CpuSet::from_ids(topo.nodes.iter().map(|n| n.id).filter(|&n| n != node));
    sys::migrate_pages(pid, &others, &CpuSet::from_ids([node])).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::InvalidInput {
            format!("the kernel has no memory on node {node} to move pages to (check --sysfs-root, and `govkit numa topology`)")
        } else {
            "moving another process's pages needs root (CAP_SYS_NICE)".to_owned()
        };
        UserError::new(format!("migrate_pages for process {pid}: {e}"), hint).into()
    })
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
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
    let format = format(ctx)?;
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
    if !alive(args.pid, record.start_time) {
        // A record of a process that has gone (or whose PID is another
        // process's now): nothing to restore; the record goes.
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        let message = format!(
            "process {} has exited since apply (or its PID now belongs to another process): nothing to restore; removed the stale record {}",
            args.pid,
            path.display()
        );
        return if format == OutputFormat::Json {
            print_json(
                &json!({"pid": args.pid, "stale_record_removed": path, "restored": 0, "born_since": 0, "exited": record.threads.len()}),
            )
        } else {
            let mut out = Stdout::new();
            writeln!(out, "{message}")?;
            out.flush()?;
            Ok(Outcome::Pass)
        };
    }
    let proc_dir = PathBuf::from(format!("/proc/{}", args.pid));
    let Restored {
        restored,
        exited: gone,
        born_since,
    } = pin::restore(&record, &proc_dir).map_err(|e| match e {
        PinError::BadRecord { .. } => {
            UserError::new(format!("{}: {e}", path.display()), "remove it").into()
        }
        e => pin_error(e),
    })?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    if format == OutputFormat::Json {
        return print_json(
            &json!({"pid": args.pid, "restored": restored, "born_since": born_since, "exited": gone}),
        );
    }
    let mut out = Stdout::new();
    writeln!(
        out,
        "process {}: restored {restored} thread(s) apply pinned and {born_since} created since with a pinned affinity; {gone} had exited",
        args.pid
    )?;
    if record.masks.is_empty() && !record.threads.is_empty() {
        writeln!(
            out,
            "note: this record predates govkit's tracking of threads created after apply; such threads keep the pinned CPUs (check with `govkit numa inspect {}`)",
            args.pid
        )?;
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

fn exec(ctx: &Context, topo: &Topology, args: &ExecArgs) -> anyhow::Result<Outcome> {
    use std::os::unix::process::CommandExt;
    let existing: Vec<String> = topo.nodes.iter().map(|n| n.id.to_string()).collect();
    let node = topo.node(args.node).ok_or_else(|| {
        UserError::new(
            format!("node {} does not exist", args.node),
            format!("nodes on this host: {}", existing.join(", ")),
        )
    })?;
    if node.cpus.is_empty() {
        let nearest = topo
            .nodes
            .iter()
            .filter(|n| !n.cpus.is_empty())
            .min_by_key(|n| topo.distance(n.id, args.node).unwrap_or(u32::MAX))
            .map_or_else(String::new, |n| format!(" (node {} is the nearest)", n.id));
        let hint = if args.membind {
            format!(
                "exec runs on and allocates from the same node; for CPUs on one node and memory on node {} use `numactl --cpunodebind=N --membind={}`{nearest}",
                args.node, args.node
            )
        } else {
            format!("run on a node with CPUs{nearest}")
        };
        return Err(UserError::new(
            format!("node {} has no CPUs (a memory-only node)", args.node),
            hint,
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
    if args.membind
        && let Err(e) = sys::bind_memory(&CpuSet::from_ids([args.node]))
    {
        let hint = if e.kind() == std::io::ErrorKind::InvalidInput {
            format!(
                "the kernel refused node {} for memory: it has no memory this kernel knows of (a --sysfs-root topology is not this host's), or the cpuset's mems exclude it",
                args.node
            )
        } else {
            "set_mempolicy failed; see the kernel's answer above".to_owned()
        };
        return Err(UserError::new(
            format!("cannot bind memory to node {}: {e}", args.node),
            hint,
        )
        .into());
    }
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no command"))?;
    // exec only returns on failure.
    let err = std::process::Command::new(program).args(rest).exec();
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    crate::report_error(
        &UserError::new(
            format!("cannot run `{program}`: {err}"),
            "check the command name and PATH",
        )
        .into(),
        &ctx.global,
    );
    Ok(Outcome::CommandNotRun(code))
}
