//! Which files are linted, and linting many of them in parallel.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use diagnostics::{Diagnostic, Location, Severity};
use rayon::prelude::*;

use crate::engine::{FileKind, FileLint, Linter};
use crate::signatures::FileSigs;
use crate::{Cache, Signatures};

/// One file to lint.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where to read it.
    pub path: PathBuf,
    /// How it is shown and matched against globs (relative, `/`-separated).
    pub display: String,
    /// Test code as a whole, or not.
    pub kind: FileKind,
}

impl SourceFile {
    /// A file, classified by its path: under `tests/`, `benches/`,
    /// `examples/` or cargo-fuzz's `fuzz_targets/` it is test code.
    /// [`lint_files`] refines this from the module tree (as
    /// [`classify`](crate::classify) does on its own).
    #[must_use]
    pub fn new(path: PathBuf, display: String) -> Self {
        let kind = if display
            .split('/')
            .any(|c| matches!(c, "tests" | "benches" | "examples" | "fuzz_targets"))
        {
            FileKind::Test
        } else {
            FileKind::Library
        };
        SourceFile {
            path,
            display,
            kind,
        }
    }
}

/// A file that could not be read: the run is incomplete, so the gate could
/// not run (exit 2), never a pass.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct FileError {
    /// The file.
    pub path: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The outcome of linting a set of files.
#[derive(Debug, Default)]
pub struct LintRun {
    /// Findings, sorted by path and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Text of every file with findings, for code frames.
    pub sources: Vec<(String, Arc<str>)>,
    /// Files linted.
    pub files: usize,
    /// Files that could not be read.
    pub errors: Vec<FileError>,
    /// Files whose findings came from the cache.
    pub cache_hits: usize,
    /// Cache entries that could not be written.
    pub cache_write_errors: usize,
}

