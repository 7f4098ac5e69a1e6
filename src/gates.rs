//! The gates `govkit check` can run, by name, in the order it runs them.

use diagnostics::Report;

use crate::Context;
use crate::config::Config;

/// Runs gate `name` with its configuration section. `Ok` carries the
/// findings (which may fail the gate); `Err` means the gate could not run.
pub fn run(name: &str, _ctx: &Context, _config: &Config) -> anyhow::Result<Report> {
    Err(anyhow::anyhow!("unknown gate `{name}`"))
}
