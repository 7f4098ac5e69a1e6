//! `govkit bench`: run criterion benchmarks (through bench-gate) several
//! times, count allocations per operation, and judge budgets and
//! regressions against a baseline.

use std::io::Write;
use std::path::{Path, PathBuf};

use bench_gate::gate::{self, Baseline, Judged, Measured, Pairing, Policy};
use bench_gate::runner::{self, RunError, RunPlan};
use clap::Args;
use diagnostics::{Diagnostic, Location, Report, RuleInfo, Severity};
use serde_json::json;

use crate::Context;
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::error::{Outcome, UserError};
use crate::output::{Stdout, stdout_color};

/// Run the workspace's criterion benchmarks `--count` times, count heap
/// allocations per operation (bench targets written with bench-gate), and
/// fail on a benchmark over its allocation budget or significantly slower
/// than a baseline file or another revision (`--against`).
///
/// Exit 1 when a budget is exceeded or a regression is found; 2 when a
/// benchmark fails to build or crashes (its output is shown), or the
/// revision of `--against` is unknown or does not build.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only benchmarks of this package (repeatable).
    #[arg(long, short, value_name = "PACKAGE")]
    package: Vec<String>,
    /// Only this bench target (repeatable).
    #[arg(long, value_name = "NAME")]
    bench: Vec<String>,
    /// Timing runs per benchmark (default: `[bench] count`, else 5); with
    /// `--against`, rounds per benchmark (default 10).
    #[arg(long, value_name = "N")]
    count: Option<u32>,
    /// Compare with this git revision (a branch, tag or commit: the pull
    /// request's base), built in a temporary worktree and run alternately
    /// with the work tree's build, round by round.
    #[arg(long, value_name = "REV", conflicts_with_all = ["baseline", "save_baseline"])]
    against: Option<String>,
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
    against: Option<String>,
}

/// Rounds per benchmark for `--against` unless `--count` says otherwise:
/// the signed-rank test's floor is then 2/1024, and a round of criterion's
/// 0.5 s warm-up and 1 s measurement per side keeps a benchmark within
/// about 45 s (scripts/bench-gate/aa.sh).
const DEFAULT_ROUNDS: u32 = 10;

fn plan(ctx: &Context, config: &Config, args: Option<&BenchArgs>) -> Plan {
    let section = config.gates.bench.clone().unwrap_or_default();
    let root = match (&section.workspace, config.file.is_some()) {
        (Some(w), _) => config.root.join(w),
        (None, true) => config.root.clone(),
        (None, false) => ctx.cwd.clone(),
    };
    let against = args.and_then(|a| a.against.clone());
    // Paired rounds are short by default: drift between them cancels, and
    // more rounds buy more than longer ones.
    let (measure_default, warm_default) = if against.is_some() {
        (Some(1.0), Some(0.5))
    } else {
        (None, None)
    };
    let mut criterion_args = Vec::new();
    if let Some(t) = args
        .and_then(|a| a.measurement_time)
        .or(section.measurement_time)
        .or(measure_default)
    {
        criterion_args.extend(["--measurement-time".to_owned(), t.to_string()]);
    }
    if let Some(t) = args
        .and_then(|a| a.warm_up_time)
        .or(section.warm_up_time)
        .or(warm_default)
    {
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
        // Ten paired rounds reach p = 0.002, so `--against` can afford
        // 0.01: it bounds false alarms at 0.5 % and, by widening the
        // interval, raises detection at `min-effect` (measured by
        // scripts/bench-gate/resample.py: 0.3 % and 99 %, against 1.8 % and
        // 96 % at 0.05).
        alpha: section
            .alpha
            .as_ref()
            .map_or(if against.is_some() { 0.01 } else { 0.05 }, |a| {
                *a.get_ref()
            }),
        time_advisory: section
            .time_regressions
            .as_ref()
            .is_some_and(|t| t.get_ref() == "advisory"),
        old_name: against
            .as_ref()
            .map_or_else(|| "the baseline".to_owned(), Clone::clone),
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
            // `[bench] count` is the baseline mode's run count; rounds
            // of `--against` have their own default.
            count: args
                .and_then(|a| a.count)
                .or(if against.is_some() {
                    Some(DEFAULT_ROUNDS)
                } else {
                    section.count
                })
                .unwrap_or(5)
                .max(1),
            criterion_args,
            filter: args.and_then(|a| a.filter.clone()),
            stop: None,
        },
        policy,
        baseline,
        against,
    }
}

