//! The canonical vendor manifest: the bytes that get signed.
//!
//! Format, version 1 (UTF-8, LF line ends, no trailing spaces):
//!
//! ```text
//! govkit-vendor-manifest 1
//! crate <name> <version> <source> <package-sha256 | ->
//! file <sha256> <path>
//! file <sha256> <path>
//! crate …
//! ```
//!
//! - One `crate` line per vendored package of Cargo.lock, sorted by name,
//!   then version, then source (byte order). `<source>` is Cargo.lock's
//!   (`registry+https://…`, `git+https://…#<rev>`); the package checksum is
//!   Cargo.lock's, `-` for git packages.
//! - After each `crate` line, one `file` line per file of the crate, sorted
//!   by path (byte order), with the sha256 **computed from the file**, not
//!   copied from `.cargo-checksum.json`: a file rewritten together with its
//!   checksum entry changes the manifest and so breaks the signature.
//!   `<path>` is relative to the crate directory, `/`-separated. A control
//!   character in it (cargo packages such names) is written `\u{XX}`; a
//!   backslash never appears (such paths fail verification first), so the
//!   escape reads one way only.
//! - The directory names under `vendor/` are not part of it: cargo finds
//!   crates by their Cargo.toml, so renaming a directory changes nothing.
//!
//! The same tree gives the same bytes on any machine.

use std::collections::BTreeMap;

use crate::verify::Verification;
use crate::{Kind, Problem};

/// The first line, naming the format version.
pub const HEADER: &str = "govkit-vendor-manifest 1";

/// Renders the manifest of a verified tree.
///
/// Only meaningful for a tree that passed verification
/// ([`Verification::ok`]); callers must not sign a tree with problems.
#[must_use]
pub fn render(verification: &Verification) -> String {
    let files: usize = verification.crates.iter().map(|c| c.files.len()).sum();
    let mut out = String::with_capacity(32 + verification.crates.len() * 160 + files * 100);
    out.push_str(HEADER);
    out.push('\n');
    for c in &verification.crates {
        out.push_str("crate ");
        out.push_str(&c.name);
        out.push(' ');
        out.push_str(&c.version);
        out.push(' ');
        out.push_str(&c.source);
        out.push(' ');
        out.push_str(c.package_checksum.as_deref().unwrap_or("-"));
        out.push('\n');
        for (path, sum) in &c.files {
            out.push_str("file ");
            out.push_str(sum);
            out.push(' ');
            out.push_str(&escape_path(path));
            out.push('\n');
        }
    }
    out
}

/// A file path as the manifest and reports write it: control characters
/// (a newline would end the line) as `\u{XX}`, everything else as is.
#[must_use]
pub fn escape_path(path: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    if !path.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if c.is_control() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One crate of a manifest: source, package checksum, files.
#[derive(Debug, Default, PartialEq, Eq)]
struct Entry<'a> {
    head: &'a str,
    files: BTreeMap<&'a str, &'a str>,
}

/// Parses manifest text into `name@version` → entry; `Err` names the line.
fn parse(text: &str) -> Result<BTreeMap<String, Entry<'_>>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, HEADER)) => {}
        _ => return Err(format!("line 1: expected `{HEADER}`")),
    }
    let mut out: BTreeMap<String, Entry<'_>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, line) in lines {
        if let Some(rest) = line.strip_prefix("crate ") {
            let mut parts = rest.splitn(3, ' ');
            let (Some(name), Some(version), Some(head)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "line {}: a crate line is `crate NAME VERSION SOURCE SUM`",
                    i + 1
                ));
            };
            let id = format!("{name}@{version}");
            out.insert(
                id.clone(),
                Entry {
                    head,
                    files: BTreeMap::new(),
                },
            );
            current = Some(id);
        } else if let Some(rest) = line.strip_prefix("file ") {
            let (Some((sum, path)), Some(id)) = (rest.split_once(' '), current.as_ref()) else {
                return Err(format!(
                    "line {}: a file line is `file SHA256 PATH` after a crate line",
                    i + 1
                ));
            };
            if let Some(e) = out.get_mut(id) {
                e.files.insert(path, sum);
            }
        } else {
            return Err(format!("line {}: not a crate or file line", i + 1));
        }
    }
    Ok(out)
}

