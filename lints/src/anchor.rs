//! Where a statement or item starts, found from its first token.
//!
//! syn's `Spanned::span()` re-tokenizes the whole node to find its first and
//! last tokens; called on every statement and item (modules included) it
//! made the walk quadratic in nesting. Suppressions and `SAFETY:` comments
//! only need the start line, which the leftmost token gives directly.

use proc_macro2::Span;
use syn::spanned::Spanned;

fn first_attr(attrs: &[syn::Attribute]) -> Option<Span> {
    attrs.first().map(|a| a.pound_token.span)
}

fn vis(v: &syn::Visibility) -> Option<Span> {
    match v {
        syn::Visibility::Public(p) => Some(p.span),
        syn::Visibility::Restricted(r) => Some(r.pub_token.span),
        syn::Visibility::Inherited => None,
    }
}

fn sig(s: &syn::Signature) -> Span {
    s.constness
        .as_ref()
        .map(|t| t.span)
        .or(s.asyncness.as_ref().map(|t| t.span))
        .or(s.unsafety.as_ref().map(|t| t.span))
        .or(s.abi.as_ref().map(|a| a.extern_token.span))
        .unwrap_or(s.fn_token.span)
}

/// The first token of an item.
pub(crate) fn item(i: &syn::Item) -> Span {
    let (attrs, v, kw): (&[syn::Attribute], Option<&syn::Visibility>, Option<Span>) = match i {
        syn::Item::Const(x) => (&x.attrs, Some(&x.vis), Some(x.const_token.span)),
        syn::Item::Enum(x) => (&x.attrs, Some(&x.vis), Some(x.enum_token.span)),
        syn::Item::ExternCrate(x) => (&x.attrs, Some(&x.vis), Some(x.extern_token.span)),
        syn::Item::Fn(x) => (&x.attrs, Some(&x.vis), Some(sig(&x.sig))),
        syn::Item::ForeignMod(x) => (&x.attrs, None, Some(x.abi.extern_token.span)),
        syn::Item::Impl(x) => (
            &x.attrs,
            None,
            Some(
                x.defaultness
                    .as_ref()
                    .map(|t| t.span)
                    .or(x.unsafety.as_ref().map(|t| t.span))
                    .unwrap_or(x.impl_token.span),
            ),
        ),
        syn::Item::Macro(x) => (
            &x.attrs,
            None,
            x.mac.path.segments.first().map(|s| s.ident.span()),
        ),
        syn::Item::Mod(x) => (&x.attrs, Some(&x.vis), Some(x.mod_token.span)),
        syn::Item::Static(x) => (&x.attrs, Some(&x.vis), Some(x.static_token.span)),
        syn::Item::Struct(x) => (&x.attrs, Some(&x.vis), Some(x.struct_token.span)),
        syn::Item::Trait(x) => (
            &x.attrs,
            Some(&x.vis),
            Some(x.unsafety.as_ref().map_or(x.trait_token.span, |u| u.span)),
        ),
        syn::Item::Type(x) => (&x.attrs, Some(&x.vis), Some(x.type_token.span)),
        syn::Item::Union(x) => (&x.attrs, Some(&x.vis), Some(x.union_token.span)),
        syn::Item::Use(x) => (&x.attrs, Some(&x.vis), Some(x.use_token.span)),
        _ => (&[], None, None),
    };
    first_attr(attrs)
        .or_else(|| v.and_then(vis))
        .or(kw)
        .unwrap_or_else(|| i.span())
}

/// The first token of an associated function.
pub(crate) fn impl_fn(f: &syn::ImplItemFn) -> Span {
    first_attr(&f.attrs)
        .or_else(|| vis(&f.vis))
        .or(f.defaultness.as_ref().map(|d| d.span))
        .unwrap_or_else(|| sig(&f.sig))
}

/// The first token of a statement.
pub(crate) fn stmt(s: &syn::Stmt) -> Span {
    match s {
        syn::Stmt::Local(l) => first_attr(&l.attrs).unwrap_or(l.let_token.span),
        syn::Stmt::Item(i) => item(i),
        syn::Stmt::Expr(e, _) => expr(e),
        syn::Stmt::Macro(m) => first_attr(&m.attrs)
            .or_else(|| m.mac.path.segments.first().map(|s| s.ident.span()))
            .unwrap_or_else(|| m.span()),
    }
}

/// The first token of an expression: its leftmost operand, or its keyword.
fn expr(e: &syn::Expr) -> Span {
    let mut e = e;
    loop {
        e = match e {
            syn::Expr::MethodCall(x) => &x.receiver,
            syn::Expr::Call(x) => &x.func,
            syn::Expr::Binary(x) => &x.left,
            syn::Expr::Field(x) => &x.base,
            syn::Expr::Index(x) => &x.expr,
            syn::Expr::Try(x) => &x.expr,
            syn::Expr::Await(x) => &x.base,
            syn::Expr::Cast(x) => &x.expr,
            syn::Expr::Assign(x) => &x.left,
            syn::Expr::Range(x) if x.start.is_some() => x.start.as_deref().unwrap_or(e),
            syn::Expr::Path(x) if x.qself.is_none() => {
                return x
                    .path
                    .leading_colon
                    .as_ref()
                    .map(|c| c.spans[0])
                    .or_else(|| x.path.segments.first().map(|s| s.ident.span()))
                    .unwrap_or_else(|| x.span());
            }
            syn::Expr::Lit(x) => return x.lit.span(),
            syn::Expr::Macro(x) => {
                return x
                    .mac
                    .path
                    .segments
                    .first()
                    .map_or_else(|| x.span(), |s| s.ident.span());
            }
            syn::Expr::If(x) => return x.if_token.span,
            syn::Expr::Match(x) => return x.match_token.span,
            syn::Expr::Block(x) => {
                return x
                    .label
                    .as_ref()
                    .map_or(x.block.brace_token.span.open(), |l| l.name.span());
            }
            syn::Expr::Unsafe(x) => return x.unsafe_token.span,
            syn::Expr::Return(x) => return x.return_token.span,
            syn::Expr::Loop(x) => return x.loop_token.span,
            syn::Expr::While(x) => return x.while_token.span,
            syn::Expr::ForLoop(x) => return x.for_token.span,
            syn::Expr::Unary(x) => return x.op.span(),
            syn::Expr::Reference(x) => return x.and_token.span,
            other => return other.span(),
        };
    }
}
