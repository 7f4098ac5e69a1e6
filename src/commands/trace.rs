//! `govkit trace`: eBPF tracers for live hosts.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use tracebpf::TraceError;
use tracebpf::connections::{Hooks, Options, Tracer};
use tracebpf::metrics::{ConnSeries, Exporter, Exposition, SchedSeries};
use tracebpf::render::Style;
use tracebpf::sched::{Options as SchedOptions, SchedTracer};
use tracebpf::web::WebConfig;

use crate::Context;
use crate::cli::OutputFormat;
use crate::error::{Outcome, UserError};
use crate::output::Stdout;

/// Longest a tracer sleeps between checks of Ctrl-C, SIGTERM and
/// `--duration` (it is woken at once for stack captures).
const STOP_LATENCY: Duration = Duration::from_millis(200);

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
    /// Scheduler latency per process: run-queue waits (histogram, p50/p99),
    /// off-CPU time, context switches, CPU and NUMA-node migrations; until
    /// Ctrl-C or --duration.
    Sched(SchedArgs),
    /// Run the connections and sched tracers together as a long-running
    /// Prometheus exporter (what the Kubernetes `DaemonSet` in deploy/ runs). Ends on
    /// SIGTERM or Ctrl-C, detaching the programs.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to serve /metrics on, e.g. 0.0.0.0:9464.
    #[arg(long, value_name = "ADDR")]
    metrics: String,
    /// TLS, client certificates and basic authentication for the metrics
    /// endpoint: a Prometheus exporter-toolkit web configuration file
    /// (default: `web-config` in govkit.toml's `[trace]`).
    #[arg(long, value_name = "FILE")]
    web_config: Option<std::path::PathBuf>,
    /// Only these processes (repeatable; default: every process).
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// A socket counts as leaked once it has been in CLOSE-WAIT this long.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = parse_duration)]
    min_age: Duration,
    /// How often the metrics are refreshed from the kernel.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration)]
    interval: Duration,
    /// Workloads (pods' containers, systemd units; processes with
    /// --per-pid) with their own series per metric; the rest are summed
    /// into unit="other".
    #[arg(long, value_name = "N", default_value_t = tracebpf::metrics::DEFAULT_TOP)]
    top: usize,
    /// One series per process (labels pid, comm) instead of per workload:
    /// on a host with short-lived processes these come and go with them.
    #[arg(long)]
    per_pid: bool,
    /// New call sites unwound in user space per CPU per second.
    #[arg(long, value_name = "N", default_value_t = 200)]
    captures_per_sec: u64,
    /// Export each eBPF program's run time (turns on the kernel's BPF
    /// statistics: two clock reads per run of every BPF program on the host).
    #[arg(long)]
    bpf_stats: bool,
}

