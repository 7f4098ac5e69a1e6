//! Human-readable reports of both tracers (the CLI's `--format human` and
//! its live view); JSON is the reports' `Serialize` form.

use std::io::Write;
use std::time::Duration;

use crate::connections::{Leak, Report};
use crate::sched::{Latency, SchedReport};

/// The connections report for people: one header line, each leak group
/// with up to three of its sockets and `max_frames` frames of its opening
/// stack, and notes on partial stacks. `min_age` and `idle` are the
/// thresholds the report was made with.
pub fn connections(
    out: &mut impl Write,
    r: &Report,
    min_age: Duration,
    idle: Option<Duration>,
    max_frames: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} leak group(s), {} leaked socket(s) in CLOSE_WAIT for at least {:?}{}; traced {:.1}s, {} sockets tracked, lost events: {}",
        r.leaks.len(),
        r.leaks.iter().map(|l| l.count).sum::<usize>(),
        min_age,
        idle.map(|d| format!(" or ESTABLISHED and idle for at least {d:?}"))
            .unwrap_or_default(),
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
    if r.counters.captures_pending > 0 {
        writeln!(
            out,
            "note: {} socket(s) opened while their call site was being learned got a partial stack",
            r.counters.captures_pending
        )?;
    }
    Ok(())
}

fn leak(out: &mut impl Write, l: &Leak, max_frames: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{} socket(s) {} by pid {} ({}{}), {}: oldest {:.0}s old, {:.0}s {}",
        l.count,
        match l.opened_by {
            "before-tracing" => "opened before tracing",
            "connect" => "connected",
            "unseen" => "opened unseen (no stack)",
            _ => "accepted",
        },
        l.pid,
        l.comm,
        if l.cgroup.is_empty() || l.cgroup == "/" {
            String::new()
        } else {
            format!(", cgroup {}", l.cgroup)
        },
        l.state,
        l.oldest_age_s,
        l.oldest_in_state_s,
        if l.state == "ESTABLISHED" {
            "idle".to_owned()
        } else {
            format!("in {}", l.state)
        }
    )?;
    for s in l.sockets.iter().take(3) {
        let fd = s.fd.map(|fd| format!(" (fd {fd})")).unwrap_or_default();
        writeln!(out, "    {} -> {}{fd}", s.local, s.remote)?;
    }
    if l.sockets.len() > 3 {
        writeln!(out, "    … {} more", l.sockets.len() - 3)?;
    }
    for f in l.stack.iter().take(max_frames) {
        writeln!(out, "      {f}")?;
    }
    Ok(())
}

/// The scheduler report for people: the `top` processes with their
/// counters and latency histograms, then per-program costs.
pub fn sched(out: &mut impl Write, r: &SchedReport, top: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "{} process(es) over {:.1}s, {} scheduler events, lost events: {}",
        r.processes.len(),
        r.duration_s,
        r.counters.events,
        r.lost_events
    )?;
    for p in r.processes.iter().take(top) {
        writeln!(
            out,
            "\npid {}{} ({}){}: {} context switches ({} involuntary), {} migrations ({} across NUMA nodes), {}.{:03}s on CPU",
            p.pid,
            p.tid.map(|t| format!(" tid {t}")).unwrap_or_default(),
            p.comm,
            if p.alive { "" } else { " [exited]" },
            p.context_switches,
            p.involuntary_switches,
            p.migrations,
            p.numa_migrations,
            p.oncpu_us / 1_000_000,
            p.oncpu_us / 1000 % 1000
        )?;
        latency(out, "run-queue latency", &p.runq_latency_us)?;
        latency(out, "off-CPU (blocked)", &p.offcpu_us)?;
    }
    if r.processes.len() > top {
        writeln!(
            out,
            "\n… {} more (--top N, or --format json for all)",
            r.processes.len() - top
        )?;
    }
    for c in &r.programs {
        writeln!(
            out,
            "bpf program {}: {} runs, {:.0} ns/run",
            c.program, c.runs, c.ns_per_run
        )?;
    }
    Ok(())
}

/// A histogram drawn like runqlat's.
fn latency(out: &mut impl Write, what: &str, l: &Latency) -> std::io::Result<()> {
    if l.count == 0 {
        return writeln!(out, "  {what}: none");
    }
    writeln!(
        out,
        "  {what}: {} samples, p50 {:.0} µs, p99 {:.0} µs, mean {:.1} µs",
        l.count, l.p50, l.p99, l.mean
    )?;
    writeln!(out, "{:>15}{:<13} : count    distribution", "usecs", "")?;
    let max = l
        .histogram
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(1)
        .max(1);
    // From the first non-empty bucket (JSON has them all from 0).
    for b in l.histogram.iter().skip_while(|b| b.count == 0) {
        let stars = usize::try_from(b.count * 40 / max).unwrap_or(40);
        writeln!(
            out,
            "{:>12} -> {:<12} : {:<8} |{:<40}|",
            b.low_us,
            b.high_us,
            b.count,
            "*".repeat(stars)
        )?;
    }
    Ok(())
}
