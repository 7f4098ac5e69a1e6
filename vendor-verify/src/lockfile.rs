//! The parts of `Cargo.lock` that say what a vendor tree must contain.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::Error;

/// One `[[package]]` of the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// The package name.
    pub name: String,
    /// The exact version.
    pub version: String,
    /// `registry+…`, `sparse+…` or `git+…`; `None` for workspace and path
    /// packages, which are never vendored.
    pub source: Option<String>,
    /// sha256 of the `.crate` file, for registry packages.
    pub checksum: Option<String>,
}

impl LockedPackage {
    /// Whether `cargo vendor` copies this package into the vendor tree.
    #[must_use]
    pub fn is_vendored(&self) -> bool {
        self.source.as_deref().is_some_and(|s| {
            s.starts_with("registry+") || s.starts_with("sparse+") || s.starts_with("git+")
        })
    }

    /// Whether the package comes from a git repository (no package checksum).
    #[must_use]
    pub fn is_git(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.starts_with("git+"))
    }
}

/// A parsed lock file.
#[derive(Debug, Clone)]
pub struct Lockfile {
    /// Every package, in file order.
    pub packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct RawLock {
    #[serde(default)]
    package: Vec<RawPackage>,
    /// Lock format v1 kept checksums here: `"checksum NAME VERSION (SOURCE)" = HEX`.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

impl Lockfile {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Lockfile, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, &e))?;
        Lockfile::parse(&text).map_err(|message| Error::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses lock-file text; the error names the line and column.
    pub fn parse(text: &str) -> Result<Lockfile, String> {
        // An unresolved merge is the common way a lock file stops parsing.
        if let Some(line) = text
            .lines()
            .position(|l| l.starts_with("<<<<<<< ") || l == "<<<<<<<" || l.starts_with(">>>>>>> "))
        {
            return Err(format!(
                "line {}: merge-conflict markers (an unresolved merge)",
                line + 1
            ));
        }
        let raw: RawLock = toml::from_str(text).map_err(|e| toml_message(text, &e))?;
        let mut packages = Vec::with_capacity(raw.package.len());
        for p in raw.package {
            let checksum = match p.checksum {
                Some(c) => Some(c),
                None => v1_checksum(&raw.metadata, &p),
            };
            if let Some(c) = &checksum
                && !is_sha256_hex(c)
            {
                return Err(format!(
                    "package `{} {}`: checksum `{c}` is not a sha256 hex digest",
                    p.name, p.version
                ));
            }
            packages.push(LockedPackage {
                name: p.name,
                version: p.version,
                source: p.source,
                checksum,
            });
        }
        Ok(Lockfile { packages })
    }

    /// The packages `cargo vendor` copies: registry and git sources.
    pub fn vendored(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages.iter().filter(|p| p.is_vendored())
    }
}

fn v1_checksum(metadata: &BTreeMap<String, String>, p: &RawPackage) -> Option<String> {
    let source = p.source.as_deref()?;
    let key = format!("checksum {} {} ({source})", p.name, p.version);
    metadata
        .get(&key)
        .filter(|v| v.as_str() != "<none>")
        .cloned()
}

/// `line:column: message` for a TOML error.
pub(crate) fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {msg}")
        }
        None => msg.to_owned(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, rest)| rest)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// 64 lowercase hex digits.
#[must_use]
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_and_v1_checksums() {
        let v4 = r#"
version = 4
[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000001"
[[package]]
name = "local"
version = "0.1.0"
"#;
        let lock = Lockfile::parse(v4).expect("parses");
        assert_eq!(lock.vendored().count(), 1);
        assert_eq!(
            lock.packages[0].checksum.as_deref(),
            Some("0000000000000000000000000000000000000000000000000000000000000001")
        );

        let v1 = r#"
[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
[metadata]
"checksum a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "00000000000000000000000000000000000000000000000000000000000000ff"
"#;
        let lock = Lockfile::parse(v1).expect("parses");
        assert_eq!(
            lock.packages[0].checksum.as_deref(),
            Some("00000000000000000000000000000000000000000000000000000000000000ff")
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = Lockfile::parse("[[package]]\nname = 1\n").expect_err("bad type");
        assert!(err.starts_with("line 2"), "{err}");
        let err = Lockfile::parse(
            "[[package]]\nname = \"a\"\nversion = \"1\"\nsource = \"git+x\"\nchecksum = \"zz\"\n",
        )
        .expect_err("bad checksum");
        assert!(err.contains("not a sha256"), "{err}");
    }
}
