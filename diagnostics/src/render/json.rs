use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::Report;

use super::Options;

/// The JSON object for one report:
/// `{"gate", <list_key>: [diagnostic…], "summary": {…}, …gate fields}`.
#[must_use]
pub fn report_value(report: &Report) -> Value {
    let mut obj = Map::new();
    obj.insert("gate".into(), Value::String(report.gate.clone()));
    let list = report
        .diagnostics
        .iter()
        .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
        .collect();
    obj.insert(report.list_key.clone(), Value::Array(list));
    let s = report.summary();
    obj.insert(
        "summary".into(),
        json!({"errors": s.errors, "warnings": s.warnings, "notes": s.notes, "failed": report.failed()}),
    );
    for (k, v) in &report.fields {
        obj.insert(k.clone(), v.clone());
    }
    Value::Object(obj)
}

pub(super) fn render(
    reports: &[&Report],
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    // One gate: its object is the document. Several (govkit check): a list.
    let doc = match reports {
        [one] => report_value(one),
        many => json!({
            "version": options.tool_version,
            "gates": many.iter().map(|r| report_value(r)).collect::<Vec<_>>(),
        }),
    };
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)
}
