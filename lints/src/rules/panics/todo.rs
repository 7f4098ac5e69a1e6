use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `todo!()` outside test code.
    ///
    /// ## Why is this bad?
    /// `todo!()` compiles and then panics when the path is taken: unfinished
    /// code that reaches production fails at run time instead of in review.
    ///
    /// ## Example
    /// ```rust,ignore
    /// fn retry_policy(&self) -> Policy { todo!() }
    /// ```
    /// Use instead: finish the code, or return an error saying it is not
    /// supported yet.
    pub static RULE = {
        name: "todo",
        category: Panics,
        default: Error,
        summary: "`todo!()` panics when reached",
        skip_in_tests: true,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    crate::rules::check_macro(
        cx,
        node,
        &["todo"],
        "`todo!()` panics when reached",
        "finish the code or return an error",
    );
}
