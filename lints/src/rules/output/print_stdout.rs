use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `print!` and `println!` outside test code.
    ///
    /// A warning by default (like clippy, which does not check it unless
    /// asked): a new binary's `println!("Hello, world!")` passes the gate,
    /// and a service that wants it blocking sets `print-stdout = "error"`.
    ///
    /// ## Why is this bad?
    /// A service's stdout is not a log: lines there have no level, no
    /// timestamp, no request id, and are lost or interleaved by the process
    /// supervisor. `println!` also panics when stdout is closed. Use
    /// `tracing` (or `log`) instead. Command-line tools that print results on
    /// purpose should turn this rule off for their binary with a per-path
    /// ignore.
    ///
    /// Build scripts (`build.rs`, or the crate's `package.build`, and the
    /// modules they declare) are not checked: their stdout is cargo's
    /// protocol (`cargo:rerun-if-changed=…`, `cargo::rustc-cfg=…`). A
    /// `println!` whose format string starts with `cargo:` is passed over
    /// anywhere else too.
    ///
    /// ## Example
    /// ```rust,ignore
    /// println!("connected to {addr}");
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// tracing::info!(%addr, "connected");
    /// ```
    pub static RULE = {
        name: "print-stdout",
        category: Output,
        default: Warn,
        summary: "`print!`/`println!` instead of structured logging",
        skip_in_tests: true,
        nodes: [Macro],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    // Build scripts are skipped by the engine (their stdout is cargo's);
    // directives printed elsewhere are passed over too.
    if let Node::Macro(m) = node
        && is_cargo_directive(m)
    {
        return;
    }
    crate::rules::check_macro(
        cx,
        node,
        &["println", "print"],
        "`{}!` writes to stdout",
        "log with `tracing` instead; stdout is not a service log",
    );
}

/// `println!("cargo:…")` / `println!("cargo::…")`: a build script's
/// instruction to cargo.
fn is_cargo_directive(m: &syn::Macro) -> bool {
    let Some(proc_macro2::TokenTree::Literal(first)) = m.tokens.clone().into_iter().next() else {
        return false;
    };
    syn::parse_str::<syn::LitStr>(&first.to_string()).is_ok_and(|s| s.value().starts_with("cargo:"))
}
