use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;
use crate::uses::ends_with;

declare_rule! {
    /// ## What it does
    /// Flags unbounded channel constructors: `std::sync::mpsc::channel()`,
    /// `tokio::sync::mpsc::unbounded_channel()`, and `unbounded()` of
    /// crossbeam-channel, flume and async-channel (resolved through `use`).
    ///
    /// ## Why is this bad?
    /// An unbounded queue turns overload into memory growth instead of
    /// backpressure: when consumers fall behind, the service keeps
    /// accepting work until it is OOM-killed. A bounded channel makes
    /// producers wait (or fail fast) and keeps latency and memory bounded.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let (tx, rx) = tokio::sync::mpsc::channel(1024);
    /// ```
    pub static RULE = {
        name: "unbounded-channel",
        category: Async,
        default: Error,
        summary: "unbounded channel: overload becomes memory growth",
        skip_in_tests: true,
        nodes: [Call],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Call(e, Some(path)) = node else {
        return;
    };
    let candidate = ["channel", "unbounded_channel", "unbounded"]
        .iter()
        .any(|n| path.may_be(n));
    if !candidate {
        return;
    }
    let path = path.get();
    let hit = (ends_with(path, &["mpsc", "channel"])
        && path.first().is_some_and(|s| s == "std")
        && e.args.is_empty())
        || path.last().is_some_and(|s| s == "unbounded_channel")
        || ["crossbeam_channel", "crossbeam", "flume", "async_channel"]
            .iter()
            .any(|c| {
                path.first().is_some_and(|s| s == c)
                    && path.last().is_some_and(|s| s == "unbounded")
            });
    if hit {
        cx.report(
            e.func.span(),
            format!("`{}` creates an unbounded channel", path.join("::")),
            Some("use a bounded channel sized for the expected backlog"),
        );
    }
}
