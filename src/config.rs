//! `govkit.toml` (or `[workspace.metadata.govkit]` in Cargo.toml): finding
//! it, parsing it with spans, and turning every mistake into an error that
//! names the file, line and key.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name govkit looks for.
pub const FILE_NAME: &str = "govkit.toml";

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Directory the configuration belongs to: the workspace root. Paths in
    /// the configuration are relative to it.
    pub root: PathBuf,
    /// The file it was read from; `None` when no configuration exists.
    pub file: Option<PathBuf>,
    /// The gates and their settings.
    pub gates: Gates,
}

/// Each gate's section; a gate runs under `govkit check` exactly when its
/// section is present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    /// `[lint]`: the lint gate.
    pub lint: Option<LintSection>,
    /// `[vendor]`: the vendored-dependencies gate.
    pub vendor: Option<VendorSection>,
    /// `[bench]`: the benchmark gate.
    pub bench: Option<BenchSection>,
    /// `[trace]`: settings of `govkit trace` (not a gate).
    pub trace: Option<TraceSection>,
}

/// `[trace]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TraceSection {
    /// The exporter's web configuration file (TLS, basic auth), relative
    /// to the configuration's directory; `--web-config` overrides it.
    pub web_config: Option<String>,
}

impl Gates {
    /// Names of the configured gates, in the order `govkit check` runs them.
    #[must_use]
    pub fn configured(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.lint.is_some() {
            out.push("lint");
        }
        if self.vendor.is_some() {
            out.push("vendor");
        }
        if self.bench.is_some() {
            out.push("bench");
        }
        out
    }

    /// Checks values the types alone cannot (rule names, levels, globs).
    fn validate(&self) -> Result<(), RawError> {
        if let Some(lint) = &self.lint {
            lint.settings()?;
        }
        if let Some(vendor) = &self.vendor {
            vendor.validate()?;
        }
        if let Some(bench) = &self.bench {
            bench.validate()?;
        }
        Ok(())
    }
}

/// `[lint]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintSection {
    /// Directories or files to lint, relative to the configuration's
    /// directory (default: all of it).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Globs of files never linted.
    #[serde(default)]
    pub exclude: Vec<toml::Spanned<String>>,
    /// `skip` (default) or `lint`: whether panic-family rules apply to test code.
    pub test_code: Option<toml::Spanned<String>>,
    /// Rule name → `error` | `warn` | `off`.
    #[serde(default)]
    pub rules: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    /// Path glob → rules that do not apply to matching files.
    #[serde(default)]
    pub ignore: BTreeMap<toml::Spanned<String>, Vec<toml::Spanned<String>>>,
    /// A baseline file (see `govkit lint --write-baseline`): findings
    /// recorded in it do not fail the gate.
    pub baseline: Option<String>,
    /// `[[lint.disallowed]]`: org-banned paths.
    #[serde(default)]
    pub disallowed: Vec<DisallowedEntry>,
}

/// One `[[lint.disallowed]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisallowedEntry {
    /// `std::env::set_var`, `std::rc::Rc`, `log::info` (a macro), `Vec::leak` (a method).
    pub path: toml::Spanned<String>,
    /// Why, and what to use instead; shown in every finding.
    pub reason: toml::Spanned<String>,
    /// For a method: `never` (default) matches `x.method()` only where the
    /// type of `x` is visible in the file; `by-name` matches every call by
    /// that name.
    #[serde(rename = "match-methods")]
    pub match_methods: Option<toml::Spanned<String>>,
}

