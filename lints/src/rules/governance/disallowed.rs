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
    /// `use std::env`, `super::env::set_var`, a name a glob import brings
    /// in); a type (`std::rc::Rc`) matches its uses in types and its
    /// associated functions (`Rc::new`); a macro (`std::dbg`, or
    /// `log::info`) matches its invocations. A name bound as a local
    /// variable, parameter or pattern (`now - start`, `drop(lock)`) is the
    /// local, never the banned item.
    ///
    /// A method (`Type::method`) matches the fully qualified call, and
    /// `x.method()` where the file shows the type of `x`: a parameter or
    /// `let` with a written type (`m: &Mutex<T>`), a constructor
    /// (`let m = Arc::new(Mutex::new(..))`), a field of a struct declared in
    /// the file (`self.state.lock()` with `state: Mutex<State>`), through
    /// `&`, `Arc`, `Rc` and `Box`. govkit has no type checker: where the
    /// receiver's type is not visible (a value returned by a call, a field
    /// of a struct from another file), the call is not flagged, unless the
    /// entry sets `match-methods = "by-name"`, which flags every method of
    /// that name and says so in the finding:
    ///
    /// ```toml
    /// [[lint.disallowed]]
    /// path = "std::sync::Mutex::lock"
    /// reason = "use the sharded lock"
    /// match-methods = "by-name"   # default "never": only visible types
    /// ```
    ///
    /// Scopes of `use` declarations are merged per file.
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
    used == banned.as_slice()
        // `Rc::new` is a use of the banned type `Rc`.
        || (banned.last().is_some_and(|l| is_type_name(l))
            && used.len() > banned.len()
            && used.starts_with(banned))
}

fn report(cx: &mut Cx<'_>, span: proc_macro2::Span, d: &Disallowed, note: &str) {
    cx.report(
        span,
        format!("`{}` is disallowed: {}", d.path.join("::"), d.reason),
        Some(&format!(
            "configured in [[lint.disallowed]] in govkit.toml{note}"
        )),
    );
}

/// What a path written in the code can mean: as resolved through `use`;
/// for a bare prelude name (`drop`, `Vec`), the prelude item; for a bare
/// name not imported by name, what the file's glob imports could give it.
/// A bare name bound as a local (a variable, parameter or pattern) means
/// only the local: nothing.
fn meanings(cx: &Cx<'_>, path: &syn::Path, resolved: &[String]) -> Vec<Vec<String>> {
    let bare = path.leading_colon.is_none() && path.segments.len() == 1;
    if bare && cx.locals.contains(&path.segments[0].ident) {
        return Vec::new();
    }
    let mut out = vec![resolved.to_vec()];
    let full = crate::scope::resolve(path, cx.uses);
    if full != resolved {
        out.push(full);
    }
    if let Some(first) = path.segments.first()
        && path.leading_colon.is_none()
        && !cx.uses.imports(&first.ident)
    {
        let rest: Vec<String> = path
            .segments
            .iter()
            .skip(1)
            .map(|s| s.ident.to_string())
            .collect();
        for mut p in cx.uses.glob_candidates(&first.ident.to_string()) {
            p.extend(rest.iter().cloned());
            out.push(p);
        }
    }
    out
}

/// `x.method()` against a banned `Type::method`: decided by the receiver's
/// type where the file shows it; otherwise by name only if the entry asks.
fn check_method(cx: &mut Cx<'_>, m: &syn::ExprMethodCall) {
    let name = m.method.to_string();
    let mut receiver_type: Option<Option<crate::scope::TypePath>> = None;
    let mut hit = None;
    for d in cx
        .disallowed
        .iter()
        .filter(|d| d.is_method() && d.path.last() == Some(&name))
    {
        let ty = receiver_type.get_or_insert_with(|| receiver(cx, &m.receiver));
        let banned = d.method_type();
        let found = match ty {
            // `Mutex` banned as written without its module matches any
            // type of that name; a full path must match in full.
            Some(t) if banned.len() == 1 => t.last() == banned.last(),
            Some(t) => t.as_slice() == banned,
            None => d.by_name,
        };
        if found {
            hit = Some((d.clone(), ty.is_none()));
            break;
        }
    }
    if let Some((d, unknown)) = hit {
        let note = if unknown {
            "; the receiver's type is not visible, matched by name (match-methods = \"by-name\")"
        } else {
            ""
        };
        report(cx, m.method.span(), &d, note);
    }
}

/// The receiver's type, where the syntax shows it: a local or parameter
/// with a written type or a constructor, a field of a struct in this file.
fn receiver(cx: &Cx<'_>, e: &syn::Expr) -> Option<crate::scope::TypePath> {
    match e {
        syn::Expr::Path(p) if p.path.segments.len() == 1 && p.qself.is_none() => {
            cx.locals.type_of(&p.path.segments[0].ident).cloned()
        }
        syn::Expr::Paren(p) => receiver(cx, &p.expr),
        syn::Expr::Reference(r) => receiver(cx, &r.expr),
        syn::Expr::MethodCall(c)
            if c.args.is_empty()
                && matches!(c.method.to_string().as_str(), "clone" | "as_ref" | "deref") =>
        {
            receiver(cx, &c.receiver)
        }
        other => crate::scope::expr_type(other, cx.uses, &cx.fields),
    }
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if cx.disallowed.is_empty() {
        return;
    }
    let (meanings, span) = match node {
        Node::Call(e, Some(path)) => {
            let syn::Expr::Path(p) = &*e.func else { return };
            (meanings(cx, &p.path, path.get()), e.func.span())
        }
        Node::Path(e, path) => (meanings(cx, &e.path, path.get()), e.span()),
        Node::Type(t, path) => (meanings(cx, &t.path, path.get()), t.span()),
        Node::Macro(m) => {
            let mut used = vec![cx.uses.resolve(&m.path)];
            // std's macros are in scope everywhere: `dbg!` is `std::dbg`.
            if m.path.segments.len() == 1 && m.path.leading_colon.is_none() {
                let name = m.path.segments[0].ident.to_string();
                used.push(vec!["std".to_owned(), name.clone()]);
                used.push(vec!["core".to_owned(), name]);
            }
            (used, m.path.span())
        }
        Node::MethodCall(m) => return check_method(cx, m),
        _ => return,
    };
    if let Some(d) = cx
        .disallowed
        .iter()
        .find(|d| meanings.iter().any(|used| matches(used, d)))
        .cloned()
    {
        report(cx, span, &d, "");
    }
}
