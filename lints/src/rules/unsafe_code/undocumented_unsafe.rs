use proc_macro2::Span;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `unsafe { .. }` blocks and `unsafe impl`s without a
    /// `// SAFETY:` comment where clippy's `undocumented_unsafe_blocks`
    /// accepts one: in the comment lines directly above the block or the
    /// statement that contains it (blank and attribute lines may come
    /// between), or first thing inside the block. The word is matched in
    /// any case (`// Safety:` and `// safety:` count), and a comment that
    /// trails code on the line above (`let x = // SAFETY: ..`) must start
    /// with it. Like clippy, a comment on the same line (`/* SAFETY: */
    /// unsafe {}`, `unsafe {} // SAFETY:`) does not count: put it above. An
    /// `unsafe` block inside a `macro_rules!` body is reported once, in the
    /// body (clippy reports it once per expansion).
    ///
    /// ## Why is this bad?
    /// Every unsafe block relies on invariants the compiler cannot check.
    /// Writing them down is how reviewers verify them and how the next
    /// editor knows what must stay true.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let s = unsafe { std::str::from_utf8_unchecked(bytes) };
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// // SAFETY: `bytes` came from `String::into_bytes` above and was not modified.
    /// let s = unsafe { std::str::from_utf8_unchecked(bytes) };
    /// ```
    pub static RULE = {
        name: "undocumented-unsafe",
        category: Unsafe,
        default: Error,
        summary: "`unsafe` block or impl without a `// SAFETY:` comment",
        skip_in_tests: false,
        nodes: [UnsafeBlock, UnsafeImpl],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let (span, body): (Span, Option<Span>) = match node {
        Node::UnsafeBlock(e) => (e.unsafe_token.span, Some(e.block.brace_token.span.open())),
        Node::UnsafeImpl(i) => match &i.unsafety {
            Some(u) => (u.span, None),
            None => return,
        },
        _ => return,
    };
    let line = span.start().line;
    if documented_above(cx, line)
        || documented_above(cx, cx.stmt_line)
        || trailing_in_statement(cx, line)
        || body.is_some_and(|open| documented_inside(cx, open))
    {
        return;
    }
    cx.report(
        span,
        "`unsafe` without a `// SAFETY:` comment",
        Some("write `// SAFETY: <why the invariants hold>` on the line above"),
    );
}

/// A `SAFETY:` comment in the run of comment lines above `line` (blank and
/// attribute lines may come between), as clippy accepts it.
fn documented_above(cx: &Cx<'_>, line: usize) -> bool {
    for l in (1..line).rev().filter_map(|n| cx.lines.line(cx.source, n)) {
        let t = l.trim_start();
        if t.starts_with("//") || t.starts_with("/*") || t.starts_with('*') {
            if says_safety(t) {
                return true;
            }
        } else if !(t.is_empty() || t.starts_with("#[")) {
            return false;
        }
    }
    false
}

/// `let x = // SAFETY: ..` on the line above, in the same statement.
fn trailing_in_statement(cx: &Cx<'_>, line: usize) -> bool {
    line > cx.stmt_line
        && cx
            .lines
            .line(cx.source, line - 1)
            .and_then(|l| l.find("//").map(|i| &l[i..]))
            .is_some_and(starts_with_safety)
}

/// A `SAFETY:` comment first thing inside the block (`unsafe { // SAFETY: ..`).
fn documented_inside(cx: &Cx<'_>, open: Span) -> bool {
    let after = cx
        .source
        .get(open.byte_range().end..)
        .unwrap_or_default()
        .trim_start();
    (after.starts_with("//") || after.starts_with("/*"))
        && says_safety(after.lines().next().unwrap_or_default())
}

/// Whether a comment says `SAFETY:`, in any case (as clippy matches it).
fn says_safety(comment: &str) -> bool {
    comment.to_ascii_uppercase().contains("SAFETY:")
}

/// Whether a comment starts with `SAFETY:` (what clippy asks of one that
/// trails code: `let x = // not a SAFETY: comment` does not count).
fn starts_with_safety(comment: &str) -> bool {
    comment
        .trim_start_matches(['/', '*', '!', ' ', '\t'])
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("SAFETY:"))
}
