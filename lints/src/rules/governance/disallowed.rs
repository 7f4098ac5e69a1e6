use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;
use crate::settings::Disallowed;

declare_rule! {
    /// ## What it does
    /// Flags uses of paths the organisation bans in govkit.toml:
    ///
    /// ```toml
    /// [[lint.disallowed]]
    /// path = "std::env::set_var"
    /// reason = "not thread-safe; pass configuration explicitly"
    /// ```
    ///
    /// Functions and associated functions match calls and references
    /// (`set_var(..)` after `use std::env::set_var`, `env::set_var` after
    /// `use std::env`); a type (`std::rc::Rc`) matches its uses in types and
    /// its associated functions (`Rc::new`); a macro (`std::dbg`, or
    /// `log::info`) matches its invocations. A method (`Type::method`)
    /// matches the fully qualified call exactly and method-call syntax
    /// (`x.method()`) by name, since govkit has no type information.
    ///
    /// ## Why is this bad?
    /// Each entry is a decision the organisation made (an API that is
    /// unsafe for services, a deprecated internal client, a crate being
    /// phased out), written down once with its reason and enforced in every
    /// repository without writing a compiler plugin.
    ///
    /// ## Example
    /// ```rust,ignore
    /// std::env::set_var("RUST_LOG", "debug");
    /// ```
    /// Use instead: what the entry's `reason` says.
    pub static RULE = {
        name: "disallowed",
        category: Governance,
        default: Error,
        summary: "use of a path banned by `[[lint.disallowed]]` in govkit.toml",
        skip_in_tests: false,
        nodes: [Call, Path, Type, Macro, MethodCall],
        check: check,
    };
}

fn is_type_name(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// Whether `used` (a resolved path) is a use of the banned `d`.
fn matches(used: &[String], d: &Disallowed) -> bool {
    let banned = &d.path;
    if used == banned.as_slice() {
        return true;
    }
    // `Rc::new` is a use of the banned type `Rc`.
    if banned.last().is_some_and(|l| is_type_name(l))
        && used.len() > banned.len()
        && used.starts_with(banned)
    {
        return true;
    }
    // Prelude items used unqualified: `dbg!` for `std::dbg`, `Rc` after a glob.
    used.len() == 1
        && matches!(
            banned.first().map(String::as_str),
            Some("std" | "core" | "alloc")
        )
        && banned.last() == used.first()
}

fn report(cx: &mut Cx<'_>, span: proc_macro2::Span, d: &Disallowed) {
    cx.report(
        span,
        format!("`{}` is disallowed: {}", d.path.join("::"), d.reason),
        Some("configured in [[lint.disallowed]] in govkit.toml"),
    );
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if cx.disallowed.is_empty() {
        return;
    }
    let (used, span) = match node {
        Node::Call(e, Some(path)) => (path.get().to_vec(), e.func.span()),
        Node::Path(e, path) => (path.get().to_vec(), e.span()),
        Node::Type(t, path) => (path.get().to_vec(), t.span()),
        Node::Macro(m) => (cx.uses.resolve(&m.path), m.path.span()),
        Node::MethodCall(m) => {
            let name = m.method.to_string();
            let hit = cx
                .disallowed
                .iter()
                .find(|d| {
                    d.path.len() >= 2
                        && is_type_name(&d.path[d.path.len() - 2])
                        && d.path.last() == Some(&name)
                })
                .cloned();
            if let Some(d) = hit {
                report(cx, m.method.span(), &d);
            }
            return;
        }
        _ => return,
    };
    if let Some(d) = cx.disallowed.iter().find(|d| matches(&used, d)).cloned() {
        report(cx, span, &d);
    }
}
