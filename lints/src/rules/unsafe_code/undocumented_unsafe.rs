use proc_macro2::Span;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `unsafe { .. }` blocks and `unsafe impl`s without a
    /// `// SAFETY:` comment right before them (on the lines directly above
    /// the block or the statement that contains it, or earlier on the same
    /// line). Like clippy's `undocumented_unsafe_blocks`, the word is
    /// matched in any case: `// Safety:` and `// safety:` count.
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
    let span: Span = match node {
        Node::UnsafeBlock(e) => e.unsafe_token.span,
        Node::UnsafeImpl(i) => match &i.unsafety {
            Some(u) => u.span,
            None => return,
        },
        _ => return,
    };
    let line = span.start().line;
    if documented(cx, line, span.start().column) || documented(cx, cx.stmt_line, usize::MAX) {
        return;
    }
    cx.report(
        span,
        "`unsafe` without a `// SAFETY:` comment",
        Some("write `// SAFETY: <why the invariants hold>` on the line above"),
    );
}

/// A `SAFETY:` comment on `line` before `column`, or in the run of comment
/// (and attribute) lines directly above `line`.
fn documented(cx: &Cx<'_>, line: usize, column: usize) -> bool {
    let Some(this) = cx.lines.line(cx.source, line) else {
        return false;
    };
    let before: String = this.chars().take(column).collect();
    if before.find("//").is_some_and(|i| says_safety(&before[i..]))
        || before.find("/*").is_some_and(|i| says_safety(&before[i..]))
    {
        return true;
    }
    for l in (1..line).rev().filter_map(|n| cx.lines.line(cx.source, n)) {
        let t = l.trim_start();
        if t.starts_with("//") || t.starts_with("/*") || t.starts_with('*') {
            if says_safety(t) {
                return true;
            }
        } else if !t.starts_with("#[") {
            return false;
        }
    }
    false
}

/// Whether a comment says `SAFETY:`, in any case (as clippy matches it).
fn says_safety(comment: &str) -> bool {
    comment.to_ascii_uppercase().contains("SAFETY:")
}
