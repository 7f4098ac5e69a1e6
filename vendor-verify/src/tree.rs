//! Reading the vendor directory: crates, their checksum files, their files.
//!
//! Walks with `symlink_metadata` only (a symlink is reported, never
//! followed) and opens files with `O_NOFOLLOW | O_NONBLOCK`, checking the
//! opened descriptor is a regular file, so a tree swapped under us cannot
//! make us read outside it or block on a FIFO.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::lockfile::{is_sha256_hex, toml_message};
use crate::{Error, Kind, Problem};

/// What one directory of the vendor tree holds.
#[derive(Debug)]
pub(crate) struct ScannedCrate {
    /// Directory name under the vendor dir.
    pub dir: String,
    pub name: String,
    pub version: String,
    /// `None` when the crate has no `.cargo-checksum.json` (reported).
    pub checksums: Option<ChecksumFile>,
    /// Regular files found, relative to the crate dir, `/`-separated, sorted.
    pub files: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct ChecksumFile {
    pub files: BTreeMap<String, String>,
    pub package: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecksum {
    files: BTreeMap<String, String>,
    package: Option<String>,
}

pub(crate) const CHECKSUM_FILE: &str = ".cargo-checksum.json";

/// Lists the crates of `vendor`. Problems found on the way (symlinks,
/// special files, stray directories, missing checksum files) go to `problems`.
pub(crate) fn scan(vendor: &Path, problems: &mut Vec<Problem>) -> Result<Vec<ScannedCrate>, Error> {
    // The vendor directory itself may be a symlink, as `vendor/` with a
    // slash always resolves: cargo follows it too. Links inside it are
    // reported, never followed.
    let meta = fs::metadata(vendor).map_err(|e| Error::read(vendor, &e))?;
    if !meta.is_dir() {
        return Err(Error::Read {
            path: vendor.to_path_buf(),
            message: "not a directory".to_owned(),
        });
    }
    let mut entries = read_dir_sorted(vendor)?;
    entries.retain(|(name, _, _)| !name.starts_with('.'));
    // Crates are independent: walk and parse them in parallel, then merge
    // in directory order so the result does not depend on scheduling.
    let scanned: Vec<Result<EntryScan, Error>> = entries
        .par_iter()
        .map(|(name, path, ft)| {
            let mut found = Vec::new();
            let krate = scan_entry(name, path, *ft, &mut found)?;
            Ok((krate, found))
        })
        .collect();
    // Every unreadable or corrupt input at once, not only the first.
    let mut crates = Vec::new();
    let mut errors = Vec::new();
    for result in scanned {
        match result {
            Ok((krate, found)) => {
                problems.extend(found);
                crates.extend(krate);
            }
            Err(e) => errors.push(e),
        }
    }
    match Error::all(errors) {
        Some(e) => Err(e),
        None => Ok(crates),
    }
}

/// What one entry of the vendor directory held, and its problems.
type EntryScan = (Option<ScannedCrate>, Vec<Problem>);

/// One entry of the vendor directory: a crate, or a problem, or nothing
/// (loose files, which cargo ignores).
fn scan_entry(
    name: &str,
    path: &Path,
    ft: fs::FileType,
    problems: &mut Vec<Problem>,
) -> Result<Option<ScannedCrate>, Error> {
    if ft.is_symlink() {
        problems.push(problem(Kind::Symlink, None, name, link_detail(path)));
        return Ok(None);
    }
    if !ft.is_dir() {
        // cargo ignores loose files here (READMEs, notes).
        if !ft.is_file() {
            problems.push(problem(Kind::SpecialFile, None, name, special(ft)));
        }
        return Ok(None);
    }
    let manifest = path.join("Cargo.toml");
    if fs::symlink_metadata(&manifest).is_err() {
        problems.push(problem(
            Kind::StrayDirectory,
            None,
            name,
            "directory has no Cargo.toml; cargo ignores it".to_owned(),
        ));
        return Ok(None);
    }
    let mut scanned = scan_crate(path, name, problems)?;
    if !scanned.files.iter().any(|f| f == "Cargo.toml") {
        // A symlinked or special Cargo.toml: already reported, and we
        // never read through it.
        return Ok(None);
    }
    let text = read_text(&manifest)?;
    let (pkg_name, version) = package_id(&text).map_err(|message| Error::Parse {
        path: manifest.clone(),
        message,
    })?;
    scanned.name = pkg_name;
    scanned.version = version;
    let id = format!("{}@{}", scanned.name, scanned.version);
    for p in problems.iter_mut() {
        p.krate.get_or_insert_with(|| id.clone());
    }
    if scanned.files.iter().any(|f| f == CHECKSUM_FILE) {
        scanned.checksums = Some(read_checksums(&path.join(CHECKSUM_FILE))?);
    } else {
        problems.push(problem(
            Kind::MissingChecksumFile,
            Some(id),
            &format!("{name}/{CHECKSUM_FILE}"),
            "cargo refuses a vendored crate without it".to_owned(),
        ));
    }
    scanned.files.retain(|f| f != CHECKSUM_FILE);
    Ok(Some(scanned))
}

fn scan_crate(
    dir: &Path,
    dir_name: &str,
    problems: &mut Vec<Problem>,
) -> Result<ScannedCrate, Error> {
    let mut files = Vec::new();
    // (absolute dir, relative prefix)
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        for (name, path, ft) in read_dir_sorted(&abs)? {
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let shown = format!("{dir_name}/{rel_path}");
            if ft.is_symlink() {
                problems.push(problem(Kind::Symlink, None, &shown, link_detail(&path)));
            } else if ft.is_dir() {
                stack.push((path, rel_path));
            } else if ft.is_file() {
                files.push(rel_path);
            } else {
                problems.push(problem(Kind::SpecialFile, None, &shown, special(ft)));
            }
        }
    }
    files.sort();
    Ok(ScannedCrate {
        dir: dir_name.to_owned(),
        name: String::new(),
        version: String::new(),
        checksums: None,
        files,
    })
}

/// Entries of `dir` sorted by name. A name that is not UTF-8 is kept in
/// lossy form: it can never match a checksum entry, so it shows up as
/// unlisted rather than vanishing.
///
/// The file type is the directory entry's (`d_type`, never following a
/// symlink; `lstat` only where the file system does not fill it in).
fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf, fs::FileType)>, Error> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::read(dir, &e))? {
        let entry = entry.map_err(|e| Error::read(dir, &e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::read(&path, &e))?;
        out.push((entry.file_name().to_string_lossy().into_owned(), path, ft));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn problem(kind: Kind, krate: Option<String>, path: &str, detail: String) -> Problem {
    Problem {
        kind,
        krate,
        path: Some(path.to_owned()),
        detail,
    }
}

fn link_detail(path: &Path) -> String {
    match fs::read_link(path) {
        Ok(target) => format!("symbolic link to `{}`; not followed", target.display()),
        Err(_) => "symbolic link; not followed".to_owned(),
    }
}

fn special(ft: fs::FileType) -> String {
    let what = if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    };
    format!("{what}; not opened")
}

/// Opens a file of the tree: never through a symlink, never blocking on a
/// FIFO, and only if it is a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<File, Error> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::read(path, &e))?;
    let meta = file.metadata().map_err(|e| Error::read(path, &e))?;
    if !meta.is_file() {
        return Err(Error::Read {
            path: path.to_path_buf(),
            message: "changed into something other than a regular file while being verified"
                .to_owned(),
        });
    }
    Ok(file)
}