impl LintSection {
    /// The engine settings this section describes; errors point at the
    /// offending key or value.
    pub(crate) fn settings(&self) -> Result<lints::Settings, RawError> {
        let mut settings = lints::Settings::default();
        let bad = |span: Range<usize>, message: String| RawError {
            span: Some(span),
            message,
        };
        let rule_name = |name: &toml::Spanned<String>| -> Result<String, RawError> {
            match lints::rules::by_name(name.get_ref()) {
                Some(rule) => Ok(rule.name.to_owned()),
                None => Err(bad(
                    name.span(),
                    match lints::rules::closest(name.get_ref()) {
                        Some(s) => {
                            format!("unknown rule `{}` (did you mean `{s}`?)", name.get_ref())
                        }
                        None => format!(
                            "unknown rule `{}`; `govkit lint --list-rules` lists them",
                            name.get_ref()
                        ),
                    },
                )),
            }
        };
        for (name, level) in &self.rules {
            let rule = rule_name(name)?;
            let level = lints::Level::parse(level.get_ref()).ok_or_else(|| {
                bad(
                    level.span(),
                    format!("invalid level `{}` for rule `{rule}`: expected \"error\", \"warn\" or \"off\"", level.get_ref()),
                )
            })?;
            settings.levels.insert(rule, level);
        }
        for (glob, names) in &self.ignore {
            check_glob(glob)?;
            for name in names {
                let rule = rule_name(name)?;
                settings
                    .per_path_ignores
                    .entry(rule)
                    .or_default()
                    .push(glob.get_ref().clone());
            }
        }
        for entry in &self.disallowed {
            if entry.reason.get_ref().trim().is_empty() {
                return Err(bad(
                    entry.reason.span(),
                    "a disallowed path needs a reason: users see it in every finding".to_owned(),
                ));
            }
            let d = lints::Disallowed::new(entry.path.get_ref(), entry.reason.get_ref())
                .ok_or_else(|| {
                    bad(
                        entry.path.span(),
                        format!(
                            "`{}` is not a Rust path like `std::env::set_var`",
                            entry.path.get_ref()
                        ),
                    )
                })?;
            let mut d = d;
            if let Some(m) = &entry.match_methods {
                d.by_name = match m.get_ref().as_str() {
                    "by-name" => true,
                    "never" => false,
                    other => {
                        return Err(bad(
                            m.span(),
                            format!(
                                "invalid match-methods `{other}`: expected \"never\" or \"by-name\""
                            ),
                        ));
                    }
                };
            }
            settings.disallowed.push(d);
        }
        for glob in &self.exclude {
            check_glob(glob)?;
            settings.exclude.push(glob.get_ref().clone());
        }
        if let Some(tc) = &self.test_code {
            settings.test_code = match tc.get_ref().as_str() {
                "skip" => lints::TestCodePolicy::Skip,
                "lint" => lints::TestCodePolicy::Lint,
                other => {
                    return Err(bad(
                        tc.span(),
                        format!(
                            "invalid test-code policy `{other}`: expected \"skip\" or \"lint\""
                        ),
                    ));
                }
            };
        }
        Ok(settings)
    }
}

fn check_glob(glob: &toml::Spanned<String>) -> Result<(), RawError> {
    globset::Glob::new(glob.get_ref())
        .map(|_| ())
        .map_err(|e| RawError {
            span: Some(glob.span()),
            message: format!("invalid glob `{}`: {}", glob.get_ref(), e.kind()),
        })
}

/// `[vendor]`: where the vendor tree is and who must have signed it. Paths
/// are relative to the configuration's directory.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VendorSection {
    /// The vendor directory (default: cargo's source replacement in
    /// `.cargo/config.toml`, else `vendor`).
    pub dir: Option<String>,
    /// The lock file (default: `Cargo.lock`).
    pub lockfile: Option<String>,
    /// The vendor directory is a shared mirror holding more crates than
    /// this lock file uses: crates it does not list are not a failure.
    #[serde(default)]
    pub allow_unlisted: bool,
    /// PEM public key: with `signature`, a keyed (cosign `--key`) signature;
    /// with `bundle`, the key of a managed-key bundle.
    pub public_key: Option<toml::Spanned<String>>,
    /// Detached signature file over the manifest (base64 or DER).
    pub signature: Option<toml::Spanned<String>>,
    /// Sigstore bundle over the manifest.
    pub bundle: Option<toml::Spanned<String>>,
    /// The signed manifest shipped with the tree: the signature is checked
    /// over it and differences from the tree are named.
    pub manifest: Option<String>,
    /// Trusted root for bundles (default: the Sigstore public-good root
    /// built into govkit).
    pub trusted_root: Option<String>,
    /// Signers a keyless bundle may come from.
    #[serde(default)]
    pub identities: Vec<IdentityEntry>,
}

/// One `[[vendor.identities]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityEntry {
    /// The certificate's SAN: an email or a CI workflow URI, exact.
    pub identity: toml::Spanned<String>,
    /// The OIDC issuer URL, exact.
    pub issuer: toml::Spanned<String>,
}