/// What differs between a signed manifest and the tree's current one, as
/// problems naming the crate and file: a precise answer to "the signature
/// does not verify".
pub fn diff(signed: &str, verification: &Verification) -> Result<Vec<Problem>, String> {
    let current_text = render(verification);
    let old = parse(signed)?;
    let new = parse(&current_text)?;
    let dir_of = |id: &str| {
        verification
            .crates
            .iter()
            .find(|c| format!("{}@{}", c.name, c.version) == id)
            .map(|c| c.dir.clone())
    };
    let problem = |id: &str, path: Option<String>, detail: String| Problem {
        kind: Kind::ChangedSinceSigning,
        krate: Some(id.to_owned()),
        path,
        detail,
    };
    let mut out = Vec::new();
    // A crate signed at one version and vendored at another is one change
    // (`itoa 1.0.16 → 1.0.19`), not a removal and an addition.
    let name = |id: &str| id.rsplit_once('@').map_or(id, |(n, _)| n).to_owned();
    let gone: Vec<&String> = old.keys().filter(|id| !new.contains_key(*id)).collect();
    let added: Vec<&String> = new.keys().filter(|id| !old.contains_key(*id)).collect();
    let once = |ids: &[&String], n: &str| ids.iter().filter(|id| name(id) == n).count() == 1;
    let mut bumped: Vec<(&String, &String)> = Vec::new();
    for g in &gone {
        let n = name(g);
        if let Some(a) = added.iter().find(|a| name(a) == n)
            && once(&gone, &n)
            && once(&added, &n)
        {
            bumped.push((g, a));
        }
    }
    for (g, a) in &bumped {
        let version = |id: &str| id.rsplit_once('@').map_or("", |(_, v)| v).to_owned();
        out.push(problem(
            a,
            dir_of(a),
            format!("{} {} → {} since signing", name(g), version(g), version(a)),
        ));
    }
    let is_bumped = |id: &String| bumped.iter().any(|(g, a)| *g == id || *a == id);
    for (id, o) in &old {
        let Some(n) = new.get(id) else {
            if !is_bumped(id) {
                out.push(problem(
                    id,
                    None,
                    "signed, but no longer vendored".to_owned(),
                ));
            }
            continue;
        };
        let dir = dir_of(id);
        let at = |p: &str| dir.as_ref().map(|d| format!("{d}/{p}"));
        if o.head != n.head {
            out.push(problem(
                id,
                dir.clone(),
                format!(
                    "source or package checksum changed: signed `{}`, now `{}`",
                    o.head, n.head
                ),
            ));
        }
        for (path, sum) in &o.files {
            match n.files.get(path) {
                None => out.push(problem(
                    id,
                    at(path),
                    "signed, but the file is gone".to_owned(),
                )),
                Some(now) if now != sum => out.push(problem(
                    id,
                    at(path),
                    format!("content changed since signing: signed sha256 {sum}, now {now}"),
                )),
                Some(_) => {}
            }
        }
        for path in n.files.keys().filter(|p| !o.files.contains_key(*p)) {
            out.push(problem(id, at(path), "added after signing".to_owned()));
        }
    }
    for id in added.into_iter().filter(|id| !is_bumped(id)) {
        out.push(problem(id, dir_of(id), "vendored after signing".to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::CrateRecord;

    fn record(name: &str, version: &str, files: &[(&str, &str)]) -> CrateRecord {
        CrateRecord {
            name: name.into(),
            version: version.into(),
            source: "registry+https://github.com/rust-lang/crates.io-index".into(),
            package_checksum: Some(version.replace('.', "").repeat(8)),
            dir: name.into(),
            files: files
                .iter()
                .map(|(p, s)| ((*p).to_owned(), (*s).repeat(32)))
                .collect(),
        }
    }

    #[test]
    fn a_version_bump_is_one_change_and_files_are_named() {
        let signed = render(&Verification {
            crates: vec![
                record("hex", "0.4.3", &[("src/lib.rs", "01")]),
                record("itoa", "1.0.16", &[("src/lib.rs", "02")]),
            ],
            ..Verification::default()
        });
        let now = Verification {
            crates: vec![
                record(
                    "hex",
                    "0.4.3",
                    &[("src/lib.rs", "03"), ("src/new.rs", "04")],
                ),
                record("itoa", "1.0.19", &[("src/lib.rs", "05")]),
                record("ryu", "1.0.0", &[("src/lib.rs", "06")]),
            ],
            ..Verification::default()
        };
        let changes: Vec<(Option<String>, Option<String>, String)> = diff(&signed, &now)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.krate, p.path, p.detail))
            .collect();
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            changes,
            [
                (
                    s("itoa@1.0.19"),
                    s("itoa"),
                    "itoa 1.0.16 → 1.0.19 since signing".to_owned()
                ),
                (
                    s("hex@0.4.3"),
                    s("hex/src/lib.rs"),
                    format!(
                        "content changed since signing: signed sha256 {}, now {}",
                        "01".repeat(32),
                        "03".repeat(32)
                    )
                ),
                (
                    s("hex@0.4.3"),
                    s("hex/src/new.rs"),
                    "added after signing".to_owned()
                ),
                (
                    s("ryu@1.0.0"),
                    s("ryu"),
                    "vendored after signing".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn format() {
        let v = Verification {
            crates: vec![CrateRecord {
                name: "a".into(),
                version: "1.0.0".into(),
                source: "registry+https://github.com/rust-lang/crates.io-index".into(),
                package_checksum: Some("ab".repeat(32)),
                dir: "a".into(),
                files: vec![
                    ("Cargo.toml".into(), "01".repeat(32)),
                    ("src/lib.rs".into(), "02".repeat(32)),
                ],
            }],
            ..Verification::default()
        };
        let text = render(&v);
        let expected = format!(
            "govkit-vendor-manifest 1\ncrate a 1.0.0 registry+https://github.com/rust-lang/crates.io-index {}\nfile {} Cargo.toml\nfile {} src/lib.rs\n",
            "ab".repeat(32),
            "01".repeat(32),
            "02".repeat(32)
        );
        assert_eq!(text, expected);
    }
}
