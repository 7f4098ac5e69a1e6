use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `.expect("..")` and `.expect_err("..")` calls (and `Option::expect` / `Result::expect`
    /// called as functions) outside test code.
    ///
    /// Not flagged in a `const`/`static` initialiser or an inline `const {
    /// .. }`. What it cannot see: the receiver's type, so `expect` on a
    /// `Result<T, Infallible>` or `Result<T, !>` is flagged where clippy is
    /// quiet.
    ///
    /// ## Why is this bad?
    /// `expect` is `unwrap` with a message: it still panics. In a service a
    /// panic drops in-flight work and, with `panic = "abort"`, the process.
    /// Return an error instead; reserve `expect` for invariants that truly
    /// cannot fail, and say why in a suppression.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let cfg = load_config().expect("config");
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let cfg = load_config().context("loading config")?;
    /// ```
    pub static RULE = {
        name: "expect-used",
        category: Panics,
        default: Error,
        summary: "`.expect(..)` panics on `None`/`Err` instead of handling the error",
        skip_in_tests: true,
        nodes: [MethodCall, Call],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    super::check_method(
        cx,
        node,
        &["expect", "expect_err"],
        "`{}()` panics on `None` or `Err`",
        "propagate the error with `?` (adding context), or handle the failure case",
    );
}
