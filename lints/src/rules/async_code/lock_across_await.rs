use proc_macro2::Span;
use syn::visit::{self, Visit};

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a lock guard bound with `let` (`let g = m.lock().unwrap();`,
    /// also `.read()`/`.write()` and `?`/`.expect(..)` after them) that is
    /// still alive at a later `.await` in the same block of async code. A
    /// `drop(g);` before the `.await` ends it. Async mutexes, whose `lock()`
    /// is itself awaited (`m.lock().await`), are not flagged.
    ///
    /// ## Why is this bad?
    /// A `std::sync::Mutex` guard held across `.await` keeps the lock while
    /// the task is suspended: other tasks (possibly on the same worker
    /// thread) block on it, which deadlocks or stalls the executor. The
    /// future also becomes `!Send`.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let mut cache = self.cache.lock().unwrap();
    /// let value = fetch(key).await;
    /// cache.insert(key, value);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let value = fetch(key).await;
    /// self.cache.lock().unwrap().insert(key, value);
    /// ```
    pub static RULE = {
        name: "lock-across-await",
        category: Async,
        default: Error,
        summary: "std lock guard held across an `.await`",
        skip_in_tests: false,
        nodes: [Block],
        check: check,
    };
}

/// If `init` takes a lock synchronously, the method name.
fn lock_call(mut e: &syn::Expr) -> Option<&syn::ExprMethodCall> {
    loop {
        match e {
            syn::Expr::Try(t) => e = &t.expr,
            syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "unwrap" | "expect") =>
            {
                e = &m.receiver;
            }
            syn::Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "lock" | "read" | "write") =>
            {
                return Some(m);
            }
            _ => return None,
        }
    }
}

/// First `.await` in a statement, not looking into closures or nested async
/// blocks (they run later, elsewhere).
#[derive(Default)]
struct FirstAwait(Option<Span>);

impl<'ast> Visit<'ast> for FirstAwait {
    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        if self.0.is_none() {
            visit::visit_expr(self, &e.base);
            if self.0.is_none() {
                self.0 = Some(e.await_token.span);
            }
        }
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// `drop(name);`
fn drops(stmt: &syn::Stmt, name: &syn::Ident) -> bool {
    let syn::Stmt::Expr(syn::Expr::Call(c), _) = stmt else {
        return false;
    };
    matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("drop"))
        && matches!(c.args.first(), Some(syn::Expr::Path(a)) if a.path.is_ident(name))
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Block(block) = node else { return };
    if cx.async_depth == 0 {
        return;
    }
    let mut guards: Vec<(syn::Ident, String)> = Vec::new();
    for stmt in &block.stmts {
        guards.retain(|(name, _)| !drops(stmt, name));
        if !guards.is_empty() {
            let mut finder = FirstAwait::default();
            finder.visit_stmt(stmt);
            if let Some(at) = finder.0 {
                for (name, method) in guards.drain(..) {
                    cx.report(
                        at,
                        format!("`.await` while the `{method}()` guard `{name}` is held"),
                        Some("drop the guard (end its scope or `drop(guard)`) before awaiting, or use an async lock"),
                    );
                }
            }
        }
        if let syn::Stmt::Local(local) = stmt {
            let name = match &local.pat {
                syn::Pat::Ident(i) => Some(i.ident.clone()),
                syn::Pat::Type(t) => match &*t.pat {
                    syn::Pat::Ident(i) => Some(i.ident.clone()),
                    _ => None,
                },
                _ => None,
            };
            // Rebinding a name ends the old guard's visibility, not its life;
            // keep it simple and track the newest binding.
            if let (Some(name), Some(init)) = (name, &local.init) {
                guards.retain(|(n, _)| *n != name);
                if let Some(m) = lock_call(&init.expr) {
                    guards.push((name, m.method.to_string()));
                }
            }
        }
    }
}
