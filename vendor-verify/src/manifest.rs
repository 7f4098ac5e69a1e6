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
//!   `<path>` is relative to the crate directory, `/`-separated, and never
//!   contains a control character (such paths fail verification first).
//! - The directory names under `vendor/` are not part of it: cargo finds
//!   crates by their Cargo.toml, so renaming a directory changes nothing.
//!
//! The same tree gives the same bytes on any machine.

use crate::verify::Verification;

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
            out.push_str(path);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::CrateRecord;

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
