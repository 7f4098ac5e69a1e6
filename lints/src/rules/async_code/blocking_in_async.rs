use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags blocking standard-library calls inside `async fn`s and `async`
    /// blocks: `std::thread::sleep`, anything in `std::fs` (including
    /// `File::open`/`create`), `std::net` connects and binds, and
    /// `std::process::Command`'s `output`/`status`. Paths are resolved
    /// through `use`, so `fs::read` after `use std::fs` counts and
    /// `fs::read` after `use tokio::fs` does not. Closures are not async
    /// context (code in `spawn_blocking(|| ..)` is fine).
    ///
    /// ## Why is this bad?
    /// An async executor runs many tasks on few threads. A blocking call
    /// parks the whole worker thread: every other task scheduled on it
    /// stalls, and under load the service's latency grows with no CPU to
    /// show for it.
    ///
    /// ## Example
    /// ```rust,ignore
    /// async fn load(path: &Path) -> io::Result<String> {
    ///     std::thread::sleep(Duration::from_millis(10));
    ///     std::fs::read_to_string(path)
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// async fn load(path: &Path) -> io::Result<String> {
    ///     tokio::time::sleep(Duration::from_millis(10)).await;
    ///     tokio::fs::read_to_string(path).await
    /// }
    /// ```
    pub static RULE = {
        name: "blocking-in-async",
        category: Async,
        default: Error,
        summary: "blocking std call (sleep, fs, net, process) inside async code",
        skip_in_tests: false,
        nodes: [Call, MethodCall],
        check: check,
    };
}

/// What blocks, given a resolved call path.
fn blocking(path: &[String]) -> Option<&'static str> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["std", "thread", "sleep"] => Some(
            "`std::thread::sleep` blocks the executor thread; use `tokio::time::sleep(..).await`",
        ),
        // Building options or permissions does no I/O: `DirBuilder::new()`,
        // `OpenOptions::new()`, `Permissions::from_mode(..)`.
        ["std", "fs", ty, f]
            if ty.starts_with(char::is_uppercase)
                && (*f == "new" || *f == "default" || f.starts_with("from_")) =>
        {
            None
        }
        ["std", "fs", ..] => {
            Some("`std::fs` does blocking file I/O; use `tokio::fs` or `spawn_blocking`")
        }
        ["std", "net", _, "connect" | "bind" | "connect_timeout"] => {
            Some("`std::net` sockets block; use `tokio::net`")
        }
        _ => None,
    }
}

/// `Command::new(..)…` at the root of a method chain, resolved to std's.
fn std_command_chain(mut e: &syn::Expr, cx: &Cx<'_>) -> bool {
    loop {
        match e {
            syn::Expr::MethodCall(m) => e = &m.receiver,
            syn::Expr::Call(c) => {
                return matches!(&*c.func, syn::Expr::Path(p)
                    if cx.uses.resolve(&p.path).iter().map(String::as_str).eq(["std", "process", "Command", "new"]));
            }
            // A variable holding a Command is not tracked.
            _ => return false,
        }
    }
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    if cx.async_depth == 0 {
        return;
    }
    match node {
        Node::Call(e, Some(path)) => {
            let path = path.get();
            if let Some(why) = blocking(path) {
                cx.report(
                    e.func.span(),
                    format!("blocking call `{}` in async code", path.join("::")),
                    Some(why),
                );
            }
        }
        Node::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "output" | "status")
                && m.args.is_empty()
                && std_command_chain(&m.receiver, cx) =>
        {
            cx.report(
                m.method.span(),
                format!(
                    "blocking `std::process::Command::{}` in async code",
                    m.method
                ),
                Some("use `tokio::process::Command`, which has async `output()`/`status()`"),
            );
        }
        _ => {}
    }
}
