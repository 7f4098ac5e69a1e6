//! Integration tests of the lint engine: one fixture and snapshot per rule,
//! plus engine behaviour (parse errors, suppressions, nesting limits).
#![expect(
    clippy::missing_panics_doc,
    reason = "test helpers panic on setup failure by design"
)]

mod engine;
mod modtree;
mod rules;

use diagnostics::{Diagnostic, Report};
use lints::{FileKind, Linter, Settings};

/// Lints `source` as `path` with only `rule` (or every rule) enabled.
#[must_use]
pub fn lint(path: &str, source: &str, only: Option<&str>) -> Vec<Diagnostic> {
    let settings = Settings {
        only: only.map(|r| vec![r.to_owned()]).unwrap_or_default(),
        ..Settings::default()
    };
    let linter = Linter::new(&settings).unwrap_or_else(|e| panic!("settings: {e}"));
    linter.lint_source(path, source, FileKind::Library)
}

/// Renders findings the way `govkit lint` shows them (no colour).
#[must_use]
pub fn render(path: &str, source: &str, findings: &[Diagnostic]) -> String {
    let mut report = Report::new("lint");
    report.add_source(path, source);
    findings
        .iter()
        .map(|d| diagnostics::render::human_diagnostic(&report, d, false))
        .collect::<Vec<_>>()
        .join("\n\n")
}
