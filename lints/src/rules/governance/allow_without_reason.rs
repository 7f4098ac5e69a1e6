use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `#[allow(..)]` and `#[expect(..)]` (inner or outer) without a
    /// `reason = ".."`. A plain `//` comment after the attribute on its line
    /// or on the line directly above counts as the reason: crates that
    /// support Rust older than 1.81 cannot write `reason =` (clippy's
    /// `allow_attributes_without_reason` accepts only `reason =`). Unlike
    /// clippy, govkit does not read `#[clippy::msrv]`: an `#[allow]` in code
    /// that declares a minimum Rust version older than 1.81 is still flagged
    /// unless a comment gives the reason.
    ///
    /// ## Why is this bad?
    /// A silenced compiler or clippy lint is a decision someone made. Without
    /// the reason, a reviewer cannot tell a deliberate exception from a
    /// shortcut, and nobody knows when it can be removed.
    ///
    /// ## Example
    /// ```rust,ignore
    /// #[allow(clippy::too_many_arguments)]
    /// fn new(..) {}
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// #[allow(clippy::too_many_arguments, reason = "mirrors the wire format's fields one to one")]
    /// fn new(..) {}
    /// ```
    pub static RULE = {
        name: "allow-without-reason",
        category: Governance,
        default: Error,
        summary: "`#[allow(..)]` without `reason = \"..\"`",
        skip_in_tests: false,
        nodes: [Attribute],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Attribute(attr) = node else { return };
    let name = if attr.path().is_ident("allow") {
        "allow"
    } else if attr.path().is_ident("expect") {
        "expect"
    } else {
        return;
    };
    let Ok(list) = attr.meta.require_list() else {
        return;
    };
    let has_reason = list
        .tokens
        .clone()
        .into_iter()
        .any(|tt| matches!(tt, proc_macro2::TokenTree::Ident(i) if i == "reason"));
    if !has_reason && !commented(cx, attr) {
        cx.report(
            attr.span(),
            format!("`#[{name}(..)]` without a reason"),
            Some("add `reason = \"why this is fine\"` inside the attribute"),
        );
    }
}

/// A plain `//` comment right after the attribute on its line, or on the
/// line directly above it: the reason, written the way crates that support
/// Rust older than 1.81 (no `reason =`) write it.
fn commented(cx: &Cx<'_>, attr: &syn::Attribute) -> bool {
    let end = attr.span().end();
    let is_comment = |t: &str| {
        t.starts_with("//") && !t.starts_with("///") && !t.starts_with("//!") && t.len() > 2
    };
    let after = cx
        .lines
        .line(cx.source, end.line)
        .and_then(|l| l.get(l.char_indices().nth(end.column).map_or(l.len(), |(i, _)| i)..))
        .is_some_and(|rest| is_comment(rest.trim()));
    let above = attr.span().start().line > 1
        && cx
            .lines
            .line(cx.source, attr.span().start().line - 1)
            .is_some_and(|l| is_comment(l.trim()));
    after || above
}