/// Path as shown: relative to `base` when under it, `/`-separated.
fn display_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// The `.rs` files under `roots` (files are taken as given), honouring
/// `.gitignore`, `.ignore` and git's excludes, and always skipping `target/`.
/// Paths are displayed relative to `base`.
pub fn discover(roots: &[PathBuf], base: &Path) -> Result<Vec<SourceFile>, FileError> {
    let mut out = Vec::new();
    for root in roots {
        if root.is_file() {
            out.push(SourceFile::new(root.clone(), display_path(root, base)));
            continue;
        }
        if !root.exists() {
            return Err(FileError {
                path: root.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .require_git(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir()) && e.file_name() == "target")
            })
            .build();
        for entry in walker {
            let entry = entry.map_err(|e| FileError {
                path: root.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let is_rs = entry.file_type().is_some_and(|t| t.is_file())
                && entry.path().extension().is_some_and(|x| x == "rs");
            if is_rs {
                let path = entry.into_path();
                let display = display_path(&path, base);
                out.push(SourceFile::new(path, display));
            }
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

/// Lints `files` in parallel. `read` supplies each file's bytes (the working
/// tree, or the git index for `--staged`). Findings that depend on what a
/// function returns are decided at the end, from the signatures of every
/// file read.
pub fn lint_files<R>(
    linter: &Linter,
    files: &[SourceFile],
    cache: Option<&Cache>,
    read: R,
) -> LintRun
where
    R: Fn(&SourceFile) -> std::io::Result<Vec<u8>> + Sync,
{
    lint_files_in(linter, files, cache, read, None)
}

/// [`lint_files`], with the signatures of a larger workspace than `files`
/// (`--staged` lints a few files of a repository whose other files define
/// the functions they call). `None`: the signatures of `files`.
pub fn lint_files_in<R>(
    linter: &Linter,
    files: &[SourceFile],
    cache: Option<&Cache>,
    read: R,
    workspace: Option<&Signatures>,
) -> LintRun
where
    R: Fn(&SourceFile) -> std::io::Result<Vec<u8>> + Sync,
{
    // syn parses recursively; give workers deep stacks so pathological but
    // legal nesting (up to the engine's limit) cannot overflow them.
    let pool = rayon::ThreadPoolBuilder::new().stack_size(64 << 20).build();
    // Largest files first: on few cores, a big file picked up last would
    // leave the other workers idle while it finishes.
    let mut order: Vec<(u64, &SourceFile)> = files
        .iter()
        .filter(|f| !linter.excluded(&f.display))
        .map(|f| (std::fs::metadata(&f.path).map_or(0, |m| m.len()), f))
        .collect();
    order.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    // Each file's signatures are read by the worker that lints it, unless
    // the caller knows the workspace's already or no rule asks.
    let scan = workspace.is_none() && linter.needs_signatures();
    let work = || {
        order
            .par_iter()
            .with_max_len(1)
            .map(|(_, f)| match read(f) {
                Err(source) => Err(FileError {
                    path: f.display.clone(),
                    source,
                }),
                // A bug in the engine (or syn) on one file must not take the
                // run down or look like a pass: it becomes an error naming
                // the file, and the gate cannot pass.
                Ok(bytes) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    lint_cached(linter, cache, f, bytes, scan)
                }))
                .map_err(|payload| FileError {
                    path: f.display.clone(),
                    source: std::io::Error::other(format!(
                        "internal error while linting this file (a govkit bug; please report it with the file): {}",
                        panic_message(payload.as_ref())
                    )),
                }),
            })
            .collect::<Vec<_>>()
    };
    let mut results = match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    let merged;
    let signatures = if let Some(s) = workspace {
        s
    } else {
        // Only the callees that some finding's condition names.
        let wanted: HashSet<String> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|l| l.lint.conditions.iter().map(|(_, c)| c.key.clone()))
            .collect();
        merged = Signatures::merge(
            results
                .iter_mut()
                .filter_map(|r| r.as_mut().ok())
                .filter_map(|l| l.lint.sigs.take())
                .collect(),
            |key| wanted.contains(key),
        );
        &merged
    };
    // Which files are test code or build-script code, from the module
    // declarations the workers read; their findings that rules skip there
    // are dropped.
    let linted: Vec<&SourceFile> = order.iter().map(|(_, f)| *f).collect();
    let paths: Vec<PathBuf> = linted
        .iter()
        .map(|f| crate::modtree::normalize(&f.path))
        .collect();
    let known: HashMap<PathBuf, Option<Vec<crate::modtree::Decl>>> = linted
        .iter()
        .zip(&paths)
        .zip(results.iter_mut())
        .filter(|((f, _), _)| f.kind == FileKind::Library)
        .filter_map(|((_, path), r)| r.as_mut().ok().map(|l| (path.clone(), l.lint.decls.take())))
        .collect();
    let kinds = crate::modtree::reclassify(&known);
    let mut run = LintRun::default();
    for (path, r) in paths.iter().zip(results) {
        match r {
            Err(e) => run.errors.push(e),
            Ok(l) => {
                run.files += 1;
                match l.outcome {
                    CacheOutcome::Hit => run.cache_hits += 1,
                    CacheOutcome::WriteFailed => run.cache_write_errors += 1,
                    CacheOutcome::Stored | CacheOutcome::Off => {}
                }
                let mut diags =
                    crate::engine::resolve(l.lint.diags, &l.lint.conditions, signatures);
                if let Some(kind) = kinds.get(path) {
                    diags.retain(|d| linter.reported_in(&d.code, *kind));
                }
                if !diags.is_empty() {
                    run.sources.push((l.display, l.text));
                }
                run.diagnostics.extend(diags);
            }
        }
    }
    run
}

/// The text a panic was raised with, when it has one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

enum CacheOutcome {
    Off,
    Hit,
    Stored,
    WriteFailed,
}

/// One file linted: findings (some under conditions), its signatures and
/// module declarations.
struct Linted {
    display: String,
    text: Arc<str>,
    lint: FileLint,
    outcome: CacheOutcome,
}

fn lint_cached(
    linter: &Linter,
    cache: Option<&Cache>,
    f: &SourceFile,
    bytes: Vec<u8>,
    scan: bool,
) -> Linted {
    let key = cache.map(|c| c.key(&f.display, f.kind, &bytes));
    if let Some(mut lint) = key.as_ref().and_then(|k| Cache::load(k, &f.display)) {
        let text: Arc<str> = Arc::from(String::from_utf8_lossy(&bytes).into_owned());
        // Stored by a run that did not ask for them (`--staged`).
        if scan && lint.sigs.is_none() {
            lint.sigs = Some(FileSigs::scan(&text));
        }
        return Linted {
            display: f.display.clone(),
            text,
            lint,
            outcome: CacheOutcome::Hit,
        };
    }
    let mut linted = lint_bytes(linter, f, bytes, scan);
    if let Some(key) = key {
        linted.outcome = match Cache::store(&key, &linted.lint) {
            Ok(()) => CacheOutcome::Stored,
            Err(_) => CacheOutcome::WriteFailed,
        };
    }
    linted
}

fn lint_bytes(linter: &Linter, f: &SourceFile, bytes: Vec<u8>, scan: bool) -> Linted {
    match String::from_utf8(bytes) {
        Ok(text) => Linted {
            display: f.display.clone(),
            lint: linter.lint_with_sigs(&f.display, &text, f.kind, scan),
            text: Arc::from(text),
            outcome: CacheOutcome::Off,
        },
        Err(e) => {
            let d = Diagnostic::new(
                "parse-error",
                Severity::Error,
                format!(
                    "this file is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
            .with_location(Location::file(f.display.clone()))
            .with_field("rule", "parse-error");
            Linted {
                display: f.display.clone(),
                text: Arc::from(""),
                lint: FileLint::only(d, None),
                outcome: CacheOutcome::Off,
            }
        }
    }
}
