use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `dbg!(..)`, in test code too.
    ///
    /// ## Why is this bad?
    /// `dbg!` is a debugging aid left behind: it writes to stderr with file
    /// and line on every call, in release builds too, and can dump sensitive
    /// values into logs.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let total = dbg!(a + b);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let total = a + b;
    /// ```
    pub static RULE = {
        name: "dbg-macro",
        category: Output,
        default: Error,
        summary: "`dbg!` left in the code",
        skip_in_tests: false,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    crate::rules::check_macro(
        cx,
        node,
        &["dbg"],
        "`dbg!` left in the code",
        "remove it (keep the expression inside)",
    );
}
