//! `govkit bench`: run criterion benchmarks (through bench-gate) several
//! times, count allocations per operation, and judge budgets and
//! regressions against a baseline.

use std::io::Write;
use std::path::{Path, PathBuf};

use bench_gate::gate::{self, Baseline, Judged, Measured, Policy};
use bench_gate::runner::{self, RunError, RunPlan};
use clap::Args;
use diagnostics::{Diagnostic, Location, Report, RuleInfo, Severity};
use serde_json::json;

use crate::Context;
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::error::{Outcome, UserError};
use crate::output::{Stdout, stdout_color};

/// Run the workspace's criterion benchmarks (written with bench-gate)
/// `--count` times, count heap allocations per operation, and fail on a
/// benchmark over its allocation budget or significantly slower than a
/// baseline.
///
/// Exit 1 when a budget is exceeded or a regression is found; 2 when a
/// benchmark fails to build or crashes (its output is shown).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only benchmarks of this package (repeatable).
    #[arg(long, short, value_name = "PACKAGE")]
    package: Vec<String>,
    /// Only this bench target (repeatable).
    #[arg(long, value_name = "NAME")]
    bench: Vec<String>,
    /// Timing runs per benchmark (default: `[bench] count`, else 5).
    #[arg(long, value_name = "N")]
    count: Option<u32>,
    /// Allocation budget per operation (default: `[bench] max-allocs`, else 5).
    #[arg(long, value_name = "N")]
    max_allocs: Option<u64>,
    /// Compare with this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write this run's results as a baseline file.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Print a markdown table (for a pull-request comment) instead of the
    /// human table.
    #[arg(long)]
    markdown: bool,
    /// Criterion's measurement time per benchmark and run, in seconds.
    #[arg(long, value_name = "SECS")]
    measurement_time: Option<f64>,
    /// Criterion's warm-up time per benchmark and run, in seconds.
    #[arg(long, value_name = "SECS")]
    warm_up_time: Option<f64>,
    /// Criterion's samples per benchmark and run.
    #[arg(long, value_name = "N")]
    sample_size: Option<u32>,
    /// Only benchmarks whose id contains this (criterion's filter).
    #[arg(value_name = "FILTER")]
    filter: Option<String>,
}

/// Everything a bench run needs, from flags over `[bench]` over defaults.
struct Plan {
    run: RunPlan,
    policy: Policy,
    baseline: Option<PathBuf>,
}

fn plan(ctx: &Context, config: &Config, args: Option<&BenchArgs>) -> Plan {
    let section = config.gates.bench.clone().unwrap_or_default();
    let root = match (&section.workspace, config.file.is_some()) {
        (Some(w), _) => config.root.join(w),
        (None, true) => config.root.clone(),
        (None, false) => ctx.cwd.clone(),
    };
    let pick = |flag: Option<f64>, conf: Option<f64>| flag.or(conf);
    let mut criterion_args = Vec::new();
    if let Some(t) = pick(
        args.and_then(|a| a.measurement_time),
        section.measurement_time,
    ) {
        criterion_args.extend(["--measurement-time".to_owned(), t.to_string()]);
    }
    if let Some(t) = pick(args.and_then(|a| a.warm_up_time), section.warm_up_time) {
        criterion_args.extend(["--warm-up-time".to_owned(), t.to_string()]);
    }
    if let Some(n) = args
        .and_then(|a| a.sample_size)
        .or(section.sample_size.as_ref().map(|s| *s.get_ref()))
    {
        criterion_args.extend(["--sample-size".to_owned(), n.to_string()]);
    }
    let policy = Policy {
        max_allocs: args
            .and_then(|a| a.max_allocs)
            .or(section.max_allocs)
            .unwrap_or(5),
        budgets: section
            .budgets
            .iter()
            .map(|b| (b.id.get_ref().clone(), b.max_allocs))
            .collect(),
        min_effect: section.min_effect.as_ref().map_or(0.05, |m| *m.get_ref()),
        alpha: section.alpha.as_ref().map_or(0.05, |a| *a.get_ref()),
        time_advisory: section
            .time_regressions
            .as_ref()
            .is_some_and(|t| t.get_ref() == "advisory"),
    };
    let baseline = args
        .and_then(|a| a.baseline.as_ref().map(|b| ctx.cwd.join(b)))
        .or_else(|| section.baseline.as_ref().map(|b| config.root.join(b)));
    Plan {
        run: RunPlan {
            root,
            packages: args
                .map(|a| a.package.clone())
                .filter(|p| !p.is_empty())
                .unwrap_or(section.packages.clone()),
            benches: args
                .map(|a| a.bench.clone())
                .filter(|b| !b.is_empty())
                .unwrap_or(section.benches.clone()),
            count: args
                .and_then(|a| a.count)
                .or(section.count)
                .unwrap_or(5)
                .max(1),
            criterion_args,
            filter: args.and_then(|a| a.filter.clone()),
        },
        policy,
        baseline,
    }
}

