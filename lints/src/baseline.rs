//! Baselines for adopting govkit on legacy code: record today's findings,
//! then report only new ones. A finding is identified by rule, path, the
//! normalised text of the code it points at, and which occurrence of that
//! text it is, so unrelated edits that move lines do not resurrect it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use diagnostics::Diagnostic;
use serde::{Deserialize, Serialize};

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// Rule name.
    pub rule: String,
    /// Display path.
    pub path: String,
    /// The flagged code with whitespace collapsed.
    pub snippet: String,
    /// 0 for the first finding of this rule on this snippet in this file, 1 for the second, …
    pub occurrence: u32,
}

/// A baseline file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// Recorded findings.
    pub findings: Vec<Fingerprint>,
}

/// A baseline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Unreadable.
    #[error("cannot read baseline {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a baseline.
    #[error("{path} is not a govkit baseline: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

const VERSION: u32 = 1;

fn snippet(d: &Diagnostic, source: &str) -> String {
    let text = d
        .location
        .as_ref()
        .and_then(|l| l.span.clone())
        .and_then(|s| source.get(s))
        .unwrap_or(d.message.as_str());
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fingerprints of `findings`, in order. `source_of` gives a file's text.
pub fn fingerprints<'a>(
    findings: &[Diagnostic],
    source_of: impl Fn(&str) -> Option<&'a str>,
) -> Vec<Fingerprint> {
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    findings
        .iter()
        .map(|d| {
            let path = d
                .location
                .as_ref()
                .map(|l| l.path.clone())
                .unwrap_or_default();
            let snippet = snippet(d, source_of(&path).unwrap_or(""));
            let n = seen
                .entry((d.code.clone(), path.clone(), snippet.clone()))
                .or_insert(0);
            let fp = Fingerprint {
                rule: d.code.clone(),
                path,
                snippet,
                occurrence: *n,
            };
            *n += 1;
            fp
        })
        .collect()
}

impl Baseline {
    /// A baseline recording `findings`.
    #[must_use]
    pub fn new(findings: Vec<Fingerprint>) -> Self {
        Baseline {
            version: VERSION,
            findings,
        }
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| BaselineError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if b.version != VERSION {
            return Err(BaselineError::Parse {
                path: path.to_path_buf(),
                reason: format!(
                    "version {} is not supported (expected {VERSION})",
                    b.version
                ),
            });
        }
        Ok(b)
    }

    /// Splits `findings` into those not in the baseline (kept, returned)
    /// and those it covers; also returns how many baseline entries matched
    /// nothing (fixed since the baseline was written).
    #[must_use]
    pub fn filter(
        &self,
        findings: Vec<Diagnostic>,
        fps: &[Fingerprint],
    ) -> (Vec<Diagnostic>, usize, usize) {
        let mut remaining: HashMap<&Fingerprint, usize> = HashMap::new();
        for fp in &self.findings {
            *remaining.entry(fp).or_insert(0) += 1;
        }
        let mut kept = Vec::new();
        let mut covered = 0;
        for (d, fp) in findings.into_iter().zip(fps) {
            match remaining.get_mut(fp) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    covered += 1;
                }
                _ => kept.push(d),
            }
        }
        let fixed = remaining.values().sum();
        (kept, covered, fixed)
    }
}
