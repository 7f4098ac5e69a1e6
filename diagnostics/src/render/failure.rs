//! A run that could not give a verdict (exit 2: a file that cannot be read
//! or parsed, a bad configuration, a missing privilege), in the
//! machine-readable formats, so a CI step that parses stdout gets a
//! document that says so instead of nothing.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Format, Options};

/// Why the run stopped.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// The command (`lint`, `vendor verify`), for the document's name.
    pub command: String,
    /// What went wrong.
    pub message: String,
    /// What to do next, when known.
    pub hint: Option<String>,
    /// The file at fault, as shown to the user (relative where possible).
    pub file: Option<String>,
    /// Its 1-based line, when known.
    pub line: Option<usize>,
    /// The process exit code.
    pub exit_code: u8,
}

/// Writes `failure` in `format`; the human format writes nothing (stderr
/// carries the message).
pub fn render_failure(
    format: Format,
    failure: &Failure,
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => Ok(()),
        Format::Json => {
            let doc = json!({
                "tool": "govkit",
                "version": options.tool_version,
                "command": failure.command,
                "ok": false,
                "exit_code": failure.exit_code,
                "error": {
                    "message": failure.message,
                    "hint": failure.hint,
                    "file": failure.file,
                    "line": failure.line,
                },
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Sarif => {
            let mut notification = json!({
                "level": "error",
                "message": { "text": text(failure) },
            });
            if let Some(file) = &failure.file {
                let mut physical = json!({
                    "artifactLocation": { "uri": super::sarif::path_to_uri(file) },
                });
                if let Some(line) = failure.line {
                    physical["region"] = json!({ "startLine": line.max(1) });
                }
                notification["locations"] = json!([{ "physicalLocation": physical }]);
            }
            let doc = json!({
                "$schema": super::sarif::SCHEMA,
                "version": "2.1.0",
                "runs": [{
                    "tool": { "driver": {
                        "name": "govkit",
                        "version": options.tool_version,
                        "informationUri": super::sarif::INFORMATION_URI,
                    }},
                    "invocations": [{
                        "executionSuccessful": false,
                        "exitCode": failure.exit_code,
                        "toolExecutionNotifications": [notification],
                    }],
                    "results": Value::Array(Vec::new()),
                }],
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Junit => {
            let name = super::junit::escape(&failure.command);
            writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
            writeln!(
                out,
                r#"<testsuites name="govkit" tests="1" failures="0" errors="1">"#
            )?;
            writeln!(
                out,
                r#"  <testsuite name="govkit {name}" tests="1" failures="0" errors="1">"#
            )?;
            writeln!(out, r#"    <testcase classname="govkit" name="{name}">"#)?;
            writeln!(
                out,
                r#"      <error message="{}" type="input-error">{}</error>"#,
                super::junit::escape(&failure.message),
                super::junit::escape(&text(failure))
            )?;
            writeln!(out, "    </testcase>")?;
            writeln!(out, "  </testsuite>")?;
            writeln!(out, "</testsuites>")
        }
        Format::Github => {
            let mut props = vec![format!(
                "title={}",
                super::github::escape_property(&format!("govkit {}", failure.command))
            )];
            if let Some(file) = &failure.file {
                props.push(format!("file={}", super::github::escape_property(file)));
                if let Some(line) = failure.line {
                    props.push(format!("line={line}"));
                }
            }
            writeln!(
                out,
                "::error {}::{}",
                props.join(","),
                super::github::escape_data(&text(failure))
            )
        }
    }
}

/// The message and hint as one text.
fn text(failure: &Failure) -> String {
    match &failure.hint {
        Some(hint) => format!("{}\nhint: {hint}", failure.message),
        None => failure.message.clone(),
    }
}
