use std::io::Write;

use clap::Args;
use clap_complete::Shell;

use crate::error::Outcome;
use crate::output::Stdout;

/// Print a completion script for SHELL on stdout.
///
/// bash: `govkit completions bash > /etc/bash_completion.d/govkit`;
/// zsh: `govkit completions zsh > "${fpath[1]}/_govkit"`;
/// fish: `govkit completions fish > ~/.config/fish/completions/govkit.fish`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    let mut cmd = crate::cli::command();
    clap_complete::generate(args.shell, &mut cmd, "govkit", &mut out);
    out.flush()?;
    Ok(Outcome::Pass)
}

pub fn run_man() -> anyhow::Result<Outcome> {
    let mut out = Stdout::new();
    clap_mangen::Man::new(crate::cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(Outcome::Pass)
}
