use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::{Report, Severity};

use super::Options;

pub(super) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub(super) const INFORMATION_URI: &str = "https://github.com/govkit/govkit";

/// SARIF 2.1.0: one run per gate, a rule table per run, results pointing at
/// paths relative to `%SRCROOT%`, columns counted in code points.
pub(super) fn render(
    reports: &[&Report],
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let runs: Vec<Value> = reports.iter().map(|r| run(r, options)).collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": runs,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn run(report: &Report, options: &Options) -> Value {
    // The rule table lists every code the gate declared plus any code a
    // diagnostic used without declaring it, so every ruleIndex resolves.
    let mut codes: Vec<&str> = report.rules.keys().map(String::as_str).collect();
    for d in &report.diagnostics {
        if !report.rules.contains_key(&d.code) && !codes.contains(&d.code.as_str()) {
            codes.push(&d.code);
        }
    }
    let rules: Vec<Value> = codes
        .iter()
        .map(|code| {
            let mut rule = Map::new();
            rule.insert("id".into(), json!(code));
            // GitHub code scanning requires a full description and help
            // for every rule: the summary stands in where a gate has no
            // more to say.
            let info = report.rules.get(*code);
            let summary = info.map_or(*code, |i| i.summary.as_str());
            let help = info.and_then(|i| i.help.as_deref()).unwrap_or(summary);
            rule.insert("shortDescription".into(), json!({ "text": summary }));
            rule.insert("fullDescription".into(), json!({ "text": summary }));
            rule.insert("help".into(), json!({ "text": help, "markdown": help }));
            if let Some(info) = info {
                rule.insert(
                    "defaultConfiguration".into(),
                    json!({ "level": level(info.default_severity) }),
                );
            }
            Value::Object(rule)
        })
        .collect();

    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut result = Map::new();
            result.insert("ruleId".into(), json!(d.code));
            if let Some(i) = codes.iter().position(|c| *c == d.code) {
                result.insert("ruleIndex".into(), json!(i));
            }
            result.insert("level".into(), json!(level(d.severity)));
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            result.insert("message".into(), json!({ "text": text }));
            if let Some(loc) = &d.location {
                result.insert(
                    "locations".into(),
                    json!([{ "physicalLocation": physical_location(loc) }]),
                );
            }
            if !d.related.is_empty() {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        json!({
                            "id": i,
                            "physicalLocation": physical_location(&r.location),
                            "message": { "text": r.message },
                        })
                    })
                    .collect();
                result.insert("relatedLocations".into(), Value::Array(related));
            }
            Value::Object(result)
        })
        .collect();

    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({ "driver": {
            "name": "govkit",
            "semanticVersion": options.tool_version,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }}),
    );
    run.insert(
        "automationDetails".into(),
        json!({ "id": format!("govkit/{}/", report.gate) }),
    );
    run.insert("columnKind".into(), json!("unicodeCodePoints"));
    if let Some(root) = &options.source_root_uri {
        run.insert(
            "originalUriBaseIds".into(),
            json!({ "%SRCROOT%": { "uri": root } }),
        );
    }
    run.insert("results".into(), Value::Array(results));
    Value::Object(run)
}

/// A SARIF `physicalLocation`: the file, and the region when there is a line.
fn physical_location(loc: &crate::Location) -> Map<String, Value> {
    let mut physical = Map::new();
    physical.insert(
        "artifactLocation".into(),
        json!({ "uri": path_to_uri(&loc.path), "uriBaseId": "%SRCROOT%" }),
    );
    if loc.has_line() {
        physical.insert(
            "region".into(),
            json!({
                "startLine": loc.line,
                "startColumn": loc.column.max(1),
                "endLine": loc.end_line.max(loc.line),
                "endColumn": loc.end_column.max(1),
            }),
        );
    }
    physical
}

/// A relative path as a URI reference: percent-encode everything but
/// unreserved characters and `/`, so spaces, `#` or `%` in a file name do not
/// break consumers.
pub(super) fn path_to_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// `file://` URI of an absolute directory, ending in `/`, for `%SRCROOT%`.
#[must_use]
pub fn directory_uri(abs_dir: &str) -> String {
    let mut uri = String::from("file://");
    uri.push_str(&path_to_uri(abs_dir));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(path_to_uri("src/a b#%.rs"), "src/a%20b%23%25.rs");
        assert_eq!(path_to_uri("é"), "%C3%A9");
        assert_eq!(directory_uri("/w/x"), "file:///w/x/");
    }
}
