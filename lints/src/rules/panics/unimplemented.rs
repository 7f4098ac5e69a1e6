use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `unimplemented!()` outside test code.
    ///
    /// ## Why is this bad?
    /// Like `todo!()`, it compiles and then panics when called, turning a
    /// missing feature into a crash.
    ///
    /// ## Example
    /// ```rust,ignore
    /// fn flush(&mut self) -> io::Result<()> { unimplemented!() }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// fn flush(&mut self) -> io::Result<()> { Err(io::ErrorKind::Unsupported.into()) }
    /// ```
    pub static RULE = {
        name: "unimplemented",
        category: Panics,
        default: Error,
        summary: "`unimplemented!()` panics when reached",
        skip_in_tests: true,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    crate::rules::check_macro(
        cx,
        node,
        &["unimplemented"],
        "`unimplemented!()` panics when reached",
        "implement it, or return an error such as `io::ErrorKind::Unsupported`",
    );
}
