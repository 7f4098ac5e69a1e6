use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `std::mem::forget` (called or passed as a function). A literal
    /// argument (`forget(7)`) has no destructor and is not flagged; a
    /// variable of a `Copy` type is, since govkit cannot see its type
    /// (clippy can, and is quiet there).
    ///
    /// ## Why is this bad?
    /// Forgetting a value skips its destructor: file descriptors, sockets,
    /// locks and memory leak. In services this turns into slow resource
    /// exhaustion. `ManuallyDrop` says the same thing explicitly where it is
    /// really needed.
    ///
    /// ## Example
    /// ```rust,ignore
    /// std::mem::forget(guard);
    /// ```
    /// Use instead: let the value drop, or wrap it in `ManuallyDrop` and
    /// document who frees it.
    pub static RULE = {
        name: "mem-forget",
        category: Unsafe,
        default: Error,
        summary: "`mem::forget` leaks the value's resources",
        skip_in_tests: false,
        nodes: [Call, Path],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    // A literal has no destructor to skip.
    if let Node::Call(e, _) = node
        && matches!(e.args.first(), Some(syn::Expr::Lit(_)))
    {
        return;
    }
    super::check_mem_fn(
        cx,
        node,
        "forget",
        "`mem::forget` skips the destructor",
        "let the value drop, or use `ManuallyDrop` and document who releases it",
    );
}
