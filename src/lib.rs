//! govkit's command-line front end: argument parsing, configuration,
//! dispatch and report output. Every real capability lives in a library
//! crate (`diagnostics`, …); this crate is glue.
#![deny(missing_docs)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::FromArgMatches as _;

pub mod cli;
mod commands;
pub mod config;
pub mod error;
mod gates;
mod git;
pub mod output;

use cli::{Cli, GlobalArgs};
use error::{EXIT_ERROR, UserError};

/// What every command gets: the parsed global options and the directory
/// govkit was started in.
#[derive(Debug)]
pub struct Context {
    /// Global options.
    pub global: GlobalArgs,
    /// The working directory.
    pub cwd: PathBuf,
}

impl Context {
    /// `path` as shown to the user: relative to the working directory
    /// where it is under it, `/`-separated.
    #[must_use]
    pub fn shown(&self, path: &std::path::Path) -> String {
        self.shown_path(path).to_string_lossy().replace('\\', "/")
    }

    /// `path` relative to the working directory where it is under it.
    #[must_use]
    pub fn shown_path(&self, path: &std::path::Path) -> PathBuf {
        path.strip_prefix(&self.cwd)
            .map_or_else(|_| path.to_path_buf(), std::path::Path::to_path_buf)
    }

    /// The configuration: from `--config`, or found from the cwd upward.
    pub fn config(&self) -> anyhow::Result<config::Config> {
        Ok(config::load(self.global.config.as_deref(), &self.cwd)?)
    }

    /// The configuration, which must exist (commands that gate on it).
    pub fn required_config(&self) -> anyhow::Result<config::Config> {
        let config = self.config()?;
        if config.file.is_none() {
            return Err(UserError::new(
                format!(
                    "no {} found in {} or any parent directory",
                    config::FILE_NAME,
                    self.cwd.display()
                ),
                "run `govkit init` to write a starter configuration, or pass --config FILE",
            )
            .into());
        }
        Ok(config)
    }
}

/// Parses the command line, runs the command and returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    // Parsed through the matches so the command's name is clap's own (for
    // the --format error document).
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // --help and --version are successes on stdout; everything else
            // is a usage error, exit 2.
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            // A closed pipe (`govkit --help | head`) is not an error.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(&cli.global);
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            report_error(
                &anyhow::anyhow!("cannot determine the current directory: {e}"),
                &cli.global,
            );
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let ctx = Context {
        global: cli.global,
        cwd,
    };
    let name = matches.subcommand_name().unwrap_or("govkit");
    match commands::run(&ctx, cli.command) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            report_error(&e, &ctx.global);
            failure_document(&ctx, name, &e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// With a machine-readable `--format`, the error as a document on stdout
/// (the file and line where known), so a CI step that parses stdout reads
/// that the run stopped and why.
fn failure_document(ctx: &Context, command: &str, err: &anyhow::Error) {
    let Some(format) = ctx.global.format.filter(|f| *f != cli::OutputFormat::Human) else {
        return;
    };
    let (message, hint, file) = if let Some(ce) = err.downcast_ref::<config::ConfigError>() {
        (
            ce.to_string(),
            None,
            Some((ctx.shown(&ce.path), ce.line_column().map(|(l, _)| l))),
        )
    } else {
        let user = err.chain().find_map(|e| e.downcast_ref::<UserError>());
        (
            format!("{err:#}"),
            user.and_then(|u| u.hint.clone()),
            user.and_then(|u| u.file.clone()),
        )
    };
    let failure = diagnostics::render::Failure {
        command: command.to_owned(),
        message,
        hint,
        file: file.as_ref().map(|(f, _)| f.clone()),
        line: file.and_then(|(_, l)| l),
        exit_code: EXIT_ERROR,
    };
    let options = commands::render_options(ctx, false);
    let mut out = output::Stdout::new();
    // A closed stdout leaves nobody to tell.
    if diagnostics::render::render_failure(format.into(), &failure, &options, &mut out).is_ok() {
        let _ = out.flush();
    }
}

fn init_logging(global: &GlobalArgs) {
    use tracing::Level;
    let level = match (global.quiet, global.verbose) {
        (q, _) if q > 0 => Level::ERROR,
        (_, 0) => Level::WARN,
        (_, 1) => Level::INFO,
        (_, 2) => Level::DEBUG,
        _ => Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_color(global.color))
        .without_time()
        .with_target(false)
        .init();
}

/// Prints an error that stops a command (exit 2) on stderr: a configuration
/// error as a code frame at the offending key, anything else as
/// `error: message` with its causes and, when there is one, a hint.
pub(crate) fn report_error(err: &anyhow::Error, global: &GlobalArgs) {
    // `-qq`: silence; the exit code (and a --format document) still tell.
    if global.quiet >= 2 {
        return;
    }
    let color = output::stderr_color(global.color);
    let mut stderr = std::io::stderr().lock();
    let text = if let Some(ce) = err.downcast_ref::<config::ConfigError>() {
        config_error_frame(ce, color)
    } else {
        let mut text = format!("error: {err:#}");
        if let Some(hint) = err
            .chain()
            .find_map(|e| e.downcast_ref::<UserError>())
            .and_then(|u| u.hint.as_ref())
        {
            text.push_str("\nhint: ");
            text.push_str(hint);
        }
        text
    };
    // Nothing is left to tell if stderr itself is gone.
    let _ = writeln!(stderr, "{text}");
}

fn config_error_frame(ce: &config::ConfigError, color: bool) -> String {
    use diagnostics::{Diagnostic, Location, Report, Severity};
    let path = ce.path.display().to_string();
    let mut report = Report::new("config");
    let mut d = Diagnostic::new("config-invalid", Severity::Error, ce.to_string());
    if let (Some(text), Some(span)) = (&ce.text, &ce.span) {
        report.add_source(path.clone(), text.as_str());
        d = d
            .with_location(Location::from_span(path, text, span.clone()))
            .with_label(ce.message.clone());
    }
    d = d.with_help(
        "see the configuration reference (docs/src/configuration.md in the govkit repository), or `govkit init` for a commented example",
    );
    diagnostics::render::human_diagnostic(&report, &d, color)
}
