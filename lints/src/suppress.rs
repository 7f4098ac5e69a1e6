//! Inline suppressions: `// govkit: allow(rule-a, rule-b) -- reason`, on the
//! offending line or alone on the line above it (or above the statement
//! that contains it). The reason is mandatory, and a
//! suppression that suppresses nothing is itself reported, so suppressions
//! cannot silently outlive the code they excused.

use diagnostics::{Diagnostic, LineIndex, Location, Severity};

use crate::comments::Comment;
use crate::rules;

const MARKER: &str = "govkit: allow(";

#[derive(Debug)]
struct Suppression {
    /// 1-based line the comment is on.
    line: usize,
    /// The line it applies to: its own when it trails code, else the next.
    target: usize,
    rules: Vec<String>,
    used: Vec<bool>,
    /// Byte range of the comment, for reporting.
    span: std::ops::Range<usize>,
    problem: Option<String>,
}

/// The suppressions of one file.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    items: Vec<Suppression>,
}

impl Suppressions {
    pub(crate) fn parse(source: &str, lines: &LineIndex, comments: &[Comment]) -> Self {
        let mut items = Vec::new();
        for c in comments.iter().filter(|c| !c.block && !c.doc) {
            let Some(rest) = source[c.start + 2..c.end].trim_start().strip_prefix(MARKER) else {
                continue;
            };
            let span = c.start..c.start + source[c.start..c.end].trim_end().len();
            let lineno = lines.line_column(source, c.start).0;
            // Code before the comment on its line: it suppresses that line.
            let line_start = source[..c.start].rfind('\n').map_or(0, |i| i + 1);
            let trailing = !source[line_start..c.start].trim().is_empty();
            let Some(close) = rest.find(')') else {
                items.push(Suppression {
                    line: lineno,
                    target: lineno,
                    rules: Vec::new(),
                    used: Vec::new(),
                    span,
                    problem: Some("missing `)` after the rule names".to_owned()),
                });
                continue;
            };
            let names: Vec<String> = rest[..close]
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            let after = rest[close + 1..].trim();
            let reason = after.strip_prefix("--").map(str::trim).unwrap_or_default();
            let problem = if names.is_empty() {
                Some("names no rule".to_owned())
            } else if let Some(bad) = names.iter().find(|n| rules::by_name(n).is_none()) {
                Some(match rules::closest(bad) {
                    Some(s) => format!("names unknown rule `{bad}` (did you mean `{s}`?)"),
                    None => format!("names unknown rule `{bad}`"),
                })
            } else if reason.is_empty() {
                Some("has no reason; write `-- why this is fine` after the rule names".to_owned())
            } else {
                None
            };
            items.push(Suppression {
                line: lineno,
                target: if trailing { lineno } else { lineno + 1 },
                used: vec![false; names.len()],
                rules: names,
                span,
                problem,
            });
        }
        Suppressions { items }
    }

    /// True (and marks it used) when a valid suppression covers `rule` on
    /// `line`, or on the statement starting at `stmt_line` that contains it.
    pub(crate) fn suppresses(&mut self, rule: &str, line: usize, stmt_line: usize) -> bool {
        for s in &mut self.items {
            if s.problem.is_none()
                && (s.target == line || s.line == line || s.target == stmt_line)
                && let Some(i) = s.rules.iter().position(|r| r == rule)
            {
                s.used[i] = true;
                return true;
            }
        }
        false
    }

    /// Diagnostics for invalid suppressions and for unused ones naming a rule
    /// that ran (`active`).
    pub(crate) fn leftovers(&self, path: &str, source: &str, active: &[&str]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for s in &self.items {
            let loc = Location::from_span(path, source, s.span.clone());
            if let Some(problem) = &s.problem {
                out.push(
                    Diagnostic::new(
                        "invalid-suppression",
                        Severity::Error,
                        format!("this suppression {problem}"),
                    )
                    .with_location(loc)
                    .with_field("rule", "invalid-suppression")
                    .with_help("the form is `// govkit: allow(rule-name) -- reason`"),
                );
                continue;
            }
            for (name, used) in s.rules.iter().zip(&s.used) {
                if !used && active.contains(&name.as_str()) {
                    out.push(
                        Diagnostic::new(
                            "unused-suppression",
                            Severity::Warning,
                            format!("`allow({name})` suppresses nothing on this line or the next"),
                        )
                        .with_location(loc.clone())
                        .with_field("rule", "unused-suppression")
                        .with_help("remove it: the code it excused is gone or was fixed"),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    /// Offset of the first plain line comment, as the parser sees it.
    fn comment_start(line: &str) -> Option<usize> {
        crate::comments::scan(line)
            .into_iter()
            .find(|c| !c.block && !c.doc)
            .map(|c| c.start)
    }

    #[test]
    fn comments_in_strings_and_docs_are_not_suppressions() {
        assert_eq!(
            comment_start(r#"let s = "// govkit: allow(x) -- y";"#),
            None
        );
        assert_eq!(comment_start("/// govkit: allow(x) -- y"), None);
        assert_eq!(comment_start(r#"f("a\"b"); // c"#), Some(11));
    }
}
