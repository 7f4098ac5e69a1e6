//! `govkit trace`: eBPF tracers for live hosts.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use tracebpf::TraceError;
use tracebpf::connections::{Leak, Options, Report, Tracer};

use crate::Context;
use crate::cli::OutputFormat;
use crate::error::{Outcome, UserError};
use crate::output::Stdout;

/// eBPF tracers for live hosts (root, or the bpf and perfmon capabilities).
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    command: TraceCommand,
}

#[derive(Debug, Subcommand)]
enum TraceCommand {
    /// Find leaked TCP connections (CLOSE-WAIT: the peer closed, the owner
    /// never did) and the user stack that opened each, until Ctrl-C or
    /// --duration. Exit 1 when leaks are found.
    Connections(ConnectionsArgs),
}

#[derive(Debug, Args)]
struct ConnectionsArgs {
    /// Only these processes (repeatable; default: every process).
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// A socket counts as leaked once it has been in CLOSE-WAIT this long.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = parse_duration)]
    min_age: Duration,
    /// Stop after this long (default: run until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// How often the live view (on a terminal) is refreshed and state of
    /// exited processes is dropped.
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = parse_duration)]
    interval: Duration,
    /// New call sites unwound in user space per CPU per second; sockets
    /// opened from a not-yet-learned site beyond that get a partial stack.
    #[arg(long, value_name = "N", default_value_t = 200)]
    captures_per_sec: u64,
    /// Report each eBPF program's runs and run time (turns on the kernel's
    /// BPF statistics, which cost every BPF program on the host two clock
    /// reads per run while tracing).
    #[arg(long)]
    bpf_stats: bool,
}

/// "30s", "500ms", "2m", "1h", or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|e| format!("`{s}` is not a duration (e.g. 30s, 500ms, 2m): {e}"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

pub fn run(ctx: &Context, args: &TraceArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        TraceCommand::Connections(a) => connections(ctx, a),
    }
}

fn format(ctx: &Context) -> anyhow::Result<OutputFormat> {
    match ctx.global.format.unwrap_or(OutputFormat::Human) {
        f @ (OutputFormat::Human | OutputFormat::Json) => Ok(f),
        other => Err(UserError::new(
            format!("govkit trace has no {other:?} output"),
            "use --format human or --format json",
        )
        .into()),
    }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "used as map_err(trace_error)"
)]
fn trace_error(e: TraceError) -> anyhow::Error {
    let hint = match &e {
        TraceError::NotBuilt => "see README.md, section `govkit trace`",
        TraceError::Input(_) => "check the PID with `ps -p PID`",
        TraceError::Environment(_) => {
            "govkit trace needs root (or CAP_BPF + CAP_PERFMON), BTF and tracefs"
        }
    };
    UserError::new(e.to_string(), hint).into()
}

fn connections(ctx: &Context, args: &ConnectionsArgs) -> anyhow::Result<Outcome> {
    let format = format(ctx)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let mut tracer = Tracer::start(Options {
        pids: args.pids.clone(),
        min_age: args.min_age,
        captures_per_sec: args.captures_per_sec,
        bpf_stats: args.bpf_stats,
    })
    .map_err(trace_error)?;
    for m in &tracer.host.mounted {
        crate::output::status(ctx.global.quiet, &format!("govkit: mounted {m}"));
    }
    crate::output::status(
        ctx.global.quiet,
        &format!(
            "tracing TCP connections{} (kernel {}); Ctrl-C for the report",
            if args.pids.is_empty() {
                String::new()
            } else {
                format!(" of pid {:?}", args.pids)
            },
            tracer.host.kernel
        ),
    );
    let live = std::io::stderr().is_terminal() && format == OutputFormat::Human;
    let mut next_view = Instant::now() + args.interval;
    while !stop.load(Ordering::Relaxed) {
        if args.duration.is_some_and(|d| tracer.elapsed() >= d) {
            break;
        }
        if args.pids.iter().all(|&p| !tracebpf::procfs::exists(p)) && !args.pids.is_empty() {
            tracing::warn!("every traced process has exited");
            break;
        }
        if tracer.poll() == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        if Instant::now() >= next_view {
            next_view = Instant::now() + args.interval;
            tracer.maintain();
            if !live {
                continue;
            }
            let report = tracer.report();
            let mut err = std::io::stderr().lock();
            // Clear the screen, then the current view; a closed stderr
            // must not stop the trace.
            if write!(err, "\x1b[2J\x1b[H").is_ok() {
                render_human(&mut err, &report, args, 5).unwrap_or_default();
            }
        }
    }
    let report = tracer.report();
    let mut out = Stdout::new();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        _ => render_human(&mut out, &report, args, usize::MAX)?,
    }
    Ok(if report.leaks.is_empty() {
        Outcome::Pass
    } else {
        Outcome::GateFailed
    })
}

fn render_human(
    out: &mut impl Write,
    r: &Report,
    args: &ConnectionsArgs,
    max_frames: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} leak group(s), {} leaked socket(s) in CLOSE_WAIT for at least {:?}; traced {:.1}s, {} sockets tracked, lost events: {}",
        r.leaks.len(),
        r.leaks.iter().map(|l| l.count).sum::<usize>(),
        args.min_age,
        r.duration_s,
        r.tracked_sockets,
        r.lost_events
    )?;
    for l in &r.leaks {
        leak(out, l, max_frames)?;
    }
    if r.counters.captures_throttled > 0 {
        writeln!(
            out,
            "note: {} socket(s) opened from call sites not learned yet got a partial stack (raise --captures-per-sec)",
            r.counters.captures_throttled
        )?;
    }
    Ok(())
}

fn leak(out: &mut impl Write, l: &Leak, max_frames: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{} socket(s) {} by pid {} ({}), {}: oldest {:.0}s old, {:.0}s in {}",
        l.count,
        if l.opened_by == "before-tracing" {
            "opened before tracing"
        } else if l.opened_by == "connect" {
            "connected"
        } else {
            "accepted"
        },
        l.pid,
        l.comm,
        l.state,
        l.oldest_age_s,
        l.oldest_in_state_s,
        l.state
    )?;
    for s in l.sockets.iter().take(3) {
        writeln!(out, "    {} -> {}", s.local, s.remote)?;
    }
    if l.sockets.len() > 3 {
        writeln!(out, "    … {} more", l.sockets.len() - 3)?;
    }
    for f in l.stack.iter().take(max_frames) {
        writeln!(out, "      {f}")?;
    }
    Ok(())
}
