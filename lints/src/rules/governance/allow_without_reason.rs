use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `#[allow(..)]` and `#[expect(..)]` (inner or outer) without a
    /// `reason = ".."`.
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
    if !has_reason {
        cx.report(
            attr.span(),
            format!("`#[{name}(..)]` without a reason"),
            Some("add `reason = \"why this is fine\"` inside the attribute"),
        );
    }
}
