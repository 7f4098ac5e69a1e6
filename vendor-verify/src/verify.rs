//! Checking a vendor tree against Cargo.lock and its checksum files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::lockfile::{LockedPackage, Lockfile};
use crate::tree::{self, ScannedCrate};
use crate::{Error, Kind, Problem};

/// A vendored crate that matched a Cargo.lock package, with the sha256 of
/// every listed file as actually computed (not as listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateRecord {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Cargo.lock's source (`registry+…`, `git+…#rev`).
    pub source: String,
    /// Package checksum (sha256 of the `.crate`), `None` for git packages.
    pub package_checksum: Option<String>,
    /// Directory under the vendor dir.
    pub dir: String,
    /// `(path, sha256)` of each file, sorted by path.
    pub files: Vec<(String, String)>,
}

/// The outcome of [`verify_tree`].
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Crates that matched the lock, sorted by name and version.
    pub crates: Vec<CrateRecord>,
    /// Every problem found, sorted.
    pub problems: Vec<Problem>,
    /// Number of vendored crates found.
    pub crate_count: usize,
    /// Number of files found in the vendored crates (listed or not; the
    /// listed ones are hashed).
    pub file_count: usize,
    /// Vendored crates not in Cargo.lock that [`Verification::allow_unlisted`]
    /// set aside (a shared mirror directory).
    pub unlisted_allowed: usize,
    /// Bytes hashed.
    pub bytes: u64,
}

impl Verification {
    /// True when no problem fails verification.
    #[must_use]
    pub fn ok(&self) -> bool {
        !self.problems.iter().any(|p| p.kind.is_error())
    }

    /// A warning per git crate, for a verification without a signature:
    /// `cargo vendor` records no commit in a vendored git crate, so a
    /// Cargo.lock moved to another commit without re-vendoring passes
    /// cargo's checks and these; only a signed manifest, which holds each
    /// crate's `git+URL#COMMIT` source, shows the commit.
    #[must_use]
    pub fn git_commits_unverified(&self) -> Vec<Problem> {
        self.crates
            .iter()
            .filter(|c| c.source.starts_with("git+"))
            .map(|c| {
                let rev = c.source.rsplit_once('#').map_or("?", |(_, r)| r);
                Problem {
                    kind: Kind::GitCommitUnverified,
                    krate: Some(format!("{}@{}", c.name, c.version)),
                    path: Some(c.dir.clone()),
                    detail: format!(
                        "Cargo.lock pins commit {rev}, but the vendored files carry no record of their commit: after a `cargo update` of this dependency without re-vendoring, this tree still passes"
                    ),
                }
            })
            .collect()
    }

    /// Takes vendored crates that Cargo.lock does not list as no problem
    /// (a mirror directory shared by several lock files); counts them.
    pub fn allow_unlisted(&mut self) {
        let before = self.problems.len();
        self.problems.retain(|p| p.kind != Kind::UnlistedCrate);
        self.unlisted_allowed = before - self.problems.len();
    }
}

/// Something that wants to hear how far hashing got (a progress bar).
pub trait Progress: Sync {
    /// Called once with the number of files to hash.
    fn start(&self, files: u64);
    /// Called after each file.
    fn advance(&self);
}

/// No progress reporting.
#[derive(Debug)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self) {}
}

