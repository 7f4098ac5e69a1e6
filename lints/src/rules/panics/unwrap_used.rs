use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `.unwrap()` and `.unwrap_err()` calls (and `Option::unwrap(x)` /
    /// `Result::unwrap(x)`)
    /// outside test code, including inside macro arguments such as
    /// `format!("{}", x.unwrap())`.
    ///
    /// Not flagged: `unwrap()` in a `const`/`static` initialiser or an inline
    /// `const { .. }` (a panic there fails the build), and
    /// `Some(x).unwrap_err()` (no such method on `Option`: some trait's).
    /// What it cannot see: the receiver's type, so `unwrap()` on a
    /// `Result<T, Infallible>` or `Result<T, !>`, which cannot fail, is
    /// flagged where clippy is quiet; suppress it with the reason.
    ///
    /// ## Why is this bad?
    /// `unwrap()` turns a recoverable error into a panic that takes down the
    /// request, the worker thread or the whole service, with a message that
    /// says nothing about what was being done. Services should propagate
    /// errors with `?` and context, or handle the `None` case explicitly.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let port: u16 = std::env::var("PORT").unwrap().parse().unwrap();
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let port: u16 = std::env::var("PORT")
    ///     .context("PORT is not set")?
    ///     .parse()
    ///     .context("PORT is not a number")?;
    /// ```
    pub static RULE = {
        name: "unwrap-used",
        category: Panics,
        default: Error,
        summary: "`.unwrap()` panics on `None`/`Err` instead of handling the error",
        skip_in_tests: true,
        nodes: [MethodCall, Call],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    super::check_method(
        cx,
        node,
        &["unwrap", "unwrap_err"],
        "`{}()` panics on `None` or `Err`",
        "propagate the error with `?` (adding context), or handle the failure case",
    );
}
