//! The command-line definition. Help text, completions and the man page are
//! all generated from these types, so each flag is described exactly once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Gate and observe Rust services: lint rules, vendored-dependency
/// verification, benchmark budgets, eBPF tracing and NUMA placement.
///
/// Exit codes: 0 pass, 1 a gate failed (findings, verification failure,
/// budget exceeded), 2 usage, input or environment error.
#[derive(Debug, Parser)]
#[command(
    name = "govkit",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file to use instead of searching for govkit.toml (or
    /// `[workspace.metadata.govkit]` in Cargo.toml) from the current directory
    /// upward.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to colour output: `auto` colours when writing to a terminal and
    /// `NO_COLOR` is unset.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Output format. `human` by default; `json` for scripts; `sarif`,
    /// `github` and `junit` for CI systems (check, lint, vendor, bench and
    /// trace connections; numa and trace sched refuse them).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Print less: only errors on stderr (repeat for silence).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,

    /// Print more on stderr: -v for progress details, -vv for debugging.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable text with code frames.
    Human,
    /// One JSON document on stdout.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// `JUnit` XML, for CI test-report views.
    Junit,
}

impl From<OutputFormat> for diagnostics::render::Format {
    fn from(f: OutputFormat) -> Self {
        use diagnostics::render::Format;
        match f {
            OutputFormat::Human => Format::Human,
            OutputFormat::Json => Format::Json,
            OutputFormat::Sarif => Format::Sarif,
            OutputFormat::Github => Format::Github,
            OutputFormat::Junit => Format::Junit,
        }
    }
}

/// govkit's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every gate configured in govkit.toml, in order: the CI step.
    Check(commands::check::CheckArgs),
    /// Check Rust code against the organisation's lint rules.
    Lint(commands::lint::LintArgs),
    /// Verify vendored dependencies against Cargo.lock, every file checksum
    /// and a signature.
    Vendor(commands::vendor::VendorArgs),
    /// Run criterion benchmarks with allocation budgets and a regression gate.
    Bench(commands::bench::BenchArgs),
    /// NUMA topology, where a process's threads and memory live, and
    /// pinning them to their node.
    Numa(commands::numa::NumaArgs),
    /// eBPF tracers for live hosts: leaked TCP connections with the stack
    /// that opened them.
    Trace(commands::trace::TraceArgs),
    /// Write a commented starter govkit.toml in the current directory.
    Init(commands::init::InitArgs),
    /// Manage the git pre-commit hook that runs `govkit lint --staged`.
    Hook(commands::hook::HookArgs),
    /// Print a shell completion script.
    Completions(commands::completions::CompletionsArgs),
    /// Print govkit's man page (roff) to stdout.
    #[command(name = "man")]
    Man,
}

/// The clap command, for generators (completions, man page) and tests.
#[must_use]
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