impl VendorSection {
    /// Checks the combinations: a signature needs a key, a keyless bundle
    /// needs identities.
    fn validate(&self) -> Result<(), RawError> {
        let bad = |span: Range<usize>, message: &str| RawError {
            span: Some(span),
            message: message.to_owned(),
        };
        if let Some(sig) = &self.signature {
            if self.bundle.is_some() {
                return Err(bad(
                    sig.span(),
                    "give `signature` (with `public-key`) or `bundle`, not both",
                ));
            }
            if self.public_key.is_none() {
                return Err(bad(
                    sig.span(),
                    "a `signature` needs the `public-key` that verifies it",
                ));
            }
        }
        if let Some(bundle) = &self.bundle
            && self.public_key.is_none()
            && self.identities.is_empty()
        {
            return Err(bad(
                bundle.span(),
                "a keyless `bundle` needs at least one [[vendor.identities]] entry (identity and issuer), or `public-key` for a managed-key bundle",
            ));
        }
        if let Some(key) = &self.public_key
            && self.signature.is_none()
            && self.bundle.is_none()
        {
            return Err(bad(
                key.span(),
                "`public-key` needs a `signature` or a `bundle` to verify",
            ));
        }
        for id in &self.identities {
            if id.identity.get_ref().trim().is_empty() {
                return Err(bad(id.identity.span(), "empty identity"));
            }
            if !id.issuer.get_ref().starts_with("https://") {
                return Err(bad(id.issuer.span(), "an OIDC issuer is an https:// URL"));
            }
        }
        Ok(())
    }
}

/// `[bench]`: criterion benchmarks written with bench-gate.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchSection {
    /// Timing runs per benchmark (default 5).
    pub count: Option<u32>,
    /// Allocation budget per operation (default 5).
    pub max_allocs: Option<u64>,
    /// Per-benchmark budgets; the first `id` pattern (`*`, `?`) that
    /// matches wins.
    #[serde(default)]
    pub budgets: Vec<BudgetEntry>,
    /// Smallest relative time change that counts as a regression (default 0.05).
    pub min_effect: Option<toml::Spanned<f64>>,
    /// Significance level (default 0.05).
    pub alpha: Option<toml::Spanned<f64>>,
    /// `fail` (default) or `advisory`: whether time regressions fail the gate.
    pub time_regressions: Option<toml::Spanned<String>>,
    /// Baseline file compared against under `govkit check`.
    pub baseline: Option<String>,
    /// The cargo workspace to benchmark, relative to this file (default:
    /// this file's directory).
    pub workspace: Option<String>,
    /// Packages whose benches run (default: all in the workspace).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Bench targets to run (default: all).
    #[serde(default)]
    pub benches: Vec<String>,
    /// Criterion's measurement time per benchmark and run, seconds.
    pub measurement_time: Option<f64>,
    /// Criterion's warm-up time per benchmark and run, seconds.
    pub warm_up_time: Option<f64>,
    /// Criterion's sample count per benchmark and run (at least 10).
    pub sample_size: Option<toml::Spanned<u32>>,
}

/// One `[[bench.budgets]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BudgetEntry {
    /// Benchmark id pattern.
    pub id: toml::Spanned<String>,
    /// Its allocation budget per operation.
    pub max_allocs: u64,
}

impl BenchSection {
    fn validate(&self) -> Result<(), RawError> {
        let bad = |span: Range<usize>, message: &str| RawError {
            span: Some(span),
            message: message.to_owned(),
        };
        if let Some(t) = &self.time_regressions
            && !matches!(t.get_ref().as_str(), "fail" | "advisory")
        {
            return Err(bad(t.span(), "expected \"fail\" or \"advisory\""));
        }
        if let Some(m) = &self.min_effect
            && !(0.0..1.0).contains(m.get_ref())
        {
            return Err(bad(
                m.span(),
                "a relative change between 0 and 1 (0.05 = 5 %)",
            ));
        }
        if let Some(a) = &self.alpha
            && !(*a.get_ref() > 0.0 && *a.get_ref() < 0.5)
        {
            return Err(bad(a.span(), "a significance level between 0 and 0.5"));
        }
        if let Some(n) = &self.sample_size
            && *n.get_ref() < 10
        {
            return Err(bad(n.span(), "criterion needs at least 10 samples"));
        }
        Ok(())
    }
}