#[derive(Debug, Args)]
struct SchedArgs {
    /// Only these processes (repeatable; filtered in the kernel; default:
    /// every process).
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// Only processes with this command name (repeatable; exact match).
    #[arg(long = "comm", value_name = "NAME")]
    comms: Vec<String>,
    /// Only processes in this cgroup v2 path or below it (e.g.
    /// /system.slice/nginx.service).
    #[arg(long, value_name = "PATH")]
    cgroup: Option<String>,
    /// One entry per thread instead of per process.
    #[arg(long)]
    per_thread: bool,
    /// Stop after this long (default: run until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// How often the live view (on a terminal) is refreshed, showing the
    /// last interval.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration)]
    interval: Duration,
    /// Processes shown in the human report (most run-queue wait first);
    /// JSON has all.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Report each eBPF program's runs and run time (turns on the kernel's
    /// BPF statistics while tracing).
    #[arg(long)]
    bpf_stats: bool,
    /// Also serve Prometheus metrics on this address while tracing.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Workloads with their own series in --metrics (the rest: unit="other").
    #[arg(long, value_name = "N", default_value_t = tracebpf::metrics::DEFAULT_TOP)]
    metrics_top: usize,
    /// --metrics series per process (pid, comm) instead of per workload.
    #[arg(long)]
    metrics_per_pid: bool,
    /// TLS, client certificates and basic authentication for the metrics
    /// endpoint: a Prometheus exporter-toolkit web configuration file
    /// (default: `web-config` in govkit.toml's `[trace]`).
    #[arg(long, value_name = "FILE")]
    web_config: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
struct ConnectionsArgs {
    /// Only these processes (repeatable; default: every process).
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// A socket counts as leaked once it has been in CLOSE-WAIT this long.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = parse_duration)]
    min_age: Duration,
    /// Also report ESTABLISHED sockets that have carried no data in either
    /// direction for this long (costs a map lookup and an endpoint read per
    /// connection while tracing).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    idle: Option<Duration>,
    /// Kernel hooks for accepted sockets: `auto` uses fexit on
    /// `inet_csk_accept` where the kernel allows BPF trampolines, else the
    /// cgroup getpeername hooks (`cgroup`: they see `accept()` calls that ask
    /// for the peer address, as Rust, Go, Java, nginx do; sockets accepted
    /// without one are reported with owner but no stack), else the syscall
    /// tracepoints (`tracepoints`: every accept, but while they are attached
    /// every system call on the host takes the kernel's slow path).
    #[arg(long, value_enum, default_value_t = HooksArg::Auto)]
    hooks: HooksArg,
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
    /// Also serve Prometheus metrics on this address while tracing.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Workloads with their own series in --metrics (the rest: unit="other").
    #[arg(long, value_name = "N", default_value_t = tracebpf::metrics::DEFAULT_TOP)]
    metrics_top: usize,
    /// --metrics series per process (pid, comm) instead of per workload.
    #[arg(long)]
    metrics_per_pid: bool,
    /// TLS, client certificates and basic authentication for the metrics
    /// endpoint: a Prometheus exporter-toolkit web configuration file
    /// (default: `web-config` in govkit.toml's `[trace]`).
    #[arg(long, value_name = "FILE")]
    web_config: Option<std::path::PathBuf>,
    /// Show every frame of the opening stacks; by default runs of frames
    /// of the standard library, language runtimes, libc and downloaded
    /// crates are folded into one line each.
    #[arg(long)]
    full_stacks: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HooksArg {
    Auto,
    Cgroup,
    Tracepoints,
}

impl From<HooksArg> for Hooks {
    fn from(h: HooksArg) -> Self {
        match h {
            HooksArg::Auto => Hooks::Auto,
            HooksArg::Cgroup => Hooks::Cgroup,
            HooksArg::Tracepoints => Hooks::Tracepoints,
        }
    }
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
        TraceCommand::Sched(a) => sched(ctx, a),
        TraceCommand::Serve(a) => serve(ctx, a),
    }
}

/// The output format of `govkit trace sched`: its report has no source
/// location, so the CI formats have no meaning for it.
fn sched_format(ctx: &Context) -> anyhow::Result<OutputFormat> {
    match ctx.global.format.unwrap_or(OutputFormat::Human) {
        f @ (OutputFormat::Human | OutputFormat::Json) => Ok(f),
        other => Err(UserError::new(
            format!(
                "govkit trace sched has no {} output: its report points at no source line",
                format!("{other:?}").to_lowercase()
            ),
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
        TraceError::NotBuilt => {
            "see \"Installing the tracer\" in docs/src/trace-connections.md of the govkit repository"
        }
        TraceError::NoProcess(_) => "check the PID with `ps -p PID`",
        TraceError::Input(_) => "check the value given (`govkit trace --help` lists the options)",
        TraceError::Environment(_) => {
            "govkit trace needs root (or CAP_BPF + CAP_PERFMON), BTF and tracefs"
        }
    };
    UserError::new(e.to_string(), hint).into()
}

/// Starts the /metrics endpoint when an address was given, for `tracer`
/// running on `hooks`; the loop publishes at least every `every`
/// (`/healthz` goes by it).
fn start_exporter(
    ctx: &Context,
    (addr, web_config): (Option<&str>, Option<&Path>),
    every: Duration,
    (tracer, hooks): (&str, &[String]),
    state: impl FnOnce() -> Exposition,
) -> anyhow::Result<Option<Exporter>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let web = web_config_of(ctx, web_config)?;
    let e = Exporter::start(addr, web, state(), tracebpf::metrics::stale_after(every))
        .map_err(trace_error)?;
    e.add_hooks(tracer, hooks);
    crate::output::status(
        ctx.global.quiet,
        &format!(
            "serving Prometheus metrics on {}://{}/metrics",
            e.scheme, e.addr
        ),
    );
    Ok(Some(e))
}

/// The exporter's web configuration: `--web-config`, else `web-config` in
/// govkit.toml's `[trace]` (relative to that file), else plain HTTP.
fn web_config_of(ctx: &Context, flag: Option<&Path>) -> anyhow::Result<WebConfig> {
    let path = if let Some(p) = flag {
        Some(ctx.cwd.join(p))
    } else {
        let config = ctx.config()?;
        config
            .gates
            .trace
            .and_then(|t| t.web_config)
            .map(|p| config.root.join(p))
    };
    match path {
        Some(p) => WebConfig::load(&p).map_err(|e| {
            UserError::new(
                e.to_string(),
                "see \"Securing the endpoint\" in docs/src/trace-serve.md: the file is the Prometheus exporter-toolkit's web configuration",
            )
            .into()
        }),
        None => Ok(WebConfig::default()),
    }
}

/// Sleeps until a stack capture arrives, `deadline` passes or
/// `STOP_LATENCY` is up, whichever comes first.
fn wait_until(tracer: &Tracer, deadline: Instant) {
    tracer.wait(
        deadline
            .saturating_duration_since(Instant::now())
            .min(STOP_LATENCY),
    );
}

fn serve(ctx: &Context, args: &ServeArgs) -> anyhow::Result<Outcome> {
    let stop = super::stop_flag()?;
    // Bind first: a taken port or a wrong web configuration is the most
    // likely mistake and costs nothing.
    let exporter = Exporter::start(
        &args.metrics,
        web_config_of(ctx, args.web_config.as_deref())?,
        Exposition {
            sched: Some(SchedSeries::new(args.top, args.per_pid)),
            conns: Some(ConnSeries::new(args.top, args.per_pid)),
            ..Exposition::default()
        },
        tracebpf::metrics::stale_after(args.interval),
    )
    .map_err(trace_error)?;
    let mut conns = Tracer::start(Options {
        pids: args.pids.clone(),
        min_age: args.min_age,
        captures_per_sec: args.captures_per_sec,
        bpf_stats: args.bpf_stats,
        idle: None,
        hooks: Hooks::Auto,
    })
    .map_err(trace_error)?;
    let mut sched = SchedTracer::start(SchedOptions {
        pids: args.pids.clone(),
        // BPF stats are turned on once, by the connections tracer.
        bpf_stats: false,
        ..SchedOptions::default()
    })
    .map_err(trace_error)?;
    exporter.add_hooks("connections", &conns.hooks);
    exporter.add_hooks("sched", &sched.hooks);
    announce(
        ctx,
        &conns.host,
        &format!(
            "serving Prometheus metrics on {}://{}/metrics ({}; kernel {}; connections: {}; sched: {}, {}); SIGTERM or Ctrl-C to stop",
            exporter.scheme,
            exporter.addr,
            exporter.web,
            conns.host.kernel,
            conns.hooks.join(", "),
            sched.build,
            sched.hooks.join(", ")
        ),
    );
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if conns.poll() == 0 {
            wait_until(&conns, next);
        }
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + args.interval;
        conns.maintain();
        let report = conns.report();
        let snap = sched.snapshot();
        let mut programs = report.programs.clone();
        if args.bpf_stats {
            programs.extend(sched.program_costs());
        }
        exporter.publish(Some(&report), Some(&snap), programs);
        // Their last figures are in; keep the kernel table small.
        sched.forget_exited(&snap);
    }
    exporter.stop();
    crate::output::status(
        ctx.global.quiet,
        "govkit trace serve: stopped, eBPF programs detached",
    );
    Ok(Outcome::Pass)
}

/// Says on stderr what preflight mounted and what is being traced (the
/// tests and scripts wait for that line: the programs are attached).
fn announce(ctx: &Context, host: &tracebpf::env::Host, what: &str) {
    for m in &host.mounted {
        crate::output::status(ctx.global.quiet, &format!("govkit: mounted {m}"));
    }
    crate::output::status(ctx.global.quiet, what);
}

/// " for pid [..]" or nothing.
fn of_pids(pids: &[u32]) -> String {
    if pids.is_empty() {
        String::new()
    } else {
        format!(" for pid {pids:?}")
    }
}

fn sched(ctx: &Context, args: &SchedArgs) -> anyhow::Result<Outcome> {
    let format = sched_format(ctx)?;
    let stop = super::stop_flag()?;
    let tracer = SchedTracer::start(SchedOptions {
        pids: args.pids.clone(),
        per_thread: args.per_thread,
        comms: args.comms.clone(),
        cgroup: args.cgroup.clone(),
        bpf_stats: args.bpf_stats,
    })
    .map_err(trace_error)?;
    announce(
        ctx,
        &tracer.host,
        &format!(
            "tracing the scheduler{} (kernel {}, {} NUMA node(s), {}); Ctrl-C for the report",
            of_pids(&args.pids),
            tracer.host.kernel,
            tracer.nodes,
            tracer.build
        ),
    );
    let live = std::io::stderr().is_terminal() && format == OutputFormat::Human;
    let exporter = start_exporter(
        ctx,
        (args.metrics.as_deref(), args.web_config.as_deref()),
        tracebpf::metrics::REFRESH,
        ("sched", &tracer.hooks),
        || Exposition {
            sched: Some(SchedSeries::new(args.metrics_top, args.metrics_per_pid)),
            ..Exposition::default()
        },
    )?;
    let mut last = tracer.snapshot();
    let mut next_view = Instant::now() + args.interval;
    let mut next_refresh = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if args.duration.is_some_and(|d| tracer.started.elapsed() >= d) {
            break;
        }
        if !args.pids.is_empty() && args.pids.iter().all(|&p| !tracebpf::procfs::alive(p)) {
            tracing::warn!("every traced process has exited");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if let Some(e) = &exporter
            && Instant::now() >= next_refresh
        {
            next_refresh = Instant::now() + tracebpf::metrics::REFRESH;
            let snap = tracer.snapshot();
            let programs = if args.bpf_stats {
                tracer.program_costs()
            } else {
                Vec::new()
            };
            e.publish(None, Some(&snap), programs);
        }
        if live && Instant::now() >= next_view {
            next_view = Instant::now() + args.interval;
            let now = tracer.snapshot();
            let report = tracer.report(&now, Some(&last));
            last = now;
            let mut err = std::io::stderr().lock();
            if write!(err, "\x1b[2J\x1b[H").is_ok() {
                tracebpf::render::sched(&mut err, &report, 5).unwrap_or_default();
            }
        }
    }
    if let Some(e) = exporter {
        e.stop();
    }
    let report = tracer.report(&tracer.snapshot(), None);
    let mut out = Stdout::new();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        _ => tracebpf::render::sched(&mut out, &report, args.top)?,
    }
    Ok(Outcome::Pass)
}

