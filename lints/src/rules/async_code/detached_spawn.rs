use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;
use crate::uses::ends_with;

declare_rule! {
    /// ## What it does
    /// Flags `std::thread::spawn(..)`, `tokio::spawn(..)` and
    /// `tokio::task::spawn*(..)` used as a statement (or bound to `_`), so
    /// the handle is dropped on the spot.
    ///
    /// ## Why is this bad?
    /// A dropped handle detaches the thread or task: nobody learns that it
    /// panicked or returned an error, nothing waits for it on shutdown, and
    /// nothing bounds how many pile up. Keep the `JoinHandle`, or spawn into
    /// a `JoinSet`/`TaskTracker` that is awaited.
    ///
    /// ## Example
    /// ```rust,ignore
    /// tokio::spawn(async move { refresh(cache).await });
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// tasks.spawn(async move { refresh(cache).await }); // a JoinSet joined on shutdown
    /// ```
    pub static RULE = {
        name: "detached-spawn",
        category: Async,
        default: Warn,
        summary: "spawned thread or task whose handle is dropped",
        skip_in_tests: true,
        nodes: [Stmt, Local],
        check: check,
    };
}

fn spawn_call(e: &syn::Expr, cx: &Cx<'_>) -> Option<String> {
    let syn::Expr::Call(c) = e else { return None };
    let syn::Expr::Path(p) = &*c.func else {
        return None;
    };
    let path = cx.uses.resolve(&p.path);
    let hit = ends_with(&path, &["thread", "spawn"])
        || ends_with(&path, &["tokio", "spawn"])
        || ["spawn", "spawn_blocking", "spawn_local"]
            .iter()
            .any(|f| ends_with(&path, &["task", f]));
    hit.then(|| path.join("::"))
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let expr = match node {
        Node::Stmt(syn::Stmt::Expr(e, Some(_))) => e,
        Node::Local(l) if matches!(l.pat, syn::Pat::Wild(_)) => match &l.init {
            Some(init) => &*init.expr,
            None => return,
        },
        _ => return,
    };
    if let Some(name) = spawn_call(expr, cx) {
        // From the callee to `)`: not the attributes on the expression.
        let span = match expr {
            syn::Expr::Call(c) => c.func.span().join(c.paren_token.span.close()),
            _ => None,
        };
        cx.report(
            span.unwrap_or_else(|| expr.span()),
            format!("`{name}` handle dropped: the task is detached"),
            Some("keep the JoinHandle (or use a JoinSet) and await it, so failures and shutdown are handled"),
        );
    }
}
