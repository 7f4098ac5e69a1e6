//! `cargo xtask docs`: builds the user documentation (the mdBook in
//! `docs/`) and checks that every link inside it, and every link from
//! README.md into it, resolves: files and `#fragments` alike. Links to
//! other sites are not followed (the machines this runs on reach no web
//! site). Tools: mdBook (`cargo install --locked mdbook@0.5.4
//! --no-default-features --features search`) and linkinator, run with npx
//! (Node.js 20).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// linkinator's last release for Node.js 20 (8.x needs Node.js 22).
const LINKINATOR: &str = "linkinator@7.6.1";

pub fn check(repo: &Path) -> anyhow::Result<()> {
    let docs = repo.join("docs");
    run(
        Command::new("mdbook").arg("build").arg(&docs),
        "mdbook (cargo install --locked mdbook@0.5.4 --no-default-features --features search)",
    )?;
    // The built book: every page, every link between pages and to headings.
    links(repo, &["docs/book", "--recurse"])?;
    // README.md's links into the book's sources (GitHub renders those).
    links(repo, &["README.md", "--markdown"])
}

fn links(repo: &Path, target: &[&str]) -> anyhow::Result<()> {
    run(
        Command::new("npx")
            .args(["--yes", LINKINATOR])
            .args(target)
            // linkinator serves the files on localhost: links elsewhere are
            // other sites.
            .args(["--check-fragments", "--skip", "^https?://(?!localhost)"])
            .args(["--skip", "^mailto:"])
            .current_dir(repo),
        "npx (Node.js 20 and npm)",
    )
}

fn run(cmd: &mut Command, tool: &str) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("running {tool}: is it installed?"))?;
    if !status.success() {
        bail!("{} failed ({status})", cmd.get_program().display());
    }
    Ok(())
}
