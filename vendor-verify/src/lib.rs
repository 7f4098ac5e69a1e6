//! Verification of a `cargo vendor` tree.
//!
//! cargo checks vendored files lazily, at build time, only for the crates it
//! builds for the current target, and stops at the first error; it never
//! notices an added file or a file edited together with its
//! `.cargo-checksum.json` entry. This crate checks everything at once:
//!
//! - [`verify::verify_tree`]: every registry and git package of `Cargo.lock`
//!   is vendored and nothing else is; package checksums agree with the lock;
//!   every listed file exists and has its sha256; no unlisted files, no
//!   symlinks, no special files, no listed path escaping its crate.
//! - [`manifest`]: a canonical text committing to every crate and every
//!   file's actual sha256, the thing that gets signed.
//! - [`signature`]: cosign-compatible keyed signatures (ECDSA P-256,
//!   SHA-256, DER, base64) and offline sigstore bundle verification.
//!
//! Nothing outside the vendor tree is opened while verifying it: the tree is
//! walked without following symlinks and files are opened with `O_NOFOLLOW`.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub mod locate;
pub mod lockfile;
pub mod manifest;
pub mod signature;
mod tree;
pub mod verify;

pub use verify::{CrateRecord, Verification, verify_tree};

/// The input errors of the vendor tree alone (checksum files that are not
/// JSON, unreadable directories), for a run that already failed on another
/// input and reports them all at once.
#[must_use]
pub fn tree_input_errors(vendor: &Path) -> Option<Error> {
    tree::scan(vendor, &mut Vec::new()).err()
}

/// Every parser of untrusted bytes, for the fuzz target (`vendor-verify/fuzz`):
/// none may panic, whatever the input.
#[doc(hidden)]
pub fn fuzz_parsers(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        std::hint::black_box(lockfile::Lockfile::parse(text).is_ok());
        std::hint::black_box(tree::parse_checksums(text).is_ok());
        std::hint::black_box(tree::package_id(text).is_ok());
        std::hint::black_box(tree::unsafe_reason(text));
        std::hint::black_box(signature::SigningKey::from_pem(text).is_ok());
        std::hint::black_box(signature::PublicKey::from_pem(text, Path::new("fuzz")).is_ok());
        std::hint::black_box(locate::directory_source_of(text));
    }
    std::hint::black_box(signature::decode_signature(data.to_vec()).is_ok());
}

/// Inputs that could not be read or parsed: the run cannot give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: {message}", path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A file was read but its content is not what it must be.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line or field where known.
        message: String,
    },
    /// Several inputs at once (never nested, never fewer than two).
    #[error("{} inputs cannot be used:\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Several(Vec<Error>),
}

impl Error {
    /// One error for several (flattened); `None` for none.
    #[must_use]
    pub fn all(errors: Vec<Error>) -> Option<Error> {
        let mut flat = flatten(errors);
        if flat.len() <= 1 {
            flat.pop()
        } else {
            Some(Error::Several(flat))
        }
    }

    /// This error and `more`, if any, as one.
    #[must_use]
    pub fn and(self, more: Option<Error>) -> Error {
        match more {
            None => self,
            Some(more) => Error::Several(flatten(vec![self, more])),
        }
    }

    pub(crate) fn read(path: &Path, e: &std::io::Error) -> Error {
        Error::Read {
            path: path.to_path_buf(),
            message: io_message(e),
        }
    }

    /// The file the error is about.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Error::Read { path, .. } | Error::Parse { path, .. } => path,
            Error::Several(all) => all.first().map_or(Path::new(""), Error::path),
        }
    }
}

/// Every error of `errors`, the inner ones of [`Error::Several`] in line.
fn flatten(errors: Vec<Error>) -> Vec<Error> {
    let mut flat = Vec::with_capacity(errors.len());
    for e in errors {
        match e {
            Error::Several(inner) => flat.extend(inner),
            e => flat.push(e),
        }
    }
    flat
}

/// An I/O error without the "(os error N)" noise.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "not found".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
    }
}

