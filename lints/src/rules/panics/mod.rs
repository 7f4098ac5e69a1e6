//! Code that can panic or exit the process.

pub(crate) mod expect_used;
pub(crate) mod panic;
pub(crate) mod process_exit;
pub(crate) mod todo;
pub(crate) mod unimplemented;
pub(crate) mod unwrap_used;

use crate::engine::{Cx, Node};

/// Reports `.method()` calls (any receiver) and `Option::method(x)` /
/// `Result::method(x)` calls; `{}` in `message` becomes the method's name.
pub(crate) fn check_method(
    cx: &mut Cx<'_>,
    node: &Node<'_>,
    methods: &[&str],
    message: &str,
    help: &str,
) {
    match node {
        Node::MethodCall(e) if methods.iter().any(|m| e.method == m) && !option_err_method(e) => {
            let span = crate::rules::span_from(e.method.span(), e.paren_token.span.close());
            cx.report(
                span,
                message.replace("{}", &e.method.to_string()),
                Some(help),
            );
        }
        Node::Call(e, Some(path))
            if methods.iter().any(|m| path.last_is(m))
                && path.get().len() >= 2
                && matches!(
                    path.get()[path.get().len() - 2].as_str(),
                    "Option" | "Result"
                ) =>
        {
            use syn::spanned::Spanned;
            let name = path.get().last().cloned().unwrap_or_default();
            cx.report(e.func.span(), message.replace("{}", &name), Some(help));
        }
        _ => {}
    }
}

/// `Some(x).unwrap_err()`: `Option` has no `unwrap_err`/`expect_err`, so
/// this is some trait's method, not the panicking one.
fn option_err_method(e: &syn::ExprMethodCall) -> bool {
    let is_option = match &*e.receiver {
        syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some")),
        syn::Expr::Path(p) => p.path.is_ident("None"),
        _ => false,
    };
    is_option && e.method.to_string().ends_with("_err")
}