fn connections(ctx: &Context, args: &ConnectionsArgs) -> anyhow::Result<Outcome> {
    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    let stop = super::stop_flag()?;
    let mut tracer = Tracer::start(Options {
        pids: args.pids.clone(),
        min_age: args.min_age,
        captures_per_sec: args.captures_per_sec,
        bpf_stats: args.bpf_stats,
        idle: args.idle,
        hooks: args.hooks.into(),
    })
    .map_err(trace_error)?;
    announce(
        ctx,
        &tracer.host,
        &format!(
            "tracing TCP connections{} (kernel {}; {}{}); Ctrl-C for the report",
            of_pids(&args.pids),
            tracer.host.kernel,
            tracer.hooks.join(", "),
            if tracer.helper_builds() {
                "; cgroup programs with helper calls: this kernel gives them no task BTF pointer"
            } else {
                ""
            }
        ),
    );
    let live = std::io::stderr().is_terminal() && format == OutputFormat::Human;
    let exporter = start_exporter(
        ctx,
        (args.metrics.as_deref(), args.web_config.as_deref()),
        args.interval,
        ("connections", &tracer.hooks),
        || Exposition {
            conns: Some(ConnSeries::new(args.metrics_top, args.metrics_per_pid)),
            ..Exposition::default()
        },
    )?;
    let live_style = Style::live(
        args.full_stacks,
        crate::output::stderr_color(ctx.global.color),
    );
    let mut shown_live = false;
    let mut next_view = Instant::now() + args.interval;
    while !stop.load(Ordering::Relaxed) {
        if args.duration.is_some_and(|d| tracer.elapsed() >= d) {
            break;
        }
        if args.pids.iter().all(|&p| !tracebpf::procfs::alive(p)) && !args.pids.is_empty() {
            tracing::warn!("every traced process has exited");
            break;
        }
        if tracer.poll() == 0 {
            wait_until(&tracer, next_view);
        }
        if Instant::now() >= next_view {
            next_view = Instant::now() + args.interval;
            tracer.maintain();
            if !live && exporter.is_none() {
                continue;
            }
            let report = tracer.report();
            if let Some(e) = &exporter {
                e.publish(Some(&report), None, report.programs.clone());
            }
            if !live {
                continue;
            }
            let mut err = std::io::stderr().lock();
            // Clear the screen, then the current view; a closed stderr
            // must not stop the trace.
            if write!(err, "\x1b[2J\x1b[H").is_ok() {
                tracebpf::render::connections(
                    &mut err,
                    &report,
                    args.min_age,
                    args.idle,
                    &live_style,
                )
                .unwrap_or_default();
                shown_live = true;
            }
        }
    }
    if let Some(e) = exporter {
        e.stop();
    }
    let report = tracer.report();
    print_connections(ctx, args, &report, shown_live)?;
    Ok(if report.leaks.is_empty() {
        Outcome::Pass
    } else {
        Outcome::GateFailed
    })
}

