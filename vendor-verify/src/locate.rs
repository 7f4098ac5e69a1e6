//! Where the vendor tree is: cargo's source replacement, else `vendor/`.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::lockfile::toml_message;

/// The vendored-sources directory cargo would use for the workspace at
/// `root`: the `directory` of the source that `crates-io` is replaced with in
/// `.cargo/config.toml` (or `.cargo/config`) of `root` or an ancestor, the
/// way `cargo vendor` tells you to configure it. A relative `directory` is
/// relative to the directory holding `.cargo/`, as in cargo. `None` when no
/// config replaces crates-io with a directory source.
pub fn vendor_dir_from_cargo_config(root: &Path) -> Result<Option<PathBuf>, Error> {
    for dir in root.ancestors() {
        for name in ["config.toml", "config"] {
            let path = dir.join(".cargo").join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::read(&path, &e)),
            };
            let value: toml::Table = toml::from_str(&text).map_err(|e| Error::Parse {
                path: path.clone(),
                message: toml_message(&text, &e),
            })?;
            if let Some(found) = directory_source(&value) {
                return Ok(Some(dir.join(found)));
            }
        }
    }
    Ok(None)
}

/// [`directory_source`] of a config file's text (for the fuzz target).
#[doc(hidden)]
#[must_use]
pub fn directory_source_of(text: &str) -> Option<String> {
    directory_source(&toml::from_str(text).ok()?)
}

/// Follows `source.crates-io.replace-with` to a source with `directory`.
fn directory_source(config: &toml::Table) -> Option<String> {
    let sources = config.get("source")?.as_table()?;
    let mut name = "crates-io";
    // A replacement chain is short; the bound stops a cycle.
    for _ in 0..8 {
        let source = sources.get(name)?.as_table()?;
        if let Some(dir) = source.get("directory").and_then(toml::Value::as_str) {
            return Some(dir.to_owned());
        }
        name = source.get("replace-with")?.as_str()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_replacement() {
        let config: toml::Table = toml::from_str(
            r#"
[source.crates-io]
replace-with = "vendored-sources"
[source.vendored-sources]
directory = "third_party/vendor"
"#,
        )
        .expect("toml");
        assert_eq!(
            directory_source(&config).as_deref(),
            Some("third_party/vendor")
        );
        let cycle: toml::Table = toml::from_str(
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n",
        )
        .expect("toml");
        assert_eq!(directory_source(&cycle), None);
    }
}
