use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `static mut` items.
    ///
    /// ## Why is this bad?
    /// Any access to a `static mut` is a potential data race and undefined
    /// behaviour the moment a second thread exists; references to one are
    /// being phased out of the language (`static_mut_refs`). Use an atomic,
    /// a `Mutex`, `OnceLock` or a thread-local.
    ///
    /// ## Example
    /// ```rust,ignore
    /// static mut REQUESTS: u64 = 0;
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// static REQUESTS: AtomicU64 = AtomicU64::new(0);
    /// ```
    pub static RULE = {
        name: "static-mut",
        category: Unsafe,
        default: Error,
        summary: "`static mut` is a data race waiting to happen",
        skip_in_tests: false,
        nodes: [Static],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if let Node::Static(s) = node
        && let syn::StaticMutability::Mut(m) = &s.mutability
    {
        let span = crate::rules::span_from(s.static_token.span, m.span());
        cx.report(
            span,
            format!("`static mut {}`", s.ident),
            Some("use an atomic, `Mutex`, `OnceLock` or `thread_local!` instead"),
        );
    }
}