fn read_text(path: &Path) -> Result<String, Error> {
    let mut text = String::new();
    open_regular(path)?
        .read_to_string(&mut text)
        .map_err(|e| Error::read(path, &e))?;
    Ok(text)
}

fn read_checksums(path: &Path) -> Result<ChecksumFile, Error> {
    parse_checksums(&read_text(path)?).map_err(|message| Error::Parse {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses a `.cargo-checksum.json`: `{"files": {path: sha256}, "package":
/// sha256 | null}`, nothing else.
pub(crate) fn parse_checksums(text: &str) -> Result<ChecksumFile, String> {
    let raw: RawChecksum = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for (file, sum) in &raw.files {
        if !is_sha256_hex(sum) {
            return Err(format!(
                "files.\"{}\": `{}` is not a sha256 hex digest",
                file.escape_debug(),
                sum.escape_debug()
            ));
        }
    }
    if let Some(p) = &raw.package
        && !p.is_empty()
        && !is_sha256_hex(p)
    {
        return Err(format!(
            "package: `{}` is not a sha256 hex digest",
            p.escape_debug()
        ));
    }
    Ok(ChecksumFile {
        files: raw.files,
        // Older cargo wrote "" for git packages.
        package: raw.package.filter(|p| !p.is_empty()),
    })
}

#[derive(Deserialize)]
struct RawManifest {
    package: Option<RawManifestPackage>,
}

#[derive(Deserialize)]
struct RawManifestPackage {
    name: String,
    version: Option<toml::Value>,
}

/// `[package] name` and `version` of a vendored Cargo.toml (cargo vendor
/// writes normalized manifests, so both are plain strings; a missing
/// version means 0.0.0 as in cargo).
pub(crate) fn package_id(text: &str) -> Result<(String, String), String> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| toml_message(text, &e))?;
    let package = raw
        .package
        .ok_or_else(|| "no [package] table: not a vendored crate".to_owned())?;
    let version = match package.version {
        None => "0.0.0".to_owned(),
        Some(toml::Value::String(v)) => v,
        Some(other) => {
            return Err(format!(
                "package.version: expected a version string, found {} (not a normalized manifest as `cargo vendor` writes)",
                other.type_str()
            ));
        }
    };
    Ok((package.name, version))
}

/// Why a path listed in `.cargo-checksum.json` cannot be safely opened
/// inside its crate directory, or `None` if it can.
pub(crate) fn unsafe_reason(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("empty path");
    }
    if path.starts_with('/') {
        return Some("absolute path");
    }
    if path.contains('\\') {
        return Some("contains a backslash");
    }
    for component in path.split('/') {
        match component {
            "" => return Some("empty path component"),
            "." => return Some("`.` component"),
            ".." => return Some("`..` component escapes the crate directory"),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths() {
        assert_eq!(unsafe_reason("src/lib.rs"), None);
        assert_eq!(unsafe_reason(".cargo_vcs_info.json"), None);
        assert!(unsafe_reason("../x").is_some());
        assert!(unsafe_reason("a/../../x").is_some());
        assert!(unsafe_reason("/etc/passwd").is_some());
        assert!(unsafe_reason("a//b").is_some());
        assert!(unsafe_reason("a/./b").is_some());
        // Cargo packages names with control characters; the manifest
        // escapes them. A backslash would make that escape ambiguous.
        assert_eq!(unsafe_reason("a\nb"), None);
        assert!(unsafe_reason("a\\u{a}b").is_some());
        assert!(unsafe_reason("").is_some());
    }

    #[test]
    fn package_ids() {
        assert_eq!(
            package_id("[package]\nname = \"a\"\nversion = \"1.2.3\"\n"),
            Ok(("a".to_owned(), "1.2.3".to_owned()))
        );
        assert!(package_id("[workspace]\n").is_err());
        assert!(package_id("[package]\nname = \"a\"\nversion.workspace = true\n").is_err());
    }
}
