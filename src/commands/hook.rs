use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::Context;
use crate::error::{Outcome, UserError};

/// Manage the git pre-commit hook that runs `govkit lint --staged`.
///
/// The hook lints exactly what is about to be committed (the staged
/// content, not the working tree) and blocks the commit on an error-level
/// finding. `git commit --no-verify` skips it. Users of the pre-commit
/// framework can use the repository's .pre-commit-hooks.yaml instead.
#[derive(Debug, Args)]
pub struct HookArgs {
    /// What to do with the hook.
    #[command(subcommand)]
    pub action: HookAction,
}

/// Hook actions.
#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Write the pre-commit hook into this repository's hooks directory
    /// (honours core.hooksPath and worktrees).
    Install {
        /// Replace an existing pre-commit hook that govkit did not write.
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-commit hook, if govkit wrote it.
    Uninstall,
}

/// The marker that identifies a hook govkit wrote.
const MARKER: &str = "# installed by `govkit hook install`";

fn script(govkit: &Path) -> String {
    // Prefer the binary that installed the hook; fall back to PATH when it
    // has moved (e.g. after a reinstall to another prefix).
    format!(
        "#!/bin/sh\n{MARKER}: lints the staged Rust code before each commit.\n\
         # Skip once with `git commit --no-verify`; remove with `govkit hook uninstall`.\n\
         GOVKIT='{}'\n\
         [ -x \"$GOVKIT\" ] || GOVKIT=govkit\n\
         exec \"$GOVKIT\" lint --staged\n",
        govkit.display().to_string().replace('\'', "'\\''")
    )
}

pub fn run(ctx: &Context, args: &HookArgs) -> anyhow::Result<Outcome> {
    let hooks = hooks_dir(&ctx.cwd)?;
    let hook = hooks.join("pre-commit");
    let ours = std::fs::read_to_string(&hook).is_ok_and(|t| t.contains(MARKER));
    match args.action {
        HookAction::Install { force } => {
            if hook.exists() && !ours && !force {
                return Err(UserError::new(
                    format!("{} exists and was not written by govkit", hook.display()),
                    "add `govkit lint --staged` to it yourself, or pass --force to replace it",
                )
                .into());
            }
            std::fs::create_dir_all(&hooks)
                .with_context(|| format!("cannot create {}", hooks.display()))?;
            let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("govkit"));
            crate::output::write_file(
                &hook,
                script(&exe).as_bytes(),
                crate::output::Existing::Replace,
                true,
            )?;
            crate::output::status(ctx.global.quiet, &format!("installed {}", hook.display()));
        }
        HookAction::Uninstall => {
            if !hook.exists() {
                crate::output::status(
                    ctx.global.quiet,
                    &format!("no pre-commit hook at {}", hook.display()),
                );
            } else if !ours {
                return Err(UserError::new(
                    format!(
                        "{} was not written by govkit; leaving it alone",
                        hook.display()
                    ),
                    "edit or delete it yourself",
                )
                .into());
            } else {
                std::fs::remove_file(&hook)
                    .with_context(|| format!("cannot remove {}", hook.display()))?;
                crate::output::status(ctx.global.quiet, &format!("removed {}", hook.display()));
            }
        }
    }
    Ok(Outcome::Pass)
}

/// The hooks directory git uses for this work tree.
fn hooks_dir(cwd: &Path) -> anyhow::Result<PathBuf> {
    let out = crate::git::run(
        cwd,
        &["rev-parse", "--git-path", "hooks"],
        "run `govkit hook install` from inside the repository",
    )?;
    let path = out.trim().to_owned();
    Ok(cwd.join(path))
}
