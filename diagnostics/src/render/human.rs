use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::location::line_span;
use crate::{Diagnostic, Report, Severity};

use super::Options;

pub(super) fn render(
    reports: &[&Report],
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let renderer = renderer(options);
    for report in reports {
        for d in &report.diagnostics {
            let text = render_with(&renderer, report, d);
            writeln!(out, "{text}\n")?;
        }
        let s = report.summary();
        if reports.len() == 1 || !report.diagnostics.is_empty() {
            writeln!(
                out,
                "{}",
                summary_line(&report.gate, s.errors, s.warnings, s.notes)
            )?;
        }
    }
    Ok(())
}

fn renderer(options: &Options) -> Renderer {
    if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

/// Renders one diagnostic as a rustc-style block (no trailing newline).
#[must_use]
pub fn render_diagnostic(report: &Report, diagnostic: &Diagnostic, color: bool) -> String {
    let options = Options {
        color,
        ..Options::default()
    };
    render_with(&renderer(&options), report, diagnostic)
}

fn render_with(renderer: &Renderer, report: &Report, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let title = level
        .clone()
        .primary_title(d.message.as_str())
        .id(d.code.as_str());
    let mut groups = Vec::with_capacity(2);
    let group = match &d.location {
        None => Group::with_title(title),
        Some(loc) => {
            let source = report.sources.get(&loc.path);
            // A span we can underline: the gate's own, else the whole line.
            let span = loc.span.clone().or_else(|| {
                let s = source?;
                let line = line_span(s, loc.line).filter(|_| loc.has_line())?;
                // From the column to the end of the line.
                let text = &s[line.clone()];
                let skip: usize = text
                    .chars()
                    .take(loc.column.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                Some(line.start + skip..line.end)
            });
            match (source, span) {
                (Some(source), Some(span)) if span.end <= source.len() => {
                    let mut annotation = AnnotationKind::Primary.span(span);
                    if let Some(label) = &d.label {
                        annotation = annotation.label(label.as_str());
                    }
                    let mut snippet = Snippet::source(&**source)
                        .path(loc.path.as_str())
                        .fold(true)
                        .annotation(annotation);
                    // Secondary places in the same file, labelled.
                    for r in d.related.iter().filter(|r| r.location.path == loc.path) {
                        if let Some(span) =
                            r.location.span.clone().filter(|s| s.end <= source.len())
                        {
                            snippet = snippet.annotation(
                                AnnotationKind::Context.span(span).label(r.message.as_str()),
                            );
                        }
                    }
                    title.element(snippet)
                }
                _ => {
                    let mut origin = Origin::path(loc.path.as_str());
                    if loc.has_line() {
                        origin = origin.line(loc.line).char_column(loc.column.max(1));
                    }
                    title.element(origin)
                }
            }
        }
    };
    groups.push(group);
    if let Some(help) = &d.help {
        groups.push(Group::with_title(
            Level::HELP.secondary_title(help.as_str()),
        ));
    }
    renderer.render(&groups)
}

fn summary_line(gate: &str, errors: usize, warnings: usize, notes: usize) -> String {
    if errors + warnings + notes == 0 {
        return format!("{gate}: no findings");
    }
    let mut parts = Vec::new();
    for (n, word) in [(errors, "error"), (warnings, "warning"), (notes, "note")] {
        if n > 0 {
            parts.push(format!("{n} {word}{}", if n == 1 { "" } else { "s" }));
        }
    }
    format!("{gate}: {}", parts.join(", "))
}