/// The final connections report on stdout, in the format asked for.
fn print_connections(
    ctx: &Context,
    args: &ConnectionsArgs,
    report: &tracebpf::connections::Report,
    shown_live: bool,
) -> anyhow::Result<()> {
    if shown_live {
        // The report replaces the last live screen instead of repeating
        // it below.
        let mut err = std::io::stderr().lock();
        write!(err, "\x1b[2J\x1b[H").unwrap_or_default();
    }
    let mut out = Stdout::new();
    match ctx.global.format.unwrap_or(OutputFormat::Human) {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, report)?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            let color = crate::output::stdout_color(ctx.global.color);
            let style = Style::report(args.full_stacks, color);
            tracebpf::render::connections(&mut out, report, args.min_age, args.idle, &style)?;
        }
        ci => {
            let options = super::render_options(ctx, false);
            let findings = leak_findings(report, &ctx.cwd);
            diagnostics::render::render(ci.into(), &[&findings], &options, &mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The leak groups as findings for the CI formats (SARIF, GitHub
/// annotations, `JUnit`): each at its culprit's source line when that file
/// is below `cwd` (the checkout a CI job runs in); otherwise, or without a
/// culprit with a source line, a finding with no location whose message
/// names what is known.
fn leak_findings(
    report: &tracebpf::connections::Report,
    cwd: &std::path::Path,
) -> diagnostics::Report {
    use diagnostics::{Diagnostic, Location, RuleInfo, Severity};
    const CODE: &str = "leaked-connection";
    let mut out = diagnostics::Report::new("trace");
    out.add_rule(RuleInfo {
        code: CODE.to_owned(),
        summary: "a TCP connection the peer closed and its owner never did (CLOSE_WAIT), or one left idle"
            .to_owned(),
        default_severity: Severity::Error,
        help: None,
    });
    for leak in &report.leaks {
        let culprit = leak.culprit.as_ref().map(|c| &c.at);
        let opened_in = match (culprit, leak.stack_note) {
            (Some(f), _) => format!("; opened in {f}"),
            (None, Some(note)) => format!("; {note}"),
            (None, None) => String::new(),
        };
        let message = format!(
            "{} socket(s) {} by pid {} ({}) left in {} (the oldest for {:.0}s){opened_in}",
            leak.count,
            leak.how_opened(),
            leak.pid,
            leak.comm,
            leak.state,
            leak.oldest_in_state_s,
        );
        let mut d = Diagnostic::new(CODE, Severity::Error, message)
            .with_help(if leak.state == "ESTABLISHED" {
                "the connection carries no data: close it when done, or give it a timeout"
            } else {
                "the peer hung up and this process never closed its end: close (drop) the socket on every path, including errors"
            })
            .with_field("pid", leak.pid)
            .with_field("count", leak.count)
            .with_field("opened_by", leak.opened_by)
            .with_field("state", leak.state)
            .with_field(
                "stack",
                leak.stack.iter().map(ToString::to_string).collect::<Vec<_>>(),
            );
        if let Some((file, line)) = culprit.and_then(|f| Some((f.file.as_deref()?, f.line?)))
            && let Ok(relative) = std::path::Path::new(file).strip_prefix(cwd)
        {
            d = d.with_location(Location::line_column(
                relative.to_string_lossy(),
                line as usize,
                1,
            ));
        }
        out.push(d);
    }
    out
}