/// A configuration file that could not be used: unreadable, not TOML, an
/// unknown key, a wrong type or a bad value.
#[derive(Debug)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Its text, when it could be read, for the code frame.
    pub text: Option<String>,
    /// Byte span of the offending key or value, when known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// 1-based line and column of the error, when known.
    #[must_use]
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let (text, span) = (self.text.as_ref()?, self.span.as_ref()?);
        let loc = diagnostics::Location::from_span("", text, span.clone());
        Some((loc.line, loc.column))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_column() {
            Some((line, column)) => write!(
                f,
                "invalid configuration in {}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(
                f,
                "invalid configuration in {}: {}",
                self.path.display(),
                self.message
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where the configuration was found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A govkit.toml file.
    GovkitToml(PathBuf),
    /// `[workspace.metadata.govkit]` in this Cargo.toml.
    CargoMetadata(PathBuf),
}

/// Loads the configuration: `explicit` if given (a govkit.toml-style file,
/// or a Cargo.toml read for `[workspace.metadata.govkit]`), else the first
/// govkit.toml or Cargo.toml with `[workspace.metadata.govkit]` found from
/// `cwd` upward. No configuration at all is not an error: the result has
/// `file: None` and `root` = `cwd`.
pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
    let origin = match explicit {
        Some(path) => {
            let path = cwd.join(path);
            if path.file_name().is_some_and(|n| n == "Cargo.toml") {
                Origin::CargoMetadata(path)
            } else {
                Origin::GovkitToml(path)
            }
        }
        None => match discover(cwd)? {
            Some(origin) => origin,
            None => {
                return Ok(Config {
                    root: cwd.to_path_buf(),
                    ..Config::default()
                });
            }
        },
    };
    match origin {
        Origin::GovkitToml(path) => {
            let text = read(&path)?;
            let gates = parse_govkit_toml(&text).map_err(|e| e.in_file(&path, text))?;
            Ok(Config {
                root: parent(&path),
                file: Some(path),
                gates,
            })
        }
        Origin::CargoMetadata(path) => {
            let text = read(&path)?;
            let gates = parse_cargo_metadata(&text)
                .map_err(|e| e.in_file(&path, text))?
                .ok_or_else(|| ConfigError {
                    path: path.clone(),
                    text: None,
                    span: None,
                    message: "no [workspace.metadata.govkit] table".to_owned(),
                })?;
            Ok(Config {
                root: parent(&path),
                file: Some(path),
                gates,
            })
        }
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        text: None,
        span: None,
        message: format!("cannot read the file: {e}"),
    })
}

/// Walks from `cwd` upward. In each directory a govkit.toml wins; a
/// Cargo.toml counts only if it has `[workspace.metadata.govkit]`. Having
/// both in one directory is ambiguous and an error.
fn discover(cwd: &Path) -> Result<Option<Origin>, ConfigError> {
    for dir in cwd.ancestors() {
        let govkit = dir.join(FILE_NAME);
        let cargo = dir.join("Cargo.toml");
        let has_govkit = govkit.is_file();
        let cargo_has_table = cargo.is_file() && {
            let text = read(&cargo)?;
            match parse_cargo_metadata(&text) {
                Ok(found) => found.is_some(),
                // A broken Cargo.toml is cargo's to report, unless our
                // table is in it: then the error is ours to show.
                Err(_) => text.contains("metadata.govkit"),
            }
        };
        match (has_govkit, cargo_has_table) {
            (true, true) => {
                return Err(ConfigError {
                    path: govkit,
                    text: None,
                    span: None,
                    message: format!(
                        "both {FILE_NAME} and [workspace.metadata.govkit] in {} configure govkit; keep one",
                        cargo.display()
                    ),
                });
            }
            (true, false) => return Ok(Some(Origin::GovkitToml(govkit))),
            (false, true) => return Ok(Some(Origin::CargoMetadata(cargo))),
            (false, false) => {}
        }
    }
    Ok(None)
}

/// A parse error before the file name is attached.
#[derive(Debug)]
pub(crate) struct RawError {
    span: Option<Range<usize>>,
    message: String,
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RawError {}

impl RawError {
    fn in_file(self, path: &Path, text: String) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            text: Some(text),
            span: self.span,
            message: self.message,
        }
    }
}

impl From<toml::de::Error> for RawError {
    fn from(e: toml::de::Error) -> Self {
        RawError {
            span: e.span(),
            message: e.message().trim_end().to_owned(),
        }
    }
}

fn parse_govkit_toml(text: &str) -> Result<Gates, RawError> {
    let gates: Gates = toml::from_str(text)?;
    gates.validate()?;
    Ok(gates)
}

/// Reads `[workspace.metadata.govkit]` out of a Cargo.toml. Everything else
/// in the manifest is cargo's business and ignored; errors inside the govkit
/// table keep their spans in the Cargo.toml.
fn parse_cargo_metadata(text: &str) -> Result<Option<Gates>, RawError> {
    #[derive(Deserialize)]
    struct Manifest {
        workspace: Option<Workspace>,
    }
    #[derive(Deserialize)]
    struct Workspace {
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    struct Metadata {
        govkit: Option<Gates>,
    }
    let manifest: Manifest = toml::from_str(text)?;
    Ok(manifest
        .workspace
        .and_then(|w| w.metadata)
        .and_then(|m| m.govkit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_has_span() {
        let err = parse_govkit_toml("\n[nope]\nx = 1\n").err();
        let err = err.map(|e| e.in_file(Path::new("govkit.toml"), "\n[nope]\nx = 1\n".into()));
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.starts_with("invalid configuration in govkit.toml:2:2: unknown field `nope`"),
            "{msg}"
        );
    }
}