/// What was measured, and what it is judged against.
struct Collected {
    measured: Vec<Measured>,
    baseline: Option<Baseline>,
    pairing: Pairing,
    time_only: Vec<String>,
    skipped: Vec<String>,
    not_compared: Vec<String>,
    /// `--against`: the revision as given and its commit.
    against: Option<(String, String)>,
}

/// Measures the plan: against a baseline file (read first, so a bad one
/// is refused before anything builds) or against another revision.
fn collect(ctx: &Context, plan: &Plan, saving: bool) -> anyhow::Result<Collected> {
    let quiet = ctx.global.quiet;
    let mut progress = |line: &str| crate::output::status(quiet, line);
    if let Some(rev) = &plan.against {
        if let Some((floor, need)) =
            gate::undetectable_paired(plan.run.count as usize, plan.policy.alpha)
        {
            return Err(UserError::new(
                format!(
                    "--count {} rounds can never flag a time regression: the smallest p-value the signed-rank test can give is {floor:.3}, not below alpha {}",
                    plan.run.count, plan.policy.alpha
                ),
                need.map_or_else(
                    || format!("use --count {DEFAULT_ROUNDS} (the default)"),
                    |k| format!("use --count {k} or more (the default is {DEFAULT_ROUNDS})"),
                ),
            )
            .into());
        }
        let paired = runner::measure_against(&plan.run, rev, &mut progress).map_err(user_error)?;
        for line in &paired.not_compared {
            crate::output::status(quiet, &format!("not compared: {line}"));
        }
        return Ok(Collected {
            baseline: Some(Baseline::new(&paired.old)),
            measured: paired.new.measured,
            pairing: Pairing::Paired,
            time_only: paired.new.time_only,
            skipped: paired.new.skipped,
            not_compared: paired.not_compared,
            against: Some((rev.clone(), paired.commit)),
        });
    }
    let baseline = read_baseline(plan.baseline.as_deref())?;
    check_detectable(plan, baseline.as_ref(), saving)?;
    let m = runner::measure(&plan.run, &mut progress).map_err(user_error)?;
    Ok(Collected {
        measured: m.measured,
        baseline,
        pairing: Pairing::Unpaired,
        time_only: m.time_only,
        skipped: m.skipped,
        not_compared: Vec::new(),
        against: None,
    })
}

