use proc_macro2::Span;
use syn::visit::{self, Visit};

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a lock guard bound with `let` (`let g = m.lock().unwrap();`,
    /// also `.read()`/`.write()` and `?`/`.expect(..)` after them) that is
    /// still alive at a later `.await` in the same block of async code. The
    /// finding is at the guard, with the `.await` beside it. A `drop(g);`
    /// (`std::mem::drop` too) or moving the guard into a call or another
    /// binding before the `.await` ends it. Async mutexes, whose `lock()` is
    /// itself awaited (`m.lock().await`), are not flagged.
    ///
    /// govkit sees syntax, not types: it knows a guard by the call that
    /// makes it (`lock`/`read`/`write` with no arguments, not awaited), so
    /// a guard returned by a helper function is not seen, and a type of
    /// your own with a synchronous `lock()` is taken for one. A guard
    /// dropped before the `.await` is not flagged (clippy still flags it).
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

/// Whether `stmt` ends the guard `name`: `drop(name)` (any path to
/// `drop`), or `name` moved by value into a call.
fn releases(stmt: &syn::Stmt, name: &syn::Ident) -> bool {
    let expr = match stmt {
        syn::Stmt::Expr(e, _) => e,
        syn::Stmt::Local(l) => match &l.init {
            Some(init) => &*init.expr,
            None => return false,
        },
        _ => return false,
    };
    let is_name = |e: &syn::Expr| matches!(e, syn::Expr::Path(p) if p.path.is_ident(name));
    match expr {
        syn::Expr::Call(c) => c.args.iter().any(is_name),
        syn::Expr::MethodCall(m) => m.args.iter().any(is_name),
        _ => false,
    }
}

/// The name a `let` binds, when it binds one.
fn bound_name(pat: &syn::Pat) -> Option<&syn::Ident> {
    match pat {
        syn::Pat::Ident(i) => Some(&i.ident),
        syn::Pat::Type(t) => bound_name(&t.pat),
        _ => None,
    }
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    let Node::Block(block) = node else { return };
    if cx.async_depth == 0 {
        return;
    }
    let mut guards: Vec<(&syn::Ident, String)> = Vec::new();
    for stmt in &block.stmts {
        guards.retain(|(name, _)| !releases(stmt, name));
        if !guards.is_empty() {
            let mut finder = FirstAwait::default();
            finder.visit_stmt(stmt);
            if let Some(at) = finder.0 {
                // Like clippy: at the guard, with the `.await` beside it.
                for (name, method) in guards.drain(..) {
                    cx.report(
                        name.span(),
                        format!("the `{method}()` guard `{name}` is held across an `.await`"),
                        Some("drop the guard (end its scope or `drop(guard)`) before awaiting, or use an async lock"),
                    );
                    cx.relate_last(at, "still held here");
                }
            }
        }
        if let syn::Stmt::Local(local) = stmt
            && let (Some(name), Some(init)) = (bound_name(&local.pat), &local.init)
        {
            // A new binding of the same name shadows the old guard; it stays
            // alive, but the code can no longer name it to drop it: keep it
            // simple and track the newest binding.
            // `let held = guard;` moves the guard: it lives on as `held`.
            let moved = match &*init.expr {
                syn::Expr::Path(p) => guards
                    .iter()
                    .position(|(n, _)| p.path.is_ident(*n))
                    .map(|i| guards.remove(i).1),
                _ => None,
            };
            guards.retain(|(n, _)| *n != name);
            if let Some(method) =
                moved.or_else(|| lock_call(&init.expr).map(|m| m.method.to_string()))
            {
                guards.push((name, method));
            }
        }
    }
}
