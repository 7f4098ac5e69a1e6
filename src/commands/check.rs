use std::io::Write;
use std::time::{Duration, Instant};

use clap::Args;
use diagnostics::Report;
use diagnostics::render::{self, Format};
use serde_json::json;

use crate::Context;
use crate::cli::OutputFormat;
use crate::error::{Outcome, UserError};
use crate::gates;
use crate::output::{Stdout, stdout_color};

/// Run every gate configured in govkit.toml, in order, and print one
/// summary: the CI step.
///
/// A gate runs when its section is present in the configuration. Exit 0
/// when all pass, 1 when any gate failed, 2 when any gate could not run
/// (a gate that could not run is never counted as passing).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Run only these gates (by name), still in configuration order.
    #[arg(long = "gate", value_name = "GATE")]
    pub gates: Vec<String>,
}

/// How one gate ended.
enum GateResult {
    Ran(Report),
    CouldNotRun(anyhow::Error),
}

struct GateRun {
    name: &'static str,
    result: GateResult,
    elapsed: Duration,
}

pub fn run(ctx: &Context, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let config = ctx.required_config()?;
    let configured = config.gates.configured();
    for name in &args.gates {
        if !configured.contains(&name.as_str()) {
            return Err(UserError::new(
                format!(
                    "gate `{name}` is not configured in {}",
                    display_file(&config)
                ),
                format!("configured gates: {}", list_or_none(&configured)),
            )
            .into());
        }
    }
    let selected: Vec<&'static str> = configured
        .into_iter()
        .filter(|g| args.gates.is_empty() || args.gates.iter().any(|a| a == g))
        .collect();
    if selected.is_empty() {
        return Err(UserError::new(
            format!(
                "{} configures no gates, so there is nothing to check",
                display_file(&config)
            ),
            "add a gate's section (e.g. [lint]); `govkit init` writes a commented example",
        )
        .into());
    }

    let mut runs = Vec::with_capacity(selected.len());
    for name in selected {
        tracing::info!("running gate {name}");
        let start = Instant::now();
        let result = match gates::run(name, ctx, &config) {
            Ok(report) => GateResult::Ran(report),
            Err(e) => GateResult::CouldNotRun(e),
        };
        runs.push(GateRun {
            name,
            result,
            elapsed: start.elapsed(),
        });
    }

    let format = ctx.global.format.unwrap_or(OutputFormat::Human);
    let mut out = Stdout::new();
    let reports: Vec<&Report> = runs
        .iter()
        .filter_map(|r| match &r.result {
            GateResult::Ran(report) => Some(report),
            GateResult::CouldNotRun(_) => None,
        })
        .collect();
    let options = crate::commands::render_options(ctx, stdout_color(ctx.global.color));
    match format {
        OutputFormat::Json => {
            let gates: Vec<_> = runs.iter().map(gate_json).collect();
            let doc = json!({
                "ok": runs.iter().all(|r| matches!(&r.result, GateResult::Ran(rep) if !rep.failed())),
                "gates": gates,
            });
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Human => {
            render::render(Format::Human, &reports, &options, &mut out)?;
            writeln!(out)?;
            write_summary_table(&mut out, &runs)?;
        }
        other => render::render(other.into(), &reports, &options, &mut out)?,
    }
    out.flush()?;

    // Errors of gates that could not run go to stderr whatever the format.
    let mut could_not_run = false;
    for r in &runs {
        if let GateResult::CouldNotRun(e) = &r.result {
            could_not_run = true;
            tracing::error!("gate {} could not run: {e:#}", r.name);
        }
    }
    if could_not_run {
        return Err(anyhow::anyhow!(
            "at least one gate could not run; see the errors above"
        ));
    }
    if reports.iter().any(|r| r.failed()) {
        Ok(Outcome::GateFailed)
    } else {
        Ok(Outcome::Pass)
    }
}

fn gate_json(r: &GateRun) -> serde_json::Value {
    let ms = u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX);
    match &r.result {
        GateResult::Ran(report) => json!({
            "gate": r.name,
            "status": if report.failed() { "failed" } else { "passed" },
            "findings": report.diagnostics.len(),
            "duration_ms": ms,
            "report": render::json_value(report),
        }),
        GateResult::CouldNotRun(e) => json!({
            "gate": r.name,
            "status": "error",
            "error": format!("{e:#}"),
            "duration_ms": ms,
        }),
    }
}

fn write_summary_table(out: &mut dyn Write, runs: &[GateRun]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<10} {:<8} {:>8} {:>8} {:>9}",
        "gate", "result", "errors", "warnings", "time"
    )?;
    for r in runs {
        let time = format!("{:.2}s", r.elapsed.as_secs_f64());
        match &r.result {
            GateResult::Ran(report) => {
                let s = report.summary();
                let status = if report.failed() { "FAILED" } else { "passed" };
                writeln!(
                    out,
                    "{:<10} {:<8} {:>8} {:>8} {:>9}",
                    r.name, status, s.errors, s.warnings, time
                )?;
            }
            GateResult::CouldNotRun(_) => {
                writeln!(
                    out,
                    "{:<10} {:<8} {:>8} {:>8} {:>9}",
                    r.name, "ERROR", "-", "-", time
                )?;
            }
        }
    }
    Ok(())
}

fn display_file(config: &crate::config::Config) -> String {
    config.file.as_ref().map_or_else(
        || "the configuration".to_owned(),
        |f| f.display().to_string(),
    )
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
