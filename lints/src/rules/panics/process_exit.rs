use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;
use crate::uses::ends_with;

declare_rule! {
    /// ## What it does
    /// Flags `std::process::exit` and `std::process::abort` outside the
    /// top-level `fn main` and test code, however they are imported
    /// (`use std::process::exit as quit; quit(1)` included). Code written
    /// inside any macro invocation is checked, also one from another crate
    /// (clippy skips code it knows came from an external macro).
    ///
    /// ## Why is this bad?
    /// Exiting from library or handler code skips destructors: buffered logs
    /// and metrics are lost, temporary files stay, connections are not
    /// closed cleanly. Only `main` should decide the exit code.
    ///
    /// ## Example
    /// ```rust,ignore
    /// fn load(path: &Path) -> Config {
    ///     let Ok(text) = fs::read_to_string(path) else { std::process::exit(2) };
    ///     ..
    /// }
    /// ```
    /// Use instead: return an error and let `main` map it to an exit code.
    pub static RULE = {
        name: "process-exit",
        category: Panics,
        default: Error,
        summary: "`process::exit`/`abort` outside `fn main` skips destructors",
        skip_in_tests: true,
        nodes: [Call],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if cx.in_main {
        return;
    }
    if let Node::Call(e, Some(path)) = node
        && (path.may_be("exit") || path.may_be("abort"))
    {
        let path = path.get();
        for name in ["exit", "abort"] {
            if ends_with(path, &["process", name]) {
                cx.report(
                    e.func.span(),
                    format!("`process::{name}` outside `fn main`"),
                    Some("return an error and let `main` choose the exit code"),
                );
            }
        }
    }
}
