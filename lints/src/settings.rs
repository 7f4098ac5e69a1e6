use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::rules::{self, Level};

/// Whether rules that forbid panics and exits apply to test code
/// (`#[cfg(test)]`, `#[test]`, `tests/`, `benches/`, `examples/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestCodePolicy {
    /// Panic-family rules skip test code (default): a failing `unwrap()` in
    /// a test is a test failure, which is what tests are for.
    #[default]
    Skip,
    /// Every rule applies to test code too.
    Lint,
}

/// What the caller (the CLI, from govkit.toml) decides about rules.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Level per rule name, overriding the rule's default.
    pub levels: BTreeMap<String, Level>,
    /// Glob patterns (relative paths) of files not linted at all.
    pub exclude: Vec<String>,
    /// Per-rule glob patterns of files the rule does not apply to.
    pub per_path_ignores: BTreeMap<String, Vec<String>>,
    /// Test-code policy for panic-family rules.
    pub test_code: TestCodePolicy,
    /// Only these rules (by name) run, when non-empty (`--rule`).
    pub only: Vec<String>,
    /// Org-defined banned paths for the `disallowed` rule.
    pub disallowed: Vec<Disallowed>,
}

/// A path the organisation bans (`[[lint.disallowed]]`): a function,
/// method, macro or type, with the reason shown in every finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disallowed {
    /// Segments of the path (`["std", "env", "set_var"]`).
    pub path: Vec<String>,
    /// Why it is banned, and what to use instead.
    pub reason: String,
    /// For a method (`Type::method`): also flag `x.method()` where the type
    /// of `x` cannot be seen (`match-methods = "by-name"`). By default only
    /// receivers whose type is visible in the file are matched.
    pub by_name: bool,
}

impl Disallowed {
    /// Parses `a::b::c`; `None` when it is not a path of identifiers.
    #[must_use]
    pub fn new(path: &str, reason: &str) -> Option<Disallowed> {
        let path = path.trim().trim_start_matches("::").trim_end_matches('!');
        let segs: Vec<String> = path.split("::").map(|s| s.trim().to_owned()).collect();
        let ident = |s: &String| {
            let mut c = s.chars();
            c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
                && c.all(|x| x.is_alphanumeric() || x == '_')
        };
        if segs.iter().all(ident) {
            Some(Disallowed {
                path: segs,
                reason: reason.to_owned(),
                by_name: false,
            })
        } else {
            None
        }
    }

    /// A method of a type (`Type::method`): matched in method-call syntax.
    #[must_use]
    pub fn is_method(&self) -> bool {
        let n = self.path.len();
        n >= 2
            && self.path[n - 2].starts_with(|c: char| c.is_uppercase())
            && self.path[n - 1].starts_with(|c: char| c.is_lowercase() || c == '_')
    }

    /// The type of a method entry (`["std", "sync", "Mutex"]`).
    #[must_use]
    pub fn method_type(&self) -> &[String] {
        &self.path[..self.path.len().saturating_sub(1)]
    }
}

/// A setting that names something that does not exist or does not parse.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A rule name that no rule has.
    #[error("unknown rule `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownRule {
        /// The name given.
        name: String,
        /// The closest existing rule name.
        suggestion: Option<String>,
    },
    /// A glob that does not parse.
    #[error("invalid glob `{glob}`: {reason}")]
    BadGlob {
        /// The pattern.
        glob: String,
        /// Why.
        reason: String,
    },
}

/// Settings resolved against the registry, ready for the engine.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// Effective level per rule, in registry order.
    pub levels: Vec<Level>,
    pub exclude: GlobSet,
    /// Per-rule ignore globs, in registry order.
    pub ignores: Vec<Option<GlobSet>>,
    pub test_code: TestCodePolicy,
    pub disallowed: Vec<Disallowed>,
}

pub(crate) fn check_rule_name(name: &str) -> Result<usize, SettingsError> {
    rules::index_of(name).ok_or_else(|| SettingsError::UnknownRule {
        name: name.to_owned(),
        suggestion: rules::closest(name).map(str::to_owned),
    })
}

fn globset(patterns: &[String]) -> Result<GlobSet, SettingsError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| SettingsError::BadGlob {
            glob: p.clone(),
            reason: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| SettingsError::BadGlob {
        glob: patterns.join(", "),
        reason: e.to_string(),
    })
}

impl Settings {
    pub(crate) fn resolve(&self) -> Result<Resolved, SettingsError> {
        let all = rules::ALL;
        let mut levels: Vec<Level> = all.iter().map(|r| r.default_level).collect();
        for (name, level) in &self.levels {
            levels[check_rule_name(name)?] = *level;
        }
        if !self.only.is_empty() {
            let mut keep = vec![false; all.len()];
            for name in &self.only {
                keep[check_rule_name(name)?] = true;
            }
            for (i, level) in levels.iter_mut().enumerate() {
                if !keep[i] {
                    *level = Level::Off;
                } else if *level == Level::Off {
                    // Asking for a rule by name runs it even if the
                    // configuration turned it off.
                    *level = all[i].default_level.max(Level::Warn);
                }
            }
        }
        let mut ignores: Vec<Option<GlobSet>> = vec![None; all.len()];
        for (name, globs) in &self.per_path_ignores {
            ignores[check_rule_name(name)?] = Some(globset(globs)?);
        }
        Ok(Resolved {
            levels,
            exclude: globset(&self.exclude)?,
            ignores,
            test_code: self.test_code,
            disallowed: self.disallowed.clone(),
        })
    }
}
