use std::io::{self, Write};

use crate::{Report, Severity};

/// GitHub Actions workflow commands: `::error file=…,line=…::message`.
/// See "Workflow commands for GitHub Actions" (setting an error message).
pub(super) fn render(reports: &[&Report], out: &mut dyn Write) -> io::Result<()> {
    for report in reports {
        for d in &report.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "notice",
            };
            let mut props = Vec::new();
            if let Some(loc) = &d.location {
                props.push(format!("file={}", escape_property(&loc.path)));
                if loc.has_line() {
                    props.push(format!("line={}", loc.line));
                    props.push(format!("col={}", loc.column));
                    props.push(format!("endLine={}", loc.end_line));
                    if loc.end_line == loc.line {
                        props.push(format!("endColumn={}", loc.end_column));
                    }
                }
            }
            props.push(format!(
                "title={}",
                escape_property(&format!("{} ({})", d.code, report.gate))
            ));
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            writeln!(
                out,
                "::{command} {}::{}",
                props.join(","),
                escape_data(&message)
            )?;
        }
    }
    Ok(())
}

pub(super) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(super) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_separators() {
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(escape_data("50%,\r\n:"), "50%25,%0D%0A:");
    }
}
