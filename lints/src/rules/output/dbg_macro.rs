use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `dbg!(..)`, in test code too.
    ///
    /// ## Why is this bad?
    /// `dbg!` is a debugging aid left behind: it writes to stderr with file
    /// and line on every call, in release builds too, and can dump sensitive
    /// values into logs.
    ///
    /// `govkit lint --fix` removes it, keeping the expression.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let total = dbg!(a + b);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let total = a + b;
    /// ```
    pub static RULE = {
        name: "dbg-macro",
        category: Output,
        default: Error,
        summary: "`dbg!` left in the code",
        skip_in_tests: false,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let before = cx.finding_count();
    crate::rules::check_macro(
        cx,
        node,
        &["dbg"],
        "`dbg!` left in the code",
        "remove it (keep the expression inside); `govkit lint --fix` does this",
    );
    if cx.finding_count() > before
        && let Node::Macro(m) = node
        && let Some(fix) = fix(cx.source, m)
    {
        cx.fix_last(fix.0, fix.1);
    }
}

/// `dbg!(e)` → `e`, `dbg!(a, b)` → `(a, b)`, `dbg!()` → `()`: what the
/// macro evaluates to, without the printing.
fn fix(source: &str, m: &syn::Macro) -> Option<(std::ops::Range<usize>, String)> {
    use syn::parse::Parser;
    use syn::spanned::Spanned;
    let whole = m.path.span().join(m.delimiter.span().close())?.byte_range();
    let args = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated
        .parse2(m.tokens.clone())
        .ok()?;
    let text = |e: &syn::Expr| source.get(e.span().byte_range()).map(str::to_owned);
    let replacement = match args.len() {
        0 => "()".to_owned(),
        1 => text(args.first()?)?,
        _ => {
            let first = args.first()?.span().byte_range().start;
            let last = args.last()?.span().byte_range().end;
            format!("({})", source.get(first..last)?)
        }
    };
    Some((whole, replacement))
}
