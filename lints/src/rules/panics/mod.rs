//! Code that can panic or exit the process.

pub(crate) mod expect_used;
pub(crate) mod panic;
pub(crate) mod process_exit;
pub(crate) mod todo;
pub(crate) mod unimplemented;
pub(crate) mod unwrap_used;

use crate::engine::{Cx, Node};

/// Reports `.method()` calls (any receiver) and `Option::method(x)` /
/// `Result::method(x)` calls.
pub(crate) fn check_method(
    cx: &mut Cx<'_>,
    node: &Node<'_>,
    method: &str,
    message: &str,
    help: &str,
) {
    match node {
        Node::MethodCall(e) if e.method == method => {
            let span = e
                .method
                .span()
                .join(e.paren_token.span.close())
                .unwrap_or_else(|| e.method.span());
            cx.report(span, message, Some(help));
        }
        Node::Call(e, Some(path))
            if path.last_is(method)
                && path.get().len() >= 2
                && matches!(
                    path.get()[path.get().len() - 2].as_str(),
                    "Option" | "Result"
                ) =>
        {
            use syn::spanned::Spanned;
            cx.report(e.func.span(), message, Some(help));
        }
        _ => {}
    }
}