/// Verifies the vendor directory `vendor` against `lock`.
///
/// `Ok` carries the verdict with every problem; `Err` means an input could
/// not be read or parsed (a checksum file that is not JSON, an unreadable
/// directory), and there is no verdict.
pub fn verify_tree(
    vendor: &Path,
    lock: &Lockfile,
    progress: &dyn Progress,
) -> Result<Verification, Error> {
    let mut problems = Vec::new();
    let scanned = tree::scan(vendor, &mut problems)?;
    let crate_count = scanned.len();
    let matched = match_lock(lock, &scanned, &mut problems);

    let jobs = files_to_hash(&scanned, &mut problems);

    progress.start(jobs.len() as u64);
    let bytes = AtomicU64::new(0);
    let hashed: Vec<Result<String, Error>> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|&(ci, rel)| {
            let path = vendor.join(&scanned[ci].dir).join(rel);
            let (sum, len) = sha256_file(&path)?;
            bytes.fetch_add(len, Ordering::Relaxed);
            progress.advance();
            Ok(sum)
        })
        .collect();

    if let Some(e) = unreadable_by_mode(vendor, &scanned, &jobs, &hashed) {
        return Err(e);
    }
    let mut actual: Vec<BTreeMap<&str, String>> = vec![BTreeMap::new(); scanned.len()];
    let mut errors = Vec::new();
    for (&(ci, rel), sum) in jobs.iter().zip(hashed) {
        let sum = match sum {
            Ok(sum) => sum,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let c = &scanned[ci];
        if let Some(expected) = c.checksums.as_ref().and_then(|s| s.files.get(rel))
            && *expected != sum
        {
            problems.push(Problem {
                kind: Kind::FileChecksumMismatch,
                krate: Some(format!("{}@{}", c.name, c.version)),
                path: Some(format!("{}/{}", c.dir, crate::manifest::escape_path(rel))),
                detail: format!("sha256 is {sum}, {} lists {expected}", tree::CHECKSUM_FILE),
            });
        }
        actual[ci].insert(rel, sum);
    }

    if let Some(e) = Error::all(errors) {
        return Err(e);
    }
    let mut crates: Vec<CrateRecord> = matched
        .into_iter()
        .map(|(ci, locked)| {
            let c = &scanned[ci];
            CrateRecord {
                name: c.name.clone(),
                version: c.version.clone(),
                source: locked.source.clone().unwrap_or_default(),
                package_checksum: locked.checksum.clone(),
                dir: c.dir.clone(),
                files: actual[ci]
                    .iter()
                    .map(|(p, s)| ((*p).to_owned(), s.clone()))
                    .collect(),
            }
        })
        .collect();
    crates.sort_by(|a, b| (&a.name, &a.version, &a.source).cmp(&(&b.name, &b.version, &b.source)));
    problems.sort();
    problems.dedup();
    Ok(Verification {
        crates,
        problems,
        crate_count,
        file_count: scanned.iter().map(|c| c.files.len()).sum(),
        unlisted_allowed: 0,
        bytes: bytes.into_inner(),
    })
}

/// The files to hash, `(crate index, listed path)`: every listed file that
/// exists as a regular file. Listed paths that are unsafe or absent, and
/// files no checksum file lists, go to `problems`.
fn files_to_hash<'s>(
    scanned: &'s [ScannedCrate],
    problems: &mut Vec<Problem>,
) -> Vec<(usize, &'s str)> {
    let mut jobs = Vec::new();
    for (ci, c) in scanned.iter().enumerate() {
        let id = format!("{}@{}", c.name, c.version);
        let Some(sums) = &c.checksums else { continue };
        let present: BTreeSet<&str> = c.files.iter().map(String::as_str).collect();
        for listed in sums.files.keys() {
            if let Some(reason) = tree::unsafe_reason(listed) {
                problems.push(Problem {
                    kind: Kind::UnsafePath,
                    krate: Some(id.clone()),
                    path: Some(format!("{}/{}", c.dir, listed.escape_debug())),
                    detail: format!("listed in {}: {reason}; not opened", tree::CHECKSUM_FILE),
                });
            } else if present.contains(listed.as_str()) {
                jobs.push((ci, listed.as_str()));
            } else if !is_reported_special(problems, &c.dir, listed) {
                problems.push(Problem {
                    kind: Kind::MissingFile,
                    krate: Some(id.clone()),
                    path: Some(format!(
                        "{}/{}",
                        c.dir,
                        crate::manifest::escape_path(listed)
                    )),
                    detail: format!("listed in {} but not present", tree::CHECKSUM_FILE),
                });
            }
        }
        for file in &c.files {
            if !sums.files.contains_key(file) {
                problems.push(Problem {
                    kind: Kind::UnlistedFile,
                    krate: Some(id.clone()),
                    path: Some(format!("{}/{}", c.dir, crate::manifest::escape_path(file))),
                    detail: format!("present but not listed in {}", tree::CHECKSUM_FILE),
                });
            }
        }
    }
    jobs
}

/// Files this user may not read (a crate that ships mode 0640 files,
/// vendored by another user): all of them in one error, with the mode.
fn unreadable_by_mode(
    vendor: &Path,
    scanned: &[ScannedCrate],
    jobs: &[(usize, &str)],
    hashed: &[Result<String, Error>],
) -> Option<Error> {
    let denied: Vec<String> = jobs
        .iter()
        .zip(hashed)
        .filter(|(_, r)| matches!(r, Err(Error::Read { message, .. }) if message == "permission denied"))
        .map(|(&(ci, rel), _)| {
            let path = vendor.join(&scanned[ci].dir).join(rel);
            let how = std::fs::symlink_metadata(&path).map_or_else(
                |_| String::new(),
                |m| {
                    use std::os::unix::fs::MetadataExt as _;
                    format!(" (mode {:04o}, owner uid {})", m.mode() & 0o7777, m.uid())
                },
            );
            format!("{}/{}{how}", scanned[ci].dir, crate::manifest::escape_path(rel))
        })
        .collect();
    (!denied.is_empty()).then(|| Error::Read {
        path: vendor.to_path_buf(),
        message: format!(
            "{} file(s) cannot be read by this user because of their file mode: {}",
            denied.len(),
            denied.join(", ")
        ),
    })
}

