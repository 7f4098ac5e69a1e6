//! Renderers: one per output format, all taking the same reports.
//!
//! Every renderer writes to a `Write` and returns its I/O error untouched, so
//! the CLI can tell a closed pipe (`govkit lint | head`) from a real failure.

use std::io::{self, Write};

use crate::Report;

mod failure;
mod github;
mod human;
mod json;
mod junit;
mod sarif;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style code frames, for people.
    Human,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0 (code scanning UIs).
    Sarif,
    /// GitHub Actions workflow commands (annotations on the PR diff).
    Github,
    /// `JUnit` XML (test report UIs of GitLab, Jenkins, …).
    Junit,
}

/// Settings shared by the renderers.
#[derive(Debug, Clone)]
pub struct Options {
    /// Emit ANSI colour (human format only).
    pub color: bool,
    /// govkit's version, recorded in SARIF and JSON.
    pub tool_version: String,
    /// Absolute directory the relative paths are relative to, as a `file://`
    /// URI ending in `/`; SARIF's `%SRCROOT%`.
    pub source_root_uri: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            tool_version: "0.0.0".to_owned(),
            source_root_uri: None,
        }
    }
}

/// Renders `reports` (one per gate) in `format` to `out`.
pub fn render(
    format: Format,
    reports: &[&Report],
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(reports, options, out),
        Format::Json => json::render(reports, options, out),
        Format::Sarif => sarif::render(reports, options, out),
        Format::Github => github::render(reports, out),
        Format::Junit => junit::render(reports, out),
    }
}

pub use failure::{Failure, render_failure};
pub use human::render_diagnostic as human_diagnostic;
pub use json::report_value as json_value;
pub use sarif::directory_uri;
