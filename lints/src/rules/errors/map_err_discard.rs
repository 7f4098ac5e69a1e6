use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `.map_err(|_| ..)`: the closure throws the original error away
    /// and replaces it.
    ///
    /// Off by default; turn it on with `map-err-discard = "warn"` (or
    /// `"error"`) under `[lint.rules]`. Whether a cause is lost depends on
    /// the type of the error thrown away, which govkit cannot see: on seven
    /// widely used crates two thirds of its findings dropped errors that
    /// carry nothing (`ring::error::Unspecified`, unit-struct errors, a
    /// value handed back in `Err`). Worth it in a codebase whose errors all
    /// carry their cause.
    ///
    /// ## Why is this bad?
    /// The replacement error loses the cause: "invalid config" instead of
    /// "invalid config: expected integer at line 4". Keep the source as a
    /// field or use a context helper that chains it.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let n: u32 = s.parse().map_err(|_| Error::BadCount)?;
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let n: u32 = s.parse().map_err(|source| Error::BadCount { source })?;
    /// ```
    pub static RULE = {
        name: "map-err-discard",
        category: Errors,
        default: Off,
        summary: "`.map_err(|_| ..)` drops the source error",
        skip_in_tests: false,
        nodes: [MethodCall],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::MethodCall(m) = node else { return };
    if m.method != "map_err" || m.args.len() != 1 {
        return;
    }
    if let Some(syn::Expr::Closure(c)) = m.args.first()
        && c.inputs.len() == 1
        && matches!(c.inputs.first(), Some(syn::Pat::Wild(_)))
    {
        let span = crate::rules::span_from(c.or1_token.span, c.or2_token.span);
        cx.report(
            span,
            "`map_err(|_| ..)` discards the original error",
            Some(
                "keep the source error (e.g. as a field of the new error) so the cause is not lost",
            ),
        );
    }
}
