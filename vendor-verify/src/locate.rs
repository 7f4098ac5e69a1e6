//! Where the vendor tree is: the directory source that cargo's source
//! replacement points at, found the way cargo finds it, else `vendor/`.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::lockfile::toml_message;

/// What reading cargo's configuration found.
#[derive(Debug, Default)]
pub struct Located {
    /// The directory every replaced source leads to, if any does.
    pub dir: Option<PathBuf>,
    /// The config files read, closest first (for messages).
    pub read: Vec<PathBuf>,
}

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
#[must_use]
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")))
}

/// The vendored-sources directory cargo would use in `root`: cargo's
/// configuration is read the way cargo reads it (`.cargo/config.toml` or
/// `.cargo/config` in `root` and each ancestor, then
/// `$CARGO_HOME/config.toml`; a closer file's keys win), and every
/// `[source.X]` with a `replace-with` (crates-io, an alternate registry,
/// a git repository: whatever `cargo vendor` printed) is followed to a
/// source with a `directory`. A relative `directory` is relative to the
/// directory holding `.cargo/` (for `$CARGO_HOME`, its parent), as in
/// cargo.
///
/// Two replaced sources that lead to different directories are an error:
/// cargo would read both, and one verification covers one tree.
pub fn vendor_dir_from_cargo_config(
    root: &Path,
    cargo_home: Option<&Path>,
) -> Result<Located, Error> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in root.ancestors() {
        // With both, cargo reads the one without the extension.
        let plain = dir.join(".cargo").join("config");
        let toml = dir.join(".cargo").join("config.toml");
        if plain.is_file() {
            files.push(plain);
        } else if toml.is_file() {
            files.push(toml);
        }
    }
    if let Some(home) = cargo_home {
        for name in ["config", "config.toml"] {
            let path = home.join(name);
            if path.is_file() && !files.contains(&path) {
                files.push(path);
                break;
            }
        }
    }
    // Every source's keys, each with the directory its relative paths
    // start from; the closest file's value of a key wins.
    let mut sources: Vec<(String, Source)> = Vec::new();
    for path in files.iter().rev() {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, &e))?;
        let value: toml::Table = toml::from_str(&text).map_err(|e| Error::Parse {
            path: path.clone(),
            message: toml_message(&text, &e),
        })?;
        let base = path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
            .to_path_buf();
        merge(&mut sources, &value, &base);
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (name, source) in &sources {
        if source.replace_with.is_none() {
            continue;
        }
        if let Some(dir) = follow(&sources, name)
            && !dirs.contains(&dir)
        {
            dirs.push(dir);
        }
    }
    match dirs.len() {
        0 | 1 => Ok(Located {
            dir: dirs.pop(),
            read: files,
        }),
        _ => Err(Error::Parse {
            path: files.first().cloned().unwrap_or_default(),
            message: format!(
                "replaced sources lead to {} directories ({}); pass --vendor-dir or set [vendor] dir to choose the tree",
                dirs.len(),
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// One `[source.X]` table, merged over the config files.
#[derive(Debug, Default, Clone)]
struct Source {
    replace_with: Option<String>,
    /// `directory`, resolved against its file's base.
    directory: Option<PathBuf>,
}

fn merge(sources: &mut Vec<(String, Source)>, config: &toml::Table, base: &Path) {
    let Some(table) = config.get("source").and_then(toml::Value::as_table) else {
        return;
    };
    for (name, value) in table {
        let Some(t) = value.as_table() else { continue };
        let at = sources
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| {
                sources.push((name.clone(), Source::default()));
                sources.len() - 1
            });
        let source = &mut sources[at].1;
        if let Some(r) = t.get("replace-with").and_then(toml::Value::as_str) {
            source.replace_with = Some(r.to_owned());
        }
        if let Some(d) = t.get("directory").and_then(toml::Value::as_str) {
            source.directory = Some(base.join(d));
        }
    }
}

/// Follows `replace-with` from the source `name` to one with a
/// `directory`. A replacement chain is short; the bound stops a cycle.
fn follow(sources: &[(String, Source)], name: &str) -> Option<PathBuf> {
    let mut name = name;
    for _ in 0..8 {
        let source = &sources.iter().find(|(n, _)| n == name)?.1;
        if let Some(dir) = &source.directory {
            return Some(dir.clone());
        }
        name = source.replace_with.as_deref()?;
    }
    None
}

/// The directory that a config file's text replaces a source with (for
/// the fuzz target).
#[doc(hidden)]
#[must_use]
pub fn directory_source_of(text: &str) -> Option<PathBuf> {
    let mut sources = Vec::new();
    merge(&mut sources, &toml::from_str(text).ok()?, Path::new(""));
    let replaced: Vec<String> = sources
        .iter()
        .filter(|(_, s)| s.replace_with.is_some())
        .map(|(n, _)| n.clone())
        .collect();
    replaced.iter().find_map(|n| follow(&sources, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_replacement_of_any_source() {
        // What `cargo vendor` prints for an alternate registry and a git
        // dependency: crates-io is not among the replaced sources.
        let text = r#"
[source."registry+file:///srv/index"]
registry = "file:///srv/index"
replace-with = "vendored-sources"

[source."git+https://example.com/x?branch=main"]
git = "https://example.com/x"
branch = "main"
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "third_party/vendor"
"#;
        assert_eq!(
            directory_source_of(text),
            Some(PathBuf::from("third_party/vendor"))
        );
        let cycle =
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n";
        assert_eq!(directory_source_of(cycle), None);
    }

    #[test]
    fn closer_files_win_and_cargo_home_counts() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |rel: &str, text: &str| {
            let p = tmp.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap_or(Path::new(".")))
                .unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        };
        // The replacement in $CARGO_HOME, the directory in the workspace.
        write(
            "home/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"mirror\"\n[source.mirror]\ndirectory = \"/srv/mirror\"\n",
        );
        write(
            "ws/.cargo/config.toml",
            "[source.mirror]\ndirectory = \"vendor\"\n",
        );
        let ws = tmp.path().join("ws");
        let home = tmp.path().join("home/.cargo");
        let found = vendor_dir_from_cargo_config(&ws.join("src"), Some(&home))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.dir, Some(ws.join("vendor")));
        assert_eq!(
            found.read,
            [ws.join(".cargo/config.toml"), home.join("config.toml")]
        );
        // Only $CARGO_HOME: relative to its parent.
        let alone = vendor_dir_from_cargo_config(&tmp.path().join("other"), Some(&home))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(alone.dir, Some(PathBuf::from("/srv/mirror")));
        // `config` wins over `config.toml` in one directory.
        write(
            "ws/.cargo/config",
            "[source.mirror]\ndirectory = \"elsewhere\"\n",
        );
        let plain =
            vendor_dir_from_cargo_config(&ws, Some(&home)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.dir, Some(ws.join("elsewhere")));
        // Two replaced sources, two directories: which tree is meant?
        write(
            "ws/.cargo/config",
            "[source.mirror]\ndirectory = \"elsewhere\"\n[source.\"git+https://e.com/x\"]\nreplace-with = \"g\"\n[source.g]\ndirectory = \"gitvendor\"\n",
        );
        let err = vendor_dir_from_cargo_config(&ws, Some(&home))
            .map(|l| l.dir)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("lead to 2 directories"), "{err}");
    }
}
