use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `eprint!` and `eprintln!` outside test code.
    ///
    /// A warning by default, like `print-stdout`: set `print-stderr =
    /// "error"` where services must log only through `tracing`.
    ///
    /// ## Why is this bad?
    /// Unstructured stderr lines have no level or fields, cannot be filtered
    /// or sampled, and bypass the log pipeline the service's alerts read.
    ///
    /// ## Example
    /// ```rust,ignore
    /// eprintln!("retrying after error: {e}");
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// tracing::warn!(error = %e, "retrying");
    /// ```
    pub static RULE = {
        name: "print-stderr",
        category: Output,
        default: Warn,
        summary: "`eprint!`/`eprintln!` instead of structured logging",
        skip_in_tests: true,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    crate::rules::check_macro(
        cx,
        node,
        &["eprintln", "eprint"],
        "`{}!` writes to stderr",
        "log with `tracing` instead",
    );
}
