//! What `govkit trace connections`' kernel hooks cost a load, measured by
//! switching them off and on inside one run (a lock-in measurement).
//!
//! Starting and stopping a whole tracer between rounds of a few seconds,
//! as `scripts/trace-bench/overhead.sh` does, pairs rounds seconds apart;
//! on a shared VM whose throughput moves ±15 % from one such round to the
//! next, a few percent cannot be resolved in a run of reasonable length.
//! Here one tracer is started (the same programs, maps and user space as
//! the CLI's, every process traced) while `connloop` runs the
//! CPU-saturated loopback connect/close load; its hooks are detached and
//! attached again every PHASE, in ABBA order (on off off on, then off on
//! on off), so that drift within a cycle cancels. Each phase starts with a
//! settle time that is not measured; in the rest of it the load's own
//! connection count (a shared mapping, `connloop SECS COUNTER`) and the
//! CPUs' busy time (/proc/stat, without idle and the host's steal) give the
//! rate and the CPU time per connection. A cycle's figure is its two "on"
//! phases over its two "off" phases.
//!
//! `TOGGLE_HOOKS` says which hooks are switched: those whose names start
//! with it (default `raw_tracepoint/`, the state-change program that runs
//! about ten times per connection, attached under
//! `GOVKIT_TRACE_STATE_HOOK=1`, which `hook-toggle.sh` sets; empty: all).
//! Switching the cgroup hooks
//! this often stalls this load on a 6.18 host for seconds at a time, in
//! "off" phases too, so those are measured by `overhead.sh`'s whole-run
//! alternation instead. With `TOGGLE_NOOP=1` nothing is switched (A/A:
//! what the method reads when there is no difference). `TOGGLE_SETTLE_MS`
//! sets the settle time (default 100), `TOGGLE_DUMP` a file for every
//! phase's figures.
//!
//! Usage (root): `hook_toggle CONNLOOP [CYCLES] [PHASE_MS]`
//! (`scripts/trace-bench/hook-toggle.sh` builds and runs it).
#![allow(clippy::print_stdout, reason = "the report is this program's output")]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "statistics over counts and nanoseconds far below 2^52"
)]
use std::fmt::Write as _;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tracebpf::connections::{Options, Tracer};

fn main() {
    if let Err(e) = run() {
        eprintln!("hook_toggle: {e}");
        std::process::exit(2);
    }
}

/// One measured phase.
struct Phase {
    on: bool,
    /// Connections per second.
    rate: f64,
    /// CPU microseconds per connection (all CPUs).
    cpu_us: f64,
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let connloop = args
        .next()
        .ok_or("usage: hook_toggle CONNLOOP [CYCLES] [PHASE_MS]")?;
    let cycles: u32 = parse(args.next(), 60, "CYCLES")?;
    let phase = Duration::from_millis(parse(args.next(), 500, "PHASE_MS")?);
    let noop = std::env::var_os("TOGGLE_NOOP").is_some_and(|v| v == "1");
    let which = std::env::var("TOGGLE_HOOKS").unwrap_or_else(|_| "raw_tracepoint/".to_owned());
    let settle = Duration::from_millis(parse(
        std::env::var("TOGGLE_SETTLE_MS").ok(),
        100,
        "TOGGLE_SETTLE_MS",
    )?);

    let mut tracer = Tracer::start(Options {
        min_age: Duration::from_hours(1),
        ..Options::default()
    })
    .map_err(|e| e.to_string())?;
    eprintln!(
        "hooks: {}; switched: {}",
        tracer.hooks.join(", "),
        if noop { "none (A/A)" } else { &which }
    );

    let counter = format!("/dev/shm/hook-toggle-{}", std::process::id());
    let total = (phase + settle) * 4 * cycles + Duration::from_secs(4);
    let mut load = Load(
        Command::new(&connloop)
            .arg(format!("{}", total.as_secs_f64()))
            .arg(&counter)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{connloop}: {e}"))?,
        counter.clone(),
    );
    let switch = (!noop).then_some(which.as_str());
    let result = measure(&mut tracer, &counter, cycles, (settle, phase), switch);
    load.stop();
    let phases = result?;
    if let Ok(path) = std::env::var("TOGGLE_DUMP") {
        let mut lines = String::new();
        for p in &phases {
            writeln!(lines, "{} {:.0} {:.1}", u8::from(p.on), p.rate, p.cpu_us)
                .map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, lines).map_err(|e| format!("{path}: {e}"))?;
    }
    report(&phases, noop);
    let c = tracer.counters();
    eprintln!(
        "kernel counters: opens {}, slot_fallbacks {}, site_hits {}, captures {}, ringbuf_drops {}",
        c.opens, c.slot_fallbacks, c.site_hits, c.captures, c.ringbuf_drops
    );
    Ok(())
}

fn parse<T>(arg: Option<String>, default: T, what: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match arg {
        None => Ok(default),
        Some(s) => s.parse().map_err(|e| format!("{what}: {s}: {e}")),
    }
}

/// The load process; killed and its counter file removed when dropped.
struct Load(Child, String);

