use std::fmt::{self, Write as _};
use std::io::{self, Write};

use crate::{Report, Severity};

/// `JUnit` XML in the shape GitLab, Jenkins and most CI report viewers read:
/// one `<testsuite>` per gate, one `<testcase>` per diagnostic (errors as
/// `<failure>`, others as passing cases with the text in `<system-out>`), and
/// one passing case for a gate with no findings so it still shows up.
pub(super) fn render(reports: &[&Report], out: &mut dyn Write) -> io::Result<()> {
    let xml = build(reports).map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())
}

fn build(reports: &[&Report]) -> Result<String, fmt::Error> {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = reports.iter().map(|r| r.diagnostics.len().max(1)).sum();
    let failures: usize = reports.iter().map(|r| r.summary().errors).sum();
    writeln!(
        xml,
        "<testsuites name=\"govkit\" tests=\"{tests}\" failures=\"{failures}\">"
    )?;
    for report in reports {
        let gate = escape(&report.gate);
        let s = report.summary();
        writeln!(
            xml,
            "  <testsuite name=\"{gate}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            report.diagnostics.len().max(1),
            s.errors
        )?;
        if report.diagnostics.is_empty() {
            writeln!(
                xml,
                "    <testcase classname=\"govkit.{gate}\" name=\"{gate}\"/>"
            )?;
        }
        for d in &report.diagnostics {
            let (name, file_attrs) = match &d.location {
                Some(l) if l.has_line() => (
                    format!("{}:{}:{}", l.path, l.line, l.column),
                    format!(" file=\"{}\" line=\"{}\"", escape(&l.path), l.line),
                ),
                Some(l) => (l.path.clone(), format!(" file=\"{}\"", escape(&l.path))),
                None => (d.code.clone(), String::new()),
            };
            write!(
                xml,
                "    <testcase classname=\"govkit.{gate}.{}\" name=\"{}\"{file_attrs}>",
                escape(&d.code),
                escape(&name)
            )?;
            let mut body = format!("{}: {} [{}]", d.severity, d.message, d.code);
            if let Some(help) = &d.help {
                body.push_str("\nhelp: ");
                body.push_str(help);
            }
            if d.severity == Severity::Error {
                write!(
                    xml,
                    "<failure message=\"{}\" type=\"{}\">{}</failure>",
                    escape(&d.message),
                    escape(&d.code),
                    escape(&body)
                )?;
            } else {
                write!(xml, "<system-out>{}</system-out>", escape(&body))?;
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    Ok(xml)
}

/// Escapes text for XML attributes and content, and drops the control
/// characters XML 1.0 cannot carry at all (a finding's message may quote
/// source that contains them).
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
