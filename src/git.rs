//! Running git, for the commands that read the repository (`lint --staged`,
//! `lint --new-from-rev`, `hook`). A failure is a user-facing error (exit 2)
//! with git's own message and a hint from the caller.

use std::path::Path;
use std::process::Command;

use crate::error::UserError;

/// Runs `git ARGS` in `dir` and returns its stdout; `hint` tells the user
/// what to do when git is missing or fails (e.g. not a repository).
pub fn run(dir: &Path, args: &[&str], hint: &str) -> anyhow::Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            UserError::new(
                format!("cannot run git: {e}"),
                format!("install git; {hint}"),
            )
        })?;
    if !out.status.success() {
        return Err(UserError::new(
            format!(
                "git {} failed in {}: {}",
                args.join(" "),
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint,
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
