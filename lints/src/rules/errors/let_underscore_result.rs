use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `let _ = call(..);` (a function or method call, awaited or not)
    /// whose result is thrown away.
    ///
    /// ## Why is this bad?
    /// `let _ =` is how a `Result` is silenced without a trace: the write
    /// that failed, the message that was never sent, the file that was not
    /// removed. If ignoring the outcome is right, say why in a suppression;
    /// otherwise handle or log the error.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let _ = tx.send(event);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// if let Err(e) = tx.send(event) {
    ///     tracing::warn!(error = %e, "event dropped: receiver gone");
    /// }
    /// ```
    pub static RULE = {
        name: "let-underscore-result",
        category: Errors,
        default: Error,
        summary: "`let _ = call(..)` discards a result that may be an error",
        skip_in_tests: false,
        nodes: [Local],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Local(local) = node else { return };
    if !matches!(local.pat, syn::Pat::Wild(_)) {
        return;
    }
    let Some(init) = &local.init else { return };
    let mut expr = &*init.expr;
    if let syn::Expr::Await(a) = expr {
        expr = &a.base;
    }
    if matches!(expr, syn::Expr::Call(_) | syn::Expr::MethodCall(_)) {
        // From `let` to `;`: not the attributes above the statement.
        let span = local
            .let_token
            .span
            .join(local.semi_token.span)
            .unwrap_or(local.let_token.span);
        cx.report(
            span,
            "`let _ =` discards the result of this call",
            Some("handle or log the error; if ignoring it is right, suppress with the reason"),
        );
    }
}
