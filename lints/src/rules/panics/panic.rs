use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `panic!(..)` outside test code.
    ///
    /// ## Why is this bad?
    /// A panic in a service aborts the current request or thread with no
    /// chance for the caller to recover, retry or report a useful error.
    /// Return a typed error instead.
    ///
    /// ## Example
    /// ```rust,ignore
    /// if len > MAX { panic!("frame too large: {len}"); }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// if len > MAX { return Err(FrameError::TooLarge(len)); }
    /// ```
    pub static RULE = {
        name: "panic",
        category: Panics,
        default: Error,
        summary: "`panic!` aborts the request or thread instead of returning an error",
        skip_in_tests: true,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    crate::rules::check_macro(
        cx,
        node,
        &["panic"],
        "`panic!` in service code",
        "return an error the caller can handle",
    );
}
