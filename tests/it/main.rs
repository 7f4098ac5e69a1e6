//! End-to-end tests of the govkit binary: exit codes, configuration errors,
//! output formats, closed pipes, init, hooks and `--staged`.
#![expect(
    clippy::missing_panics_doc,
    reason = "test helpers panic on setup failure by design"
)]

mod bench;
mod check;
mod config;
mod deploy;
mod lint;
mod numa;
mod setup;
mod trace;
mod vendor;

use std::path::Path;
use std::process::{Command, Output};

/// Runs govkit in `dir` with `args`.
#[must_use]
pub fn govkit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govkit"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        // Each scratch project keeps its own lint cache under its target/.
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run govkit: {e}"))
}

/// A scratch project with the given files.
#[must_use]
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for (path, text) in files {
        let p = dir.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    }
    dir
}

#[must_use]
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[must_use]
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[must_use]
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub const CLEAN: &str = "pub fn add(a: u8, b: u8) -> Option<u8> {\n    a.checked_add(b)\n}\n";
pub const DIRTY: &str = "pub fn first(v: &[u8]) -> u8 {\n    *v.first().unwrap()\n}\n";