/// A listed file that is a symlink or special file was already reported as
/// such; it is not also "missing".
fn is_reported_special(problems: &[Problem], dir: &str, listed: &str) -> bool {
    let shown = format!("{dir}/{listed}");
    problems.iter().any(|p| {
        matches!(p.kind, Kind::Symlink | Kind::SpecialFile) && p.path.as_deref() == Some(&shown)
    })
}

/// Pairs lock packages with vendored crates by the name and version in each
/// crate's Cargo.toml (not its directory name). Returns the matched pairs.
fn match_lock<'l>(
    lock: &'l Lockfile,
    scanned: &[ScannedCrate],
    problems: &mut Vec<Problem>,
) -> Vec<(usize, &'l LockedPackage)> {
    let mut by_id: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, c) in scanned.iter().enumerate() {
        by_id.entry((&c.name, &c.version)).or_default().push(i);
    }
    for ((name, version), dirs) in &by_id {
        if dirs.len() > 1 {
            let names: Vec<&str> = dirs.iter().map(|&i| scanned[i].dir.as_str()).collect();
            problems.push(Problem {
                kind: Kind::DuplicateCrate,
                krate: Some(format!("{name}@{version}")),
                path: Some(scanned[dirs[1]].dir.clone()),
                detail: format!("vendored in several directories: {}", names.join(", ")),
            });
        }
    }

    let mut used = vec![false; scanned.len()];
    let mut matched = Vec::new();
    let mut missing = Vec::new();
    for p in lock.vendored() {
        match by_id.get(&(p.name.as_str(), p.version.as_str())) {
            Some(dirs) => {
                let i = dirs[0];
                used[i] = true;
                check_package_checksum(p, &scanned[i], problems);
                matched.push((i, p));
            }
            None => missing.push(p),
        }
    }
    for p in missing {
        // Same name, another version, not claimed by any lock entry: one
        // version-mismatch instead of a missing + unlisted pair.
        let candidate = (0..scanned.len()).find(|&i| !used[i] && scanned[i].name == p.name);
        if let Some(i) = candidate {
            used[i] = true;
            problems.push(Problem {
                kind: Kind::VersionMismatch,
                krate: Some(format!("{}@{}", p.name, p.version)),
                path: Some(scanned[i].dir.clone()),
                detail: format!(
                    "Cargo.lock wants {} {}, the vendored crate is {}",
                    p.name, p.version, scanned[i].version
                ),
            });
        } else {
            problems.push(Problem {
                kind: Kind::MissingCrate,
                krate: Some(format!("{}@{}", p.name, p.version)),
                path: None,
                detail: format!(
                    "Cargo.lock has {} {} from {}; no vendored crate has that name and version",
                    p.name,
                    p.version,
                    p.source.as_deref().unwrap_or("?")
                ),
            });
        }
    }
    for (i, c) in scanned.iter().enumerate() {
        let duplicate = by_id
            .get(&(c.name.as_str(), c.version.as_str()))
            .is_some_and(|d| d.len() > 1 && d[0] != i);
        if !used[i] && !duplicate {
            problems.push(Problem {
                kind: Kind::UnlistedCrate,
                krate: Some(format!("{}@{}", c.name, c.version)),
                path: Some(c.dir.clone()),
                detail: "vendored but not in Cargo.lock".to_owned(),
            });
        }
    }
    matched
}

fn check_package_checksum(p: &LockedPackage, c: &ScannedCrate, problems: &mut Vec<Problem>) {
    let Some(sums) = &c.checksums else { return };
    let detail = match (&p.checksum, &sums.package) {
        (Some(want), Some(have)) if want != have => format!(
            "{} has package checksum {have}, Cargo.lock has {want}",
            tree::CHECKSUM_FILE
        ),
        (Some(want), None) => format!(
            "{} has no package checksum, Cargo.lock has {want}",
            tree::CHECKSUM_FILE
        ),
        (None, Some(have)) if !p.is_git() => format!(
            "{} has package checksum {have}, Cargo.lock has none",
            tree::CHECKSUM_FILE
        ),
        _ => return,
    };
    problems.push(Problem {
        kind: Kind::PackageChecksumMismatch,
        krate: Some(format!("{}@{}", p.name, p.version)),
        path: Some(format!("{}/{}", c.dir, tree::CHECKSUM_FILE)),
        detail,
    });
}

/// sha256 (lowercase hex) and length of a file of the tree, opened with
/// `O_NOFOLLOW` (the hashing loop `verify_tree` runs on every file).
pub fn sha256_file(path: &Path) -> Result<(String, u64), Error> {
    let mut file = tree::open_regular(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::read(path, &e)),
        };
        ctx.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(ctx.finish().as_ref()), len))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}
