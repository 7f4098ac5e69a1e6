//! Errors that reach the user, and the exit codes they map to.

use std::fmt;

/// Exit codes shared by every command (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed: exit 0.
    Pass,
    /// A gate failed (findings, verification failure, budget exceeded): exit 1.
    GateFailed,
    /// A command govkit was to run could not be started, already reported
    /// on stderr: 127 when it was not found, 126 when it could not be
    /// executed, as shells, `env` and numactl answer.
    CommandNotRun(u8),
}

/// Exit code for usage, input or environment errors.
pub const EXIT_ERROR: u8 = 2;

impl Outcome {
    /// A gate's verdict: failed when the report has an error-level finding.
    #[must_use]
    pub fn of(report: &diagnostics::Report) -> Outcome {
        if report.failed() {
            Outcome::GateFailed
        } else {
            Outcome::Pass
        }
    }

    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::GateFailed => 1,
            Outcome::CommandNotRun(code) => code,
        }
    }
}

/// An error a user can fix, with a hint saying how. Any `anyhow` chain may
/// carry one; the top-level printer shows the hint after the message.
#[derive(Debug)]
pub struct UserError {
    /// What went wrong.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// The file at fault (as shown to the user) and its line, for the
    /// machine-readable error documents.
    pub file: Option<(String, Option<usize>)>,
}

impl UserError {
    /// An error with a hint.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: Some(hint.into()),
            file: None,
        }
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
