use std::path::PathBuf;

use clap::Args;

use crate::Context;
use crate::config::{self, FILE_NAME};
use crate::error::{Outcome, UserError};

/// Write a commented starter govkit.toml.
///
/// The file enables the gates that work on any Rust repository, with every
/// setting shown at its default and explained. An existing configuration is
/// never overwritten.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write govkit.toml in (default: the current directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The starter configuration. A test parses it, so it always matches what
/// govkit accepts.
pub const STARTER: &str = include_str!("../../assets/govkit.starter.toml");

pub fn run(ctx: &Context, args: &InitArgs) -> anyhow::Result<Outcome> {
    let dir = args
        .dir
        .as_ref()
        .map_or_else(|| ctx.cwd.clone(), |d| ctx.cwd.join(d));
    if !dir.is_dir() {
        return Err(UserError::new(
            format!("{} is not a directory", dir.display()),
            "create it first, or run `govkit init` inside the repository",
        )
        .into());
    }
    let target = dir.join(FILE_NAME);
    if target.exists() {
        return Err(UserError::new(
            format!("{} already exists; not overwriting it", target.display()),
            "edit it, or delete it first to start over",
        )
        .into());
    }
    let cargo = dir.join("Cargo.toml");
    if let Ok(cfg) = config::load(Some(&cargo), &dir)
        && cfg.file.is_some()
    {
        return Err(UserError::new(
            format!(
                "{} already configures govkit in [workspace.metadata.govkit]",
                cargo.display()
            ),
            "keep the configuration in one place",
        )
        .into());
    }
    // Write a temporary file beside the target and link it into place
    // without clobbering: a crash leaves no half-written govkit.toml, and a
    // file created meanwhile by someone else is not overwritten.
    crate::output::write_file(
        &target,
        STARTER.as_bytes(),
        crate::output::Existing::Keep,
        false,
    )?;
    crate::output::status(
        ctx.global.quiet,
        &format!(
            "wrote {}; `govkit check` now runs the gates it enables",
            target.display()
        ),
    );
    Ok(Outcome::Pass)
}
