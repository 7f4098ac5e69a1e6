//! Local bindings in scope, and the types that can be read off the syntax.
//!
//! govkit has no type checker. What it can know for certain: a name bound
//! by `let`, a parameter or a pattern is a local, not the function imported
//! under the same name; and some bindings carry their type in plain sight
//! (`m: &Mutex<T>`, `let m = Mutex::new(..)`, a struct field declared
//! `state: Arc<Mutex<State>>`). Everything else is unknown, and rules that
//! need a type say so instead of guessing.

use std::collections::HashMap;

use syn::visit::Visit;

use crate::uses::UseMap;

/// A resolved type path (`["std", "sync", "Mutex"]`), smart pointers and
/// references looked through.
pub(crate) type TypePath = Vec<String>;

/// Names bound in the scopes enclosing the node being visited.
#[derive(Debug, Default)]
pub(crate) struct Locals {
    /// Off when no rule asks (the walk then costs nothing extra).
    on: bool,
    names: Vec<(String, Option<TypePath>)>,
    marks: Vec<usize>,
}

impl Locals {
    /// Tracking only when `on`.
    pub(crate) fn new(on: bool) -> Self {
        Locals {
            on,
            ..Locals::default()
        }
    }

    pub(crate) fn push(&mut self) {
        if self.on {
            self.marks.push(self.names.len());
        }
    }

    pub(crate) fn pop(&mut self) {
        if self.on
            && let Some(m) = self.marks.pop()
        {
            self.names.truncate(m);
        }
    }

    /// Whether `name` is a local binding here.
    pub(crate) fn contains(&self, name: &syn::Ident) -> bool {
        self.on && self.names.iter().rev().any(|(n, _)| name == n)
    }

    /// The visible type of the local `name`, if it is one and has one.
    pub(crate) fn type_of(&self, name: &syn::Ident) -> Option<&TypePath> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| name == n)
            .and_then(|(_, t)| t.as_ref())
    }

    /// Binds the names of `pat`; a single name gets the type written in the
    /// pattern or read off `init`.
    pub(crate) fn bind(
        &mut self,
        pat: &syn::Pat,
        init: Option<&syn::Expr>,
        uses: &UseMap,
        fields: &Fields,
    ) {
        if !self.on {
            return;
        }
        match pat {
            syn::Pat::Ident(i) if i.subpat.is_none() => {
                let ty = init.and_then(|e| expr_type(e, uses, fields));
                self.names.push((i.ident.to_string(), ty));
            }
            syn::Pat::Type(t) => self.bind_typed(t, uses, fields),
            _ => {
                let mut names = Names(Vec::new());
                names.visit_pat(pat);
                self.names.extend(names.0.into_iter().map(|n| (n, None)));
            }
        }
    }

    /// Binds `pat: Type` (a parameter, or a `let` with a type).
    pub(crate) fn bind_typed(&mut self, t: &syn::PatType, uses: &UseMap, fields: &Fields) {
        match &*t.pat {
            syn::Pat::Ident(i) if self.on => {
                self.names
                    .push((i.ident.to_string(), type_path(&t.ty, uses)));
            }
            other => self.bind(other, None, uses, fields),
        }
    }

    /// Binds a function's parameters.
    pub(crate) fn bind_sig(&mut self, sig: &syn::Signature, uses: &UseMap, fields: &Fields) {
        for input in &sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                self.bind_typed(t, uses, fields);
            }
        }
    }
}

/// Every identifier a pattern binds (`Some((a, ref mut b))`, `S { x, .. }`).
struct Names(Vec<String>);

