//! Unsafe code and memory tricks.

pub(crate) mod mem_forget;
pub(crate) mod static_mut;
pub(crate) mod transmute;
pub(crate) mod undocumented_unsafe;

use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::uses::ends_with;

/// Reports calls of, or references to, `mem::<name>` however imported.
pub(crate) fn check_mem_fn(
    cx: &mut Cx<'_>,
    node: &Node<'_>,
    name: &str,
    message: &str,
    help: &str,
) {
    // Resolving allocates: only a path that ends in the name, or a single
    // imported name (`use std::mem::forget as leak`), can be it.
    let hit = |p: &crate::engine::PathRef<'_>| p.may_be(name) && ends_with(p.get(), &["mem", name]);
    match node {
        Node::Call(e, Some(path)) if hit(path) => {
            cx.report(e.func.span(), message, Some(help));
        }
        Node::Path(e, path) if hit(path) => cx.report(e.span(), message, Some(help)),
        _ => {}
    }
}
