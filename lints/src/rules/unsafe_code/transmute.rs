use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `std::mem::transmute` and `transmute_copy`.
    ///
    /// ## Why is this bad?
    /// `transmute` reinterprets bits with no checks at all: size, alignment,
    /// validity and lifetimes are all on the author. Almost every use has a
    /// safe or narrower alternative (`from_ne_bytes`, `as` casts,
    /// `bytemuck`, pointer casts).
    ///
    /// ## Example
    /// ```rust,ignore
    /// let n: u32 = unsafe { std::mem::transmute(bytes) };
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let n = u32::from_ne_bytes(bytes);
    /// ```
    pub static RULE = {
        name: "transmute",
        category: Unsafe,
        default: Error,
        summary: "`mem::transmute` reinterprets bits unchecked",
        skip_in_tests: false,
        nodes: [Call, Path],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    for name in ["transmute", "transmute_copy"] {
        super::check_mem_fn(
            cx,
            node,
            name,
            "`mem::transmute` reinterprets bits unchecked",
            "use a checked conversion (`from_ne_bytes`, `as`, `bytemuck::cast`)",
        );
    }
}
