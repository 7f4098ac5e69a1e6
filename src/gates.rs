//! The gates `govkit check` can run, by name, in the order it runs them.

use diagnostics::Report;

use crate::Context;
use crate::config::Config;

/// Runs gate `name` with its configuration section. `Ok` carries the
/// findings (which may fail the gate); `Err` means the gate could not run.
pub fn run(name: &str, ctx: &Context, config: &Config) -> anyhow::Result<Report> {
    match name {
        "lint" => crate::commands::lint::gate(ctx, config),
        "vendor" => crate::commands::vendor::gate(ctx, config),
        "bench" => crate::commands::bench::gate(ctx, config),
        other => Err(anyhow::anyhow!("unknown gate `{other}`")),
    }
}
