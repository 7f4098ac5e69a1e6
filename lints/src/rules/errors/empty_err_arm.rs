use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags error branches that do nothing: a match arm `Err(_) => {}` (or
    /// `=> ()`), and `if let Err(_) = expr {}` with an empty body.
    ///
    /// ## Why is this bad?
    /// The code saw the error and chose to forget it, without a word in the
    /// logs. When the failure later matters, nothing records that it happened.
    ///
    /// ## Example
    /// ```rust,ignore
    /// match conn.flush() {
    ///     Ok(()) => {}
    ///     Err(_) => {}
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// if let Err(e) = conn.flush() {
    ///     tracing::warn!(error = %e, "flush failed");
    /// }
    /// ```
    pub static RULE = {
        name: "empty-err-arm",
        category: Errors,
        default: Error,
        summary: "an `Err(_)` branch with an empty body drops the error",
        skip_in_tests: false,
        nodes: [Arm, If],
        check: check,
    };
}

/// `Err(_)` or `Err(..)` (possibly with a path prefix).
fn is_err_wild(pat: &syn::Pat) -> bool {
    let syn::Pat::TupleStruct(ts) = pat else {
        return false;
    };
    ts.path.segments.last().is_some_and(|s| s.ident == "Err")
        && ts.elems.len() <= 1
        && ts
            .elems
            .iter()
            .all(|p| matches!(p, syn::Pat::Wild(_) | syn::Pat::Rest(_)))
}

fn is_empty(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Block(b) => b.block.stmts.is_empty(),
        syn::Expr::Tuple(t) => t.elems.is_empty(),
        _ => false,
    }
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let message = "the error is matched and ignored";
    let help = Some(
        "log it, count it, or propagate it; if ignoring it is right, suppress with the reason",
    );
    match node {
        Node::Arm(arm) if arm.guard.is_none() && is_err_wild(&arm.pat) && is_empty(&arm.body) => {
            // The pattern and body: not the attributes above the arm.
            let span = crate::rules::span_from(arm.pat.span(), arm.body.span());
            cx.report(span, message, help);
        }
        Node::If(e) => {
            if let syn::Expr::Let(l) = &*e.cond
                && is_err_wild(&l.pat)
                && e.then_branch.stmts.is_empty()
            {
                cx.report(l.span(), message, help);
            }
        }
        _ => {}
    }
}
