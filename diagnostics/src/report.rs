use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Location;

/// How much a diagnostic matters. Only [`Severity::Error`] fails a gate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the gate (exit code 1).
    Error,
    /// Reported, does not fail the gate.
    Warning,
    /// Informational.
    Note,
}

impl Severity {
    /// The lowercase name used in every output format.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of a gate: a stable code, a severity, a message for a person,
/// where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable, kebab-case identifier (`unwrap-used`, `file-checksum-mismatch`).
    pub code: String,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    /// Where, when the finding has a place.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Short label shown under the underlined span in human output.
    #[serde(skip)]
    pub label: Option<String>,
    /// What to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Other places that explain the finding (the `.await` a lock guard is
    /// held across), each with what it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// Gate-specific fields added to this diagnostic's JSON object
    /// (e.g. `"crate"` for vendor problems), kept out of the common schema.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Diagnostic {
    /// A diagnostic with no location yet.
    #[must_use]
    pub fn new(code: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.into(),
            severity,
            message: message.into(),
            location: None,
            label: None,
            help: None,
            related: Vec::new(),
            fields: Map::new(),
        }
    }

    /// Adds a secondary place, shown with `message`.
    #[must_use]
    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    /// Sets where the diagnostic points.
    #[must_use]
    pub fn with_location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets the label drawn under the span.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the hint that tells the user what to do next.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a gate-specific JSON field.
    #[must_use]
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }
}

/// A secondary place of a [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// What is there.
    pub message: String,
}

/// What a rule or check code means, for SARIF's rule table and `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// The code diagnostics carry.
    pub code: String,
    /// One-line description.
    pub summary: String,
    /// The severity the rule reports at by default.
    pub default_severity: Severity,
    /// Longer help (markdown), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Error-level diagnostics.
    pub errors: usize,
    /// Warning-level diagnostics.
    pub warnings: usize,
    /// Note-level diagnostics.
    pub notes: usize,
}

/// Everything one gate found in one run, plus what renderers need to show it:
/// the source text of the files it points into and the table of codes.
#[derive(Debug, Clone)]
pub struct Report {
    /// The gate that produced it (`lint`, `vendor`, `bench`, …).
    pub gate: String,
    /// The key under which JSON output lists the diagnostics
    /// (`findings` for lint, `problems` for vendor, …).
    pub list_key: String,
    /// The diagnostics, in the order they were pushed.
    pub diagnostics: Vec<Diagnostic>,
    /// The codes this gate can report, for SARIF's rule table.
    pub rules: BTreeMap<String, RuleInfo>,
    /// File contents by display path, for code frames. A gate that reads a
    /// file adds its text here so the renderer never re-reads (and never
    /// sees a different version of) the file.
    pub sources: BTreeMap<String, Arc<str>>,
    /// Gate-specific top-level JSON fields (e.g. `"crates": 196`).
    pub fields: Map<String, Value>,
}

impl Report {
    /// An empty report for `gate`, listing diagnostics under `"diagnostics"`.
    #[must_use]
    pub fn new(gate: impl Into<String>) -> Self {
        Report {
            gate: gate.into(),
            list_key: "diagnostics".to_owned(),
            diagnostics: Vec::new(),
            rules: BTreeMap::new(),
            sources: BTreeMap::new(),
            fields: Map::new(),
        }
    }

    /// Sets the JSON key that lists the diagnostics.
    #[must_use]
    pub fn with_list_key(mut self, key: impl Into<String>) -> Self {
        self.list_key = key.into();
        self
    }

    /// Adds a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Records the text of a file diagnostics point into.
    pub fn add_source(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>) {
        self.sources.insert(path.into(), text.into());
    }

    /// Registers a code this gate can report.
    pub fn add_rule(&mut self, rule: RuleInfo) {
        self.rules.insert(rule.code.clone(), rule);
    }

    /// Sets a gate-specific top-level JSON field.
    pub fn set_field(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.fields.insert(key.into(), value.into());
    }

    /// Counts by severity.
    #[must_use]
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for d in &self.diagnostics {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        s
    }

    /// True when any diagnostic is an error: the gate failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Sorts diagnostics by path, line, column, then code, so output is
    /// stable whatever order parallel workers finished in.
    pub fn sort(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                d.location
                    .as_ref()
                    .map(|l| (l.path.clone(), l.line, l.column))
            };
            key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
        });
    }
}
