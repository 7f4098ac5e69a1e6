//! Where output goes: stdout for results, stderr for logs, and the rules
//! for colour and closed pipes.

use std::io::{self, IsTerminal, Write};

use crate::cli::ColorChoice;

/// stdout, where a closed pipe (`govkit lint | head`) is not an error: the
/// reader has what it wanted, so further output is dropped quietly and the
/// command still exits with its verdict.
#[derive(Debug)]
pub struct Stdout {
    inner: io::Stdout,
    closed: bool,
}

impl Stdout {
    /// A handle on the process's stdout.
    #[must_use]
    pub fn new() -> Self {
        Stdout {
            inner: io::stdout(),
            closed: false,
        }
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// Whether to colour a stream, given the user's choice and whether the
/// stream is a terminal. `NO_COLOR` (no-color.org) turns `auto` off.
#[must_use]
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Colour for stdout.
#[must_use]
pub fn stdout_color(choice: ColorChoice) -> bool {
    use_color(choice, io::stdout().is_terminal())
}

/// Colour for stderr.
#[must_use]
pub fn stderr_color(choice: ColorChoice) -> bool {
    use_color(choice, io::stderr().is_terminal())
}

/// A one-line status message for a person (`wrote govkit.toml`), on stderr
/// so stdout stays clean for results; silent under `-q`.
pub fn status(quiet: u8, message: &str) {
    if quiet > 0 {
        return;
    }
    let mut stderr = io::stderr().lock();
    // If stderr itself is gone there is nobody left to tell.
    if writeln!(stderr, "{message}").is_err() {}
}

/// What [`write_file`] does when `path` already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it, keeping its permissions.
    Replace,
    /// Fail: never overwrite (e.g. a user's govkit.toml).
    Keep,
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename: readers see the old content or the new, never a
/// half-written file. `executable` sets mode 0755 (hooks).
pub fn write_file(
    path: &std::path::Path,
    bytes: &[u8],
    existing: Existing,
    executable: bool,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let permissions = if executable {
        executable_permissions()
    } else {
        // Keep the replaced file's permissions.
        std::fs::metadata(path).ok().map(|m| m.permissions())
    };
    if let Some(p) = permissions {
        std::fs::set_permissions(tmp.path(), p)
            .with_context(|| format!("cannot set permissions for {}", path.display()))?;
    }
    let persisted = match existing {
        Existing::Replace => tmp.persist(path),
        Existing::Keep => tmp.persist_noclobber(path),
    };
    persisted.map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(unix)]
#[expect(
    clippy::unnecessary_wraps,
    reason = "mirrors the non-unix variant, which has no execute bit to set"
)]
fn executable_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o755))
}

/// Windows has no execute bit: git runs any hook file there.
#[cfg(not(unix))]
fn executable_permissions() -> Option<std::fs::Permissions> {
    None
}

/// [`write_file`] replacing whatever is there.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_file(path, bytes, Existing::Replace, false)
}

/// A progress bar on stderr for `len` items of long work; hidden unless
/// stderr is a terminal (CI logs and pipes get no control sequences) and
/// under `-q`.
#[must_use]
pub fn progress(ctx: &crate::Context, len: usize, what: &'static str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    // Small jobs finish before a bar would be readable.
    if ctx.global.quiet > 0 || len < 200 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} files") {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}