/// What kind of problem verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A registry or git package of Cargo.lock has no vendored crate.
    MissingCrate,
    /// A vendored crate is not in Cargo.lock.
    UnlistedCrate,
    /// The vendored crate has the lock's name but another version.
    VersionMismatch,
    /// Two vendored directories hold the same name and version.
    DuplicateCrate,
    /// The package checksum in `.cargo-checksum.json` differs from Cargo.lock's.
    PackageChecksumMismatch,
    /// A vendored crate has no `.cargo-checksum.json`.
    MissingChecksumFile,
    /// A file's sha256 differs from its `.cargo-checksum.json` entry.
    FileChecksumMismatch,
    /// A file listed in `.cargo-checksum.json` does not exist.
    MissingFile,
    /// A file exists that `.cargo-checksum.json` does not list.
    UnlistedFile,
    /// A listed path is absolute, contains `..`, or is not a plain relative path.
    UnsafePath,
    /// A symbolic link inside the vendor tree.
    Symlink,
    /// A FIFO, socket or device node inside the vendor tree.
    SpecialFile,
    /// A directory in the vendor tree without a Cargo.toml (cargo ignores it).
    StrayDirectory,
    /// The signature over the manifest does not verify.
    Signature,
    /// The tree differs from the signed manifest (a file, crate or checksum
    /// changed after signing).
    ChangedSinceSigning,
    /// A git dependency verified without a signature: cargo's checksums
    /// cover its files but nothing records its commit, so a Cargo.lock
    /// moved to another commit without re-vendoring passes (a warning).
    GitCommitUnverified,
}

impl Kind {
    /// Every kind, for rule tables.
    pub const ALL: [Kind; 16] = [
        Kind::MissingCrate,
        Kind::UnlistedCrate,
        Kind::VersionMismatch,
        Kind::DuplicateCrate,
        Kind::PackageChecksumMismatch,
        Kind::MissingChecksumFile,
        Kind::FileChecksumMismatch,
        Kind::MissingFile,
        Kind::UnlistedFile,
        Kind::UnsafePath,
        Kind::Symlink,
        Kind::SpecialFile,
        Kind::StrayDirectory,
        Kind::Signature,
        Kind::ChangedSinceSigning,
        Kind::GitCommitUnverified,
    ];

    /// The kebab-case name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingCrate => "missing-crate",
            Kind::UnlistedCrate => "unlisted-crate",
            Kind::VersionMismatch => "version-mismatch",
            Kind::DuplicateCrate => "duplicate-crate",
            Kind::PackageChecksumMismatch => "package-checksum-mismatch",
            Kind::MissingChecksumFile => "missing-checksum-file",
            Kind::FileChecksumMismatch => "file-checksum-mismatch",
            Kind::MissingFile => "missing-file",
            Kind::UnlistedFile => "unlisted-file",
            Kind::UnsafePath => "unsafe-path",
            Kind::Symlink => "symlink",
            Kind::SpecialFile => "special-file",
            Kind::StrayDirectory => "stray-directory",
            Kind::Signature => "signature",
            Kind::ChangedSinceSigning => "changed-since-signing",
            Kind::GitCommitUnverified => "git-commit-unverified",
        }
    }

    /// One line on what the kind means.
    #[must_use]
    pub fn summary(self) -> &'static str {
        match self {
            Kind::MissingCrate => "a registry or git package of Cargo.lock is not vendored",
            Kind::UnlistedCrate => "a vendored crate is not in Cargo.lock",
            Kind::VersionMismatch => "the vendored crate has another version than Cargo.lock's",
            Kind::DuplicateCrate => "two vendored directories hold the same crate and version",
            Kind::PackageChecksumMismatch => {
                "the package checksum in .cargo-checksum.json differs from Cargo.lock's"
            }
            Kind::MissingChecksumFile => "a vendored crate has no .cargo-checksum.json",
            Kind::FileChecksumMismatch => {
                "a file's sha256 differs from its .cargo-checksum.json entry"
            }
            Kind::MissingFile => "a file listed in .cargo-checksum.json does not exist",
            Kind::UnlistedFile => "a file exists that .cargo-checksum.json does not list",
            Kind::UnsafePath => "a listed path is absolute, has `..` or is otherwise not plain",
            Kind::Symlink => "a symbolic link inside the vendor tree",
            Kind::SpecialFile => "a FIFO, socket or device node inside the vendor tree",
            Kind::StrayDirectory => "a directory without Cargo.toml in the vendor tree",
            Kind::Signature => "the signature over the vendor manifest does not verify",
            Kind::ChangedSinceSigning => "the tree differs from the signed manifest",
            Kind::GitCommitUnverified => {
                "a git dependency's commit can only be checked under a signature"
            }
        }
    }

    /// Whether the problem fails verification (all but stray directories,
    /// which cargo itself ignores).
    #[must_use]
    pub fn is_error(self) -> bool {
        !matches!(self, Kind::StrayDirectory | Kind::GitCommitUnverified)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// What is wrong.
    pub kind: Kind,
    /// `name@version` of the crate, when the problem belongs to one.
    pub krate: Option<String>,
    /// Path relative to the vendor directory (`itoa/src/lib.rs`), when the
    /// problem is about a file or directory in the tree.
    pub path: Option<String>,
    /// What exactly: expected and actual values, or why a path is unsafe.
    pub detail: String,
}