pub fn run(ctx: &Context, args: &BenchArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let plan = plan(ctx, &config, Some(args));
    let baseline = read_baseline(plan.baseline.as_deref())?;
    check_detectable(&plan, baseline.as_ref(), args.save_baseline.is_some())?;
    let measured = measure(ctx, &plan)?;
    if let Some(file) = &args.save_baseline {
        let text = serde_json::to_string_pretty(&Baseline::new(&measured))? + "\n";
        crate::output::write_atomically(&ctx.cwd.join(file), text.as_bytes())?;
        crate::output::status(
            ctx.global.quiet,
            &format!("saved {} benchmarks to {}", measured.len(), file.display()),
        );
    }
    let judged = gate::judge(&measured, baseline.as_ref(), &plan.policy);
    let report = report(&judged, &plan);
    let mut out = Stdout::new();
    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    if args.markdown {
        write_markdown(&mut out, &judged, baseline.is_some())?;
    } else {
        if format == OutputFormat::Human {
            write_table(&mut out, &judged, baseline.is_some())?;
            writeln!(out)?;
        }
        let options = super::render_options(ctx, stdout_color(ctx.global.color));
        diagnostics::render::render(format.into(), &[&report], &options, &mut out)?;
    }
    out.flush()?;
    Ok(Outcome::of(&report))
}

/// The bench gate for `govkit check`: `[bench]` decides everything.
pub fn gate(ctx: &Context, config: &Config) -> anyhow::Result<Report> {
    let plan = plan(ctx, config, None);
    let baseline = read_baseline(plan.baseline.as_deref())?;
    check_detectable(&plan, baseline.as_ref(), false)?;
    let measured = measure(ctx, &plan)?;
    Ok(report(
        &gate::judge(&measured, baseline.as_ref(), &plan.policy),
        &plan,
    ))
}

/// Refuses (exit 2) a comparison that can never flag a time regression:
/// with this many runs a side the Mann–Whitney test cannot reach `alpha`,
/// so every verdict would be "unchanged" whatever happened. Saving a
/// baseline that no comparison with the same count could use is a
/// warning.
fn check_detectable(plan: &Plan, baseline: Option<&Baseline>, saving: bool) -> anyhow::Result<()> {
    let count = plan.run.count as usize;
    let alpha = plan.policy.alpha;
    if let Some(b) = baseline {
        let mut sizes: Vec<usize> = b
            .benchmarks
            .values()
            .map(|m| m.time_runs_ns.len())
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        for runs in sizes {
            if let Some((floor, need)) = gate::undetectable(runs, count, alpha) {
                let fix = need.map_or_else(
                    || format!("a baseline of {runs} run(s) cannot reach it with any --count; save a new baseline with --count 5 or more"),
                    |k| format!("use --count {k} or more (or save a baseline with more runs)"),
                );
                return Err(UserError::new(
                    format!(
                        "--count {count} against {runs} baseline run(s) can never flag a time regression: the smallest p-value the Mann-Whitney test can give is {floor:.3}, not below alpha {alpha}"
                    ),
                    &fix,
                )
                .into());
            }
        }
    } else if saving && let Some((floor, need)) = gate::undetectable(count, count, alpha) {
        tracing::warn!(
            "a baseline of {count} run(s) compared with {count} new run(s) can never flag a time regression (smallest p-value {floor:.3}, alpha {alpha}){}",
            need.map_or_else(String::new, |k| format!(
                "; compare it with --count {k} or more"
            ))
        );
    }
    Ok(())
}

