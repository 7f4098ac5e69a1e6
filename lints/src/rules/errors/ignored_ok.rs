use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `expr.ok();` used as a statement: the `Result` is converted to
    /// an `Option` only to be dropped.
    ///
    /// ## Why is this bad?
    /// It is a way of ignoring an error that reads like handling it. The
    /// error is gone without a log line or a metric.
    ///
    /// ## Example
    /// ```rust,ignore
    /// std::fs::remove_file(&tmp).ok();
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// if let Err(e) = std::fs::remove_file(&tmp) {
    ///     tracing::debug!(path = %tmp.display(), error = %e, "temp file not removed");
    /// }
    /// ```
    pub static RULE = {
        name: "ignored-ok",
        category: Errors,
        default: Error,
        summary: "`expr.ok();` as a statement silently drops an error",
        skip_in_tests: false,
        nodes: [Stmt],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if let Node::Stmt(syn::Stmt::Expr(syn::Expr::MethodCall(m), Some(_))) = node
        && m.method == "ok"
        && m.args.is_empty()
    {
        let span = crate::rules::span_from(m.method.span(), m.paren_token.span.close());
        cx.report(
            span,
            "`.ok();` discards the error",
            Some("handle or log the error instead of converting it to an ignored `Option`"),
        );
    }
}