impl<'ast> Visit<'ast> for Names {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
    // Paths in patterns (`Foo::Bar`, `Some`) and expressions in ranges bind
    // nothing.
    fn visit_expr(&mut self, _: &'ast syn::Expr) {}
    fn visit_path(&mut self, _: &'ast syn::Path) {}
}

/// Struct fields of the file with their declared types; a name declared
/// with two different types is ambiguous and has none.
#[derive(Debug, Default)]
pub(crate) struct Fields(HashMap<String, Option<TypePath>>);

impl Fields {
    pub(crate) fn collect(file: &syn::File, uses: &UseMap) -> Self {
        struct Collector<'u> {
            uses: &'u UseMap,
            out: HashMap<String, Option<TypePath>>,
        }
        impl<'ast> Visit<'ast> for Collector<'_> {
            fn visit_field(&mut self, f: &'ast syn::Field) {
                if let Some(name) = &f.ident {
                    let ty = type_path(&f.ty, self.uses);
                    self.out
                        .entry(name.to_string())
                        .and_modify(|t| {
                            if *t != ty {
                                *t = None;
                            }
                        })
                        .or_insert(ty);
                }
            }
        }
        let mut c = Collector {
            uses,
            out: HashMap::new(),
        };
        c.visit_file(file);
        Fields(c.out)
    }
}

/// Smart pointers and wrappers whose methods reach the inner type.
fn is_wrapper(last: &str) -> bool {
    matches!(
        last,
        "Arc" | "Rc" | "Box" | "Pin" | "LazyLock" | "OnceLock" | "Lazy"
    )
}

/// The path of `ty`, through references, parentheses and [`is_wrapper`]s,
/// resolved through `use` and the prelude. `None` for anything else.
pub(crate) fn type_path(ty: &syn::Type, uses: &UseMap) -> Option<TypePath> {
    match ty {
        syn::Type::Reference(r) => type_path(&r.elem, uses),
        syn::Type::Paren(p) => type_path(&p.elem, uses),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if is_wrapper(&last.ident.to_string())
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return type_path(inner, uses);
            }
            Some(resolve(&p.path, uses))
        }
        _ => None,
    }
}

/// A path resolved through `use`, or the prelude for a bare name.
pub(crate) fn resolve(path: &syn::Path, uses: &UseMap) -> TypePath {
    let resolved = uses.resolve(path);
    if resolved.len() == path.segments.len()
        && let Some(first) = path.segments.first()
        && let Some(full) = crate::uses::prelude(&first.ident.to_string())
        && path.leading_colon.is_none()
        && !uses.imports(&first.ident)
    {
        let mut out: Vec<String> = full.iter().map(|s| (*s).to_owned()).collect();
        out.extend(resolved.into_iter().skip(1));
        return out;
    }
    resolved
}

/// The type of an expression where the syntax shows it: a constructor call
/// (`Mutex::new(..)`, `Type::default()`), a struct literal, a field of a
/// struct declared in this file, a wrapper's constructor around one.
pub(crate) fn expr_type(e: &syn::Expr, uses: &UseMap, fields: &Fields) -> Option<TypePath> {
    match e {
        syn::Expr::Paren(p) => expr_type(&p.expr, uses, fields),
        syn::Expr::Reference(r) => expr_type(&r.expr, uses, fields),
        syn::Expr::Struct(s) => Some(resolve(&s.path, uses)),
        syn::Expr::Call(c) => {
            let syn::Expr::Path(p) = &*c.func else {
                return None;
            };
            let segs = &p.path.segments;
            let ctor = segs.last()?.ident.to_string();
            if segs.len() < 2 || ctor.starts_with(|c: char| c.is_uppercase()) {
                return None;
            }
            let ty = &segs[segs.len() - 2].ident;
            if is_wrapper(&ty.to_string()) && ctor == "new" {
                return c.args.first().and_then(|a| expr_type(a, uses, fields));
            }
            // `Type::new(..)`, `Type::with_capacity(..)`: constructors return
            // their type; other associated functions may not.
            if !(ctor == "new"
                || ctor == "default"
                || ctor.starts_with("with_")
                || ctor.starts_with("from"))
            {
                return None;
            }
            let mut ty = resolve(&p.path, uses);
            ty.pop();
            Some(ty)
        }
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(name) => fields.0.get(&name.to_string()).cloned().flatten(),
            syn::Member::Unnamed(_) => None,
        },
        _ => None,
    }
}