fn read_baseline(path: Option<&Path>) -> anyhow::Result<Option<Baseline>> {
    path.map(|p| {
        Baseline::read(p).map_err(|e| {
            UserError::new(
                e.to_string(),
                "write one with `govkit bench --save-baseline FILE`",
            )
            .into()
        })
    })
    .transpose()
}

fn measure(ctx: &Context, plan: &Plan) -> anyhow::Result<Vec<Measured>> {
    let quiet = ctx.global.quiet;
    runner::measure(&plan.run, &mut |line| crate::output::status(quiet, line)).map_err(|e| {
        if let RunError::NotGeneric { functions } = &e {
            let f = functions.first().map_or("benches", String::as_str);
            return UserError::new(
                e.to_string(),
                format!(
                    "write `fn {f}<M: bench_gate::Measure>(c: &mut Criterion<M>)` (and the same for each function given to bench_gate::main!): see \"Writing a bench file\" in docs/src/bench.md"
                ),
            )
            .into();
        }
        let hint = match &e {
            RunError::Build => "`cargo bench --no-run` shows the same errors",
            RunError::NoTargets => {
                "add a [[bench]] with `harness = false` that uses bench_gate::main!, or check --package/--bench"
            }
            RunError::NoAllocations { .. } => {
                "the bench file must use `bench_gate::main!(…)` instead of criterion_main!"
            }
            RunError::Crashed { .. } => {
                "a benchmark that crashes is never a pass; run it with `cargo bench` to debug"
            }
            _ => return anyhow::Error::new(e),
        };
        UserError::new(e.to_string(), hint).into()
    })
}

fn report(judged: &[Judged], plan: &Plan) -> Report {
    let mut report = Report::new("bench").with_list_key("problems");
    for (code, summary) in [
        (
            "allocation-budget",
            "more heap allocations per operation than the budget",
        ),
        (
            "allocation-increase",
            "more allocations per operation than the baseline",
        ),
        ("time-regression", "significantly slower than the baseline"),
    ] {
        report.add_rule(RuleInfo {
            code: code.to_owned(),
            summary: summary.to_owned(),
            default_severity: Severity::Error,
            help: None,
        });
    }
    for j in judged {
        for (f, severity) in j
            .failures
            .iter()
            .map(|f| (f, Severity::Error))
            .chain(j.advisories.iter().map(|f| (f, Severity::Warning)))
        {
            report.push(
                Diagnostic::new(
                    f.kind,
                    severity,
                    format!("{}: {}", j.measured.id, f.message),
                )
                .with_location(Location::file(j.measured.id.clone()))
                .with_field("benchmark", j.measured.id.clone()),
            );
        }
    }
    let benchmarks: Vec<serde_json::Value> = judged
        .iter()
        .map(|j| {
            let m = &j.measured;
            json!({
                "id": m.id,
                "allocs_per_op": m.allocs_per_op.value,
                "allocs_exact": m.allocs_per_op.exact,
                "bytes_per_op": m.bytes_per_op.value,
                "budget": j.budget,
                "time_ns": {
                    "median": m.time_median_ns(),
                    "runs": m.time_runs_ns,
                },
                "verdict": if j.failures.is_empty() { "pass" } else { "fail" },
                "change": j.change,
                "baseline_allocs_per_op": j.baseline_allocs_per_op,
            })
        })
        .collect();
    report.set_field("benchmarks", benchmarks);
    report.set_field("count", plan.run.count);
    report
}

