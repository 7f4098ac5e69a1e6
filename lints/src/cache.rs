//! A per-file result cache, so re-linting an unchanged workspace costs a
//! hash per file instead of a parse. An entry is keyed on everything that
//! decides the result: govkit's version, the settings, the file's display
//! path and kind, and its content.

use std::io::Write;
use std::path::{Path, PathBuf};

use diagnostics::{Diagnostic, Location, Severity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::{Conditions, FileKind, FileLint};
use crate::modtree::Decl;
use crate::signatures::FileSigs;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The entries' layout, part of every key: builds of one version that store
/// different things never read each other's entries.
const FORMAT: u32 = 2;

/// A cache directory and the salt (version + settings) of this run.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    salt: Vec<u8>,
}

/// One file's entry: its findings, the conditions some of them hold under
/// (decided by the workspace's signatures of each run), and what the run
/// needs of the file besides: its signatures (when the run that stored it
/// read them) and module declarations. A hit costs no parse and no scan.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    conditions: Conditions,
    findings: Vec<Entry>,
    sigs: Option<FileSigs>,
    decls: Option<Vec<Decl>>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    code: String,
    severity: Severity,
    message: String,
    help: Option<String>,
    fields: Map<String, Value>,
    location: Option<CachedLocation>,
    #[serde(default)]
    related: Vec<(CachedLocation, String)>,
}

#[derive(Serialize, Deserialize)]
struct CachedLocation {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    span: Option<(usize, usize)>,
}

impl CachedLocation {
    fn at(self, path: &str) -> Location {
        Location {
            path: path.to_owned(),
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            span: self.span.map(|(a, b)| a..b),
        }
    }
}

impl From<&Location> for CachedLocation {
    fn from(l: &Location) -> Self {
        CachedLocation {
            line: l.line,
            column: l.column,
            end_line: l.end_line,
            end_column: l.end_column,
            span: l.span.as_ref().map(|r| (r.start, r.end)),
        }
    }
}

impl Cache {
    /// A cache in `dir` for runs with these `settings` (their `Debug` form
    /// is part of every key, as is `version`).
    #[must_use]
    pub fn new(dir: PathBuf, version: &str, settings: &crate::Settings) -> Self {
        let salt = format!("{version}\n{FORMAT}\n{settings:?}\n").into_bytes();
        Cache { dir, salt }
    }

    /// Where the entry for this file version lives.
    pub(crate) fn key(&self, path: &str, kind: FileKind, content: &[u8]) -> PathBuf {
        let mut h = Sha256::new();
        h.update(&self.salt);
        h.update(path.as_bytes());
        h.update([0, kind as u8]);
        h.update(content);
        let digest = h.finalize();
        let hex: String = digest
            .iter()
            .flat_map(|b| {
                [
                    HEX_DIGITS[usize::from(b >> 4)],
                    HEX_DIGITS[usize::from(b & 0xf)],
                ]
            })
            .map(char::from)
            .collect();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// The cached result at `key` for the file shown as `path`, if any.
    pub(crate) fn load(key: &Path, path: &str) -> Option<FileLint> {
        let bytes = std::fs::read(key).ok()?;
        let file: CacheFile = serde_json::from_slice(&bytes).ok()?;
        Some(FileLint {
            diags: file
                .findings
                .into_iter()
                .map(|e| Diagnostic {
                    code: e.code,
                    severity: e.severity,
                    message: e.message,
                    location: e.location.map(|l| l.at(path)),
                    label: None,
                    help: e.help,
                    related: e
                        .related
                        .into_iter()
                        .map(|(l, message)| diagnostics::Related {
                            location: l.at(path),
                            message,
                        })
                        .collect(),
                    fields: e.fields,
                })
                .collect(),
            fixes: Vec::new(),
            conditions: file.conditions,
            sigs: file.sigs,
            decls: file.decls,
        })
    }

    /// Stores a file's result. A cache that cannot be written only makes
    /// the next run slower, so callers count failures rather than stop.
    pub(crate) fn store(key: &Path, lint: &FileLint) -> std::io::Result<()> {
        let entries: Vec<Entry> = lint
            .diags
            .iter()
            .map(|d| Entry {
                code: d.code.clone(),
                severity: d.severity,
                message: d.message.clone(),
                help: d.help.clone(),
                fields: d.fields.clone(),
                location: d.location.as_ref().map(CachedLocation::from),
                related: d
                    .related
                    .iter()
                    .map(|r| (CachedLocation::from(&r.location), r.message.clone()))
                    .collect(),
            })
            .collect();
        write(
            key,
            &CacheFile {
                conditions: lint.conditions.clone(),
                findings: entries,
                sigs: lint.sigs.clone(),
                decls: lint.decls.clone(),
            },
        )
    }
}

fn write(key: &Path, entries: &CacheFile) -> std::io::Result<()> {
    let dir = key.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Write beside and rename: a concurrent reader sees all or nothing.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(&serde_json::to_vec(entries).map_err(std::io::Error::other)?)?;
    tmp.persist(key).map_err(|e| e.error)?;
    Ok(())
}
