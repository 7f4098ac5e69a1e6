use crate::engine::{Cx, Node};
use crate::rules::declare_rule;
use crate::signatures::{self, Condition};

declare_rule! {
    /// ## What it does
    /// Flags `let _ = call(..);` where the call is known to return a
    /// `Result`, thrown away with its error.
    ///
    /// govkit has no type checker, so "known" means: a function or method
    /// of the linted workspace whose signature returns `Result<..>`,
    /// `io::Result<..>`, any `*Result` or a `type` alias to one (an `async
    /// fn` or `impl Future<Output = Result<..>>` once awaited); otherwise a
    /// std/tokio API that returns one (`send`, `try_send`, `write_all`,
    /// `flush`, `remove_file`, `parse`, `set_nonblocking`, a thread's
    /// `join()` or a child's `wait()`, ...); or
    /// `Ok(..)`/`Err(..)`, `.map_err(..)`, `.context(..)`, `.ok_or(..)`.
    /// `write!` is not flagged: into a `String` it cannot fail, and the
    /// destination's type is not known. A name the workspace defines twice with
    /// different return types, a closure, or a value whose type is not
    /// written anywhere is not known, and not flagged: `let _ =` on an
    /// `Option`, a guard or a `bool` is fine.
    ///
    /// ## Why is this bad?
    /// `let _ =` is how a `Result` is silenced without a trace: the write
    /// that failed, the message that was never sent, the file that was not
    /// removed. If ignoring the outcome is right, say why in a suppression;
    /// otherwise handle or log the error.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let _ = tx.send(event);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// if let Err(e) = tx.send(event) {
    ///     tracing::warn!(error = %e, "event dropped: receiver gone");
    /// }
    /// ```
    pub static RULE = {
        name: "let-underscore-result",
        category: Errors,
        default: Error,
        summary: "`let _ = call(..)` discards a result that may be an error",
        skip_in_tests: false,
        nodes: [Local],
        check: check,
    };
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Local(local) = node else { return };
    if !matches!(local.pat, syn::Pat::Wild(_)) {
        return;
    }
    let Some(init) = &local.init else { return };
    let condition = match is_result(&init.expr) {
        Known::No => return,
        Known::Yes => None,
        Known::If(c) => Some(c),
    };
    // From `let` to `;`: not the attributes above the statement.
    let span = crate::rules::span_from(local.let_token.span, local.semi_token.span);
    cx.report(
        span,
        "`let _ =` discards a `Result`, and the error in it",
        Some("handle or log the error; if ignoring it is right, suppress with the reason"),
    );
    if let Some(c) = condition {
        cx.condition_last(c);
    }
}

/// Whether an expression is a `Result`: known from the syntax, not at all,
/// or if the workspace's signatures say so.
enum Known {
    Yes,
    No,
    If(Condition),
}

/// Methods and functions that return a `Result` in std, tokio and the
/// common I/O crates (once awaited, for their async twins), when the
/// workspace does not define a function of that name itself.
const KNOWN_RESULT: &[&str] = &[
    "accept",
    "bind",
    "connect",
    "create_dir",
    "create_dir_all",
    "duration_since",
    "flush",
    "hard_link",
    "kill",
    "local_addr",
    "parse",
    "peer_addr",
    "read_exact",
    "read_to_end",
    "read_to_string",
    "recv_timeout",
    "remove_dir",
    "remove_dir_all",
    "remove_file",
    "rename",
    "send",
    "send_timeout",
    "send_to",
    "set_len",
    "set_nodelay",
    "set_nonblocking",
    "set_permissions",
    "set_read_timeout",
    "set_ttl",
    "set_write_timeout",
    "shutdown",
    "sync_all",
    "sync_data",
    "take_error",
    "try_from",
    "try_into",
    "try_recv",
    "try_send",
    "try_wait",
    "write_all",
    "write_fmt",
];

/// Adapters whose output is a `Result` whatever they are called on.
const RESULT_ADAPTERS: &[&str] = &[
    "map_err",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
    "ok_or",
    "ok_or_else",
];

/// Whether `e` is known to be a `Result`: a call of a workspace function
/// whose signature returns one (awaited, for an async one), a known std or
/// tokio API, `Ok(..)`/`Err(..)`, or a `Result` adapter. (`write!` into
/// a `String` cannot fail, and the destination's type is not known.) Anything else is not known, and not flagged.
fn is_result(e: &syn::Expr) -> Known {
    let (e, awaited) = match e {
        syn::Expr::Await(a) => (&*a.base, true),
        other => (other, false),
    };
    let (name, args, method) = match e {
        syn::Expr::MethodCall(m) => {
            if !awaited && RESULT_ADAPTERS.iter().any(|a| m.method == a) {
                return Known::Yes;
            }
            (m.method.to_string(), m.args.len(), true)
        }
        syn::Expr::Call(c) => {
            let syn::Expr::Path(p) = &*c.func else {
                return Known::No;
            };
            let Some(last) = p.path.segments.last() else {
                return Known::No;
            };
            if !awaited && (last.ident == "Ok" || last.ident == "Err") {
                return Known::Yes;
            }
            (last.ident.to_string(), c.args.len(), false)
        }
        _ => return Known::No,
    };
    // `handle.join()` and `child.wait()` with no arguments: a thread's or
    // child process's outcome (`path.join(x)` and `condvar.wait(guard)`
    // take one).
    let thread_or_child = method && args == 0 && (name == "join" || name == "wait") && !awaited;
    Known::If(Condition {
        key: signatures::key(&name, args, method),
        awaited,
        otherwise: thread_or_child || KNOWN_RESULT.contains(&name.as_str()),
    })
}
