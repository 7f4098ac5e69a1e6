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
    let hit = |p: &[String]| ends_with(p, &["mem", name]);
    match node {
        Node::Call(e, Some(path)) if hit(path.get()) => {
            cx.report(e.func.span(), message, Some(help));
        }
        Node::Path(e, path) if hit(path.get()) => cx.report(e.span(), message, Some(help)),
        _ => {}
    }
}