impl Load {
    fn stop(&mut self) {
        // Already gone when it ran its course: nothing to do then.
        self.0.kill().unwrap_or_default();
        self.0.wait().map(drop).unwrap_or_default();
        std::fs::remove_file(&self.1).unwrap_or_default();
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop();
    }
}

fn measure(
    tracer: &mut Tracer,
    counter: &str,
    cycles: u32,
    (settle, phase): (Duration, Duration),
    switch: Option<&str>,
) -> Result<Vec<Phase>, String> {
    // The load is running once its counter moves; then a second of warm-up
    // (its first call sites are captured and unwound).
    let started = Instant::now();
    while sample(counter).map_or(0, |s| s.0) == 0 {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("{counter}: the load did not start"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    serve(tracer, Duration::from_secs(1));
    let mut phases = Vec::new();
    for cycle in 0..cycles {
        let order = if cycle % 2 == 0 {
            [true, false, false, true]
        } else {
            [false, true, true, false]
        };
        for on in order {
            if let Some(which) = switch {
                tracer
                    .set_hooks_attached(which, on)
                    .map_err(|e| e.to_string())?;
            }
            serve(tracer, settle);
            let (n0, ns0, busy0) = sample(counter)?;
            serve(tracer, phase);
            let (n1, ns1, busy1) = sample(counter)?;
            let conns = n1.saturating_sub(n0).max(1) as f64;
            phases.push(Phase {
                on,
                rate: conns / (ns1.saturating_sub(ns0).max(1) as f64 / 1e9),
                cpu_us: busy1.saturating_sub(busy0) as f64 / clock_ticks() * 1e6 / conns,
            });
        }
    }
    tracer
        .set_hooks_attached("", true)
        .map_err(|e| e.to_string())?;
    Ok(phases)
}

/// What the CLI's loop does between reports: sleep until a capture
/// arrives, take it, keep the maps tidy.
fn serve(tracer: &mut Tracer, time: Duration) {
    let end = Instant::now() + time;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if tracer.poll() == 0 {
            tracer.wait((end - now).min(Duration::from_millis(200)));
        }
    }
    tracer.maintain();
}

/// (connections, load's nanoseconds, busy jiffies of all CPUs).
fn sample(counter: &str) -> Result<(u64, u64, u64), String> {
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let cpu = stat.lines().next()?.split_whitespace().collect::<Vec<_>>();
            // user nice system idle iowait irq softirq steal
            [1, 2, 3, 6, 7]
                .iter()
                .map(|&i| cpu.get(i)?.parse::<u64>().ok())
                .sum::<Option<u64>>()
        })
        .ok_or("/proc/stat: no cpu line")?;
    let bytes = std::fs::read(counter).map_err(|e| format!("{counter}: {e}"))?;
    let word = |i: usize| {
        bytes
            .get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_ne_bytes)
    };
    match (word(0), word(1)) {
        (Some(n), Some(ns)) => Ok((n, ns, busy)),
        _ => Err(format!("{counter}: shorter than 16 bytes")),
    }
}

fn clock_ticks() -> f64 {
    // USER_HZ, which /proc/stat counts in, is 100 on every Linux ABI.
    100.0
}

fn report(phases: &[Phase], noop: bool) {
    // Per ABBA cycle: mean of its "on" phases over mean of its "off" ones.
    let mut rate = Vec::new();
    let mut cpu = Vec::new();
    for c in phases.chunks(4) {
        let mean = |on: bool, f: &dyn Fn(&Phase) -> f64| {
            let xs: Vec<f64> = c.iter().filter(|p| p.on == on).map(f).collect();
            xs.iter().sum::<f64>() / xs.len().max(1) as f64
        };
        rate.push(mean(true, &|p| p.rate) / mean(false, &|p| p.rate));
        // Throughput-equivalent: off CPU per connection over on.
        cpu.push(mean(false, &|p| p.cpu_us) / mean(true, &|p| p.cpu_us));
    }
    let all = |on: bool, f: &dyn Fn(&Phase) -> f64| {
        median(
            &phases
                .iter()
                .filter(|p| p.on == on)
                .map(f)
                .collect::<Vec<_>>(),
        )
    };
    println!(
        "{} cycles of {} phases; {}",
        rate.len(),
        if noop {
            "identical (A/A)"
        } else {
            "hooks on/off"
        },
        if noop {
            "nothing switched"
        } else {
            "ratio = on / off"
        }
    );
    println!(
        "median phase: on {:.0} conn/s {:.1} CPU us/conn, off {:.0} conn/s {:.1} CPU us/conn",
        all(true, &|p| p.rate),
        all(true, &|p| p.cpu_us),
        all(false, &|p| p.rate),
        all(false, &|p| p.cpu_us)
    );
    for (name, xs) in [("throughput", rate), ("CPU per conn", cpu)] {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let se = sd / n.sqrt();
        let (q1, q3) = (quantile(&xs, 0.25), quantile(&xs, 0.75));
        println!(
            "{name:>13}: ratio median {:.4} (p25-p75 {q1:.3}-{q3:.3}), mean {mean:.4} ± {:.4} (95 %)",
            median(&xs),
            1.96 * se
        );
    }
}

fn median(xs: &[f64]) -> f64 {
    quantile(xs, 0.5)
}

fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = (q * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}