fn fmt_ns(ns: Option<f64>) -> String {
    match ns {
        None => "-".to_owned(),
        Some(v) if v < 1e3 => format!("{v:.1} ns"),
        Some(v) if v < 1e6 => format!("{:.2} µs", v / 1e3),
        Some(v) if v < 1e9 => format!("{:.2} ms", v / 1e6),
        Some(v) => format!("{:.2} s", v / 1e9),
    }
}

fn delta(j: &Judged) -> (String, String) {
    match &j.change {
        None => (String::new(), String::new()),
        Some(c) if c.verdict == "unchanged" => ("~".to_owned(), format!("p={:.3}", c.p_value)),
        Some(c) => (
            format!("{:+.1}%", (c.ratio - 1.0) * 100.0),
            format!("p={:.3}", c.p_value),
        ),
    }
}

fn write_table(out: &mut dyn Write, judged: &[Judged], with_baseline: bool) -> std::io::Result<()> {
    let width = judged
        .iter()
        .map(|j| j.measured.id.len())
        .max()
        .unwrap_or(9)
        .max(9);
    write!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>12}",
        "benchmark", "allocs/op", "bytes/op", "time/op"
    )?;
    if with_baseline {
        write!(
            out,
            "  {:>12}  {:>7}  {:>8}  {:>8}",
            "old", "delta", "", "detects"
        )?;
    }
    writeln!(out, "  result")?;
    for j in judged {
        let m = &j.measured;
        let allocs = format!(
            "{}{}",
            m.allocs_per_op.value,
            if m.allocs_per_op.exact { "" } else { "*" }
        );
        write!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>12}",
            m.id,
            allocs,
            m.bytes_per_op.value,
            fmt_ns(m.time_median_ns())
        )?;
        if with_baseline {
            let old = j
                .change
                .as_ref()
                .map(|c| m.time_median_ns().map(|n| n / c.ratio));
            let (d, p) = delta(j);
            // The smallest slowdown these runs would have flagged.
            let detects = j.change.as_ref().map_or_else(String::new, |c| {
                c.detectable_slowdown
                    .map_or_else(|| "never".to_owned(), |s| format!("+{:.1}%", s * 100.0))
            });
            write!(
                out,
                "  {:>12}  {d:>7}  {p:>8}  {detects:>8}",
                fmt_ns(old.flatten())
            )?;
        }
        let result = if j.failures.is_empty() { "ok" } else { "FAIL" };
        writeln!(out, "  {result}")?;
    }
    if judged.iter().any(|j| !j.measured.allocs_per_op.exact) {
        writeln!(
            out,
            "* the count varied between samples; the worst sample is shown"
        )?;
    }
    Ok(())
}

fn write_markdown(
    out: &mut dyn Write,
    judged: &[Judged],
    with_baseline: bool,
) -> std::io::Result<()> {
    if with_baseline {
        writeln!(
            out,
            "| benchmark | allocs/op | bytes/op | time/op | old | delta | p | result |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|")?;
    } else {
        writeln!(
            out,
            "| benchmark | allocs/op | bytes/op | time/op | result |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---|")?;
    }
    for j in judged {
        let m = &j.measured;
        let result = if j.failures.is_empty() {
            "✅".to_owned()
        } else {
            format!(
                "❌ {}",
                j.failures
                    .iter()
                    .map(|f| f.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let time = fmt_ns(m.time_median_ns());
        if with_baseline {
            let old = j
                .change
                .as_ref()
                .and_then(|c| m.time_median_ns().map(|n| n / c.ratio));
            let (d, p) = delta(j);
            writeln!(
                out,
                "| `{}` | {} | {} | {time} | {} | {d} | {p} | {result} |",
                m.id,
                m.allocs_per_op.value,
                m.bytes_per_op.value,
                fmt_ns(old)
            )?;
        } else {
            writeln!(
                out,
                "| `{}` | {} | {} | {time} | {result} |",
                m.id, m.allocs_per_op.value, m.bytes_per_op.value
            )?;
        }
    }
    Ok(())
}