pub fn run(ctx: &Context, args: &BenchArgs) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let mut plan = plan(ctx, &config, Some(args));
    plan.run.stop = Some(super::stop_flag()?);
    let c = collect(ctx, &plan, args.save_baseline.is_some())?;
    if let Some(file) = &args.save_baseline {
        let text = serde_json::to_string_pretty(&Baseline::new(&c.measured))? + "\n";
        crate::output::write_atomically(&ctx.cwd.join(file), text.as_bytes())?;
        crate::output::status(
            ctx.global.quiet,
            &format!(
                "saved {} benchmarks to {}",
                c.measured.len(),
                file.display()
            ),
        );
    }
    let judged = gate::judge(&c.measured, c.baseline.as_ref(), &plan.policy, c.pairing);
    let report = report(&judged, &plan, &c);
    let mut out = Stdout::new();
    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    let columns = Columns {
        old: c.baseline.is_some(),
        paired: c.pairing == Pairing::Paired,
    };
    if args.markdown {
        write_markdown(&mut out, &judged, columns)?;
    } else {
        if format == OutputFormat::Human {
            write_table(&mut out, &judged, columns)?;
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
    let mut plan = plan(ctx, config, None);
    plan.run.stop = Some(super::stop_flag()?);
    let c = collect(ctx, &plan, false)?;
    Ok(report(
        &gate::judge(&c.measured, c.baseline.as_ref(), &plan.policy, c.pairing),
        &plan,
        &c,
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

/// A runner error as the user sees it: what happened and what to do,
/// exit 2.
fn user_error(e: RunError) -> anyhow::Error {
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
        RunError::NoTargets { .. } => {
            "add a [[bench]] with `harness = false` (criterion_main!, or bench_gate::main! to count allocations), or check --package, --bench and the filter"
        }
        RunError::NoAllocations { .. } => {
            "the bench file must use `bench_gate::main!(…)` instead of criterion_main!"
        }
        RunError::Crashed { .. } => {
            "a benchmark that crashes is never a pass; run it with `cargo bench` to debug"
        }
        RunError::Git(_) => {
            "run it in a git checkout, or compare with a saved baseline (--baseline FILE)"
        }
        RunError::UnknownRev { .. } => {
            "give a branch, tag or commit that `git rev-parse` knows; a CI checkout may need it fetched first (`git fetch origin main`, or fetch-depth: 0)"
        }
        RunError::Dirty { .. } => {
            "commit or stash them (`git stash -u`): --against compares the work tree's commit with REV"
        }
        RunError::RevBuild { .. } => {
            "both revisions' benchmarks must build; `git switch --detach REV && cargo bench --no-run` shows why"
        }
        RunError::Interrupted => "nothing was judged; the temporary worktree is removed",
        _ => return anyhow::Error::new(e),
    };
    UserError::new(e.to_string(), hint).into()
}

fn report(judged: &[Judged], plan: &Plan, c: &Collected) -> Report {
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
        (
            "time-regression",
            "significantly slower than the baseline or the other revision",
        ),
        (
            "allocations-not-counted",
            "a plain criterion_main! bench target: timed, allocations not counted",
        ),
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
    for target in &c.time_only {
        report.push(
            Diagnostic::new(
                "allocations-not-counted",
                Severity::Warning,
                format!(
                    "{target}: a plain criterion_main! bench target, so its benchmarks are timed but their allocations are not counted (no budget applies)"
                ),
            )
            .with_location(Location::file(target.clone()))
            .with_help(
                "to count allocations, switch it to bench_gate::main!: see \"Writing a bench file\" in docs/src/bench.md",
            ),
        );
    }
    let benchmarks: Vec<serde_json::Value> = judged
        .iter()
        .map(|j| {
            let m = &j.measured;
            let old_runs = c
                .baseline
                .as_ref()
                .and_then(|b| b.benchmarks.get(&m.id))
                .map(|o| &o.time_runs_ns);
            json!({
                "id": m.id,
                "allocs_per_op": m.allocs_per_op.map(|a| a.value),
                "allocs_exact": m.allocs_per_op.map(|a| a.exact),
                "bytes_per_op": m.bytes_per_op.map(|a| a.value),
                "budget": j.budget,
                "time_ns": {
                    "median": m.time_median_ns(),
                    "runs": m.time_runs_ns,
                },
                "old_time_ns": old_runs.map(|runs| json!({
                    "median": j.baseline_time_ns,
                    "runs": runs,
                })),
                "verdict": if j.failures.is_empty() { "pass" } else { "fail" },
                "change": j.change,
                "baseline_allocs_per_op": j.baseline_allocs_per_op,
            })
        })
        .collect();
    report.set_field("benchmarks", benchmarks);
    report.set_field("count", plan.run.count);
    report.set_field(
        "against",
        c.against
            .as_ref()
            .map(|(rev, commit)| json!({"rev": rev, "commit": commit})),
    );
    report.set_field("time_only", json!(c.time_only));
    report.set_field("not_compared", json!(c.not_compared));
    report.set_field("skipped", json!(c.skipped));
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

/// The paired interval of the ratio as percentages: `+3.9…+6.1%`.
fn interval(j: &Judged) -> String {
    match j.change.as_ref().and_then(|c| c.interval) {
        Some([lo, hi]) => format!("{:+.1}…{:+.1}%", (lo - 1.0) * 100.0, (hi - 1.0) * 100.0),
        None => String::new(),
    }
}

/// The smallest slowdown these runs would have flagged.
fn detects(j: &Judged) -> String {
    j.change.as_ref().map_or_else(String::new, |c| {
        c.detectable_slowdown
            .map_or_else(|| "never".to_owned(), |s| format!("+{:.1}%", s * 100.0))
    })
}

/// Allocations per operation: `-` when not counted, `*` when they varied.
fn allocs(m: &Measured) -> String {
    m.allocs_per_op.map_or_else(
        || "-".to_owned(),
        |a| format!("{}{}", a.value, if a.exact { "" } else { "*" }),
    )
}

fn bytes(m: &Measured) -> String {
    m.bytes_per_op
        .map_or_else(|| "-".to_owned(), |b| b.value.to_string())
}

/// Which comparison columns the tables show.
#[derive(Clone, Copy)]
struct Columns {
    /// A baseline file or another revision.
    old: bool,
    /// Paired rounds (`--against`): the interval too.
    paired: bool,
}

fn write_table(out: &mut dyn Write, judged: &[Judged], columns: Columns) -> std::io::Result<()> {
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
    if columns.old {
        write!(out, "  {:>12}  {:>7}  {:>8}", "old", "delta", "")?;
        if columns.paired {
            write!(out, "  {:>15}", "interval")?;
        }
        write!(out, "  {:>8}", "detects")?;
    }
    writeln!(out, "  result")?;
    for j in judged {
        let m = &j.measured;
        write!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>12}",
            m.id,
            allocs(m),
            bytes(m),
            fmt_ns(m.time_median_ns())
        )?;
        if columns.old {
            let (d, p) = delta(j);
            write!(out, "  {:>12}  {d:>7}  {p:>8}", fmt_ns(j.baseline_time_ns))?;
            if columns.paired {
                write!(out, "  {:>15}", interval(j))?;
            }
            write!(out, "  {:>8}", detects(j))?;
        }
        let result = if j.failures.is_empty() { "ok" } else { "FAIL" };
        writeln!(out, "  {result}")?;
    }
    if judged
        .iter()
        .any(|j| j.measured.allocs_per_op.is_some_and(|a| !a.exact))
    {
        writeln!(
            out,
            "* the count varied between samples; the worst sample is shown"
        )?;
    }
    if judged.iter().any(|j| j.measured.allocs_per_op.is_none()) {
        writeln!(
            out,
            "- not counted: a plain criterion_main! bench target (timed only)"
        )?;
    }
    Ok(())
}

fn write_markdown(out: &mut dyn Write, judged: &[Judged], columns: Columns) -> std::io::Result<()> {
    if columns.old {
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
        if columns.old {
            let (mut d, p) = delta(j);
            if columns.paired && j.change.as_ref().is_some_and(|c| c.interval.is_some()) {
                d = format!("{d} ({})", interval(j));
            }
            writeln!(
                out,
                "| `{}` | {} | {} | {time} | {} | {d} | {p} | {result} |",
                m.id,
                allocs(m),
                bytes(m),
                fmt_ns(j.baseline_time_ns)
            )?;
        } else {
            writeln!(
                out,
                "| `{}` | {} | {} | {time} | {result} |",
                m.id,
                allocs(m),
                bytes(m)
            )?;
        }
    }
    Ok(())
}
