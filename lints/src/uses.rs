//! `use` declarations of a file, so rules match `exit(1)` after
//! `use std::process::exit` and `quit(1)` after `use std::process::exit as quit`.

use std::collections::HashMap;

use syn::visit::Visit;

/// Local name → full path, for every `use` in the file. Scopes are merged:
/// an alias declared in one module is assumed to mean the same elsewhere,
/// which is true of nearly all real code and keeps the lookup one map.
#[derive(Debug, Default)]
pub(crate) struct UseMap {
    names: HashMap<String, Vec<String>>,
    /// `use a::b::*;` prefixes.
    globs: Vec<Vec<String>>,
    /// `use a::b as c;`: `(c, b)`.
    renamed: Vec<(String, String)>,
}

impl UseMap {
    pub(crate) fn collect(file: &syn::File) -> Self {
        let mut collector = Collector::default();
        collector.visit_file(file);
        UseMap {
            names: collector.names,
            globs: collector.globs,
            renamed: collector.renamed,
        }
    }

    /// Whether `alias` is a renamed import of a path ending in `name`
    /// (`use std::mem::forget as leak`).
    pub(crate) fn renames(&self, alias: &syn::Ident, name: &str) -> bool {
        self.renamed
            .iter()
            .any(|(a, last)| last == name && alias == a)
    }

    /// Whether `name` is brought into scope by a `use`.
    pub(crate) fn imports(&self, name: &syn::Ident) -> bool {
        self.names.contains_key(&name.to_string())
    }

    /// Paths a single name could mean through the file's glob imports
    /// (`sleep` after `use std::thread::*;` may be `std::thread::sleep`).
    pub(crate) fn glob_candidates<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = Vec<String>> + 'a {
        self.globs.iter().map(move |g| {
            let mut p = g.clone();
            p.push(name.to_owned());
            p
        })
    }

    /// The path `segments` refers to, with a leading alias replaced by what
    /// it was imported as.
    /// A leading `self::`/`super::` is looked through: scopes are merged, so
    /// `super::thread::sleep` means what `thread::sleep` means here.
    pub(crate) fn resolve(&self, path: &syn::Path) -> Vec<String> {
        let mut segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let relative = segs
            .iter()
            .take_while(|s| *s == "self" || *s == "super")
            .count();
        if relative > 0 && relative < segs.len() && self.names.contains_key(&segs[relative]) {
            segs.drain(..relative);
        }
        match segs.first().and_then(|first| self.names.get(first)) {
            Some(full) if path.leading_colon.is_none() => {
                let mut out = full.clone();
                out.extend(segs.into_iter().skip(1));
                out
            }
            _ => segs,
        }
    }
}

#[derive(Default)]
struct Collector {
    names: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    renamed: Vec<(String, String)>,
}

impl Collector {
    fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        self.names.insert(last.clone(), prefix.clone());
                    }
                } else {
                    let mut full = prefix.clone();
                    full.push(name.clone());
                    self.names.insert(name, full);
                }
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                if let Some(last) = full.last() {
                    self.renamed.push((r.rename.to_string(), last.clone()));
                }
                self.names.insert(r.rename.to_string(), full);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(prefix, t);
                }
            }
            syn::UseTree::Glob(_) => self.globs.push(prefix.clone()),
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.tree(&mut Vec::new(), &u.tree);
    }
}

/// True when `path` ends with `suffix` (segment-wise).
pub(crate) fn ends_with(path: &[String], suffix: &[&str]) -> bool {
    path.len() >= suffix.len()
        && path[path.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(a, b)| a == b)
}

/// What a name means with no `use` at all: the std prelude's functions and
/// types (edition 2021) that organisations ban or that hold locks.
pub(crate) fn prelude(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "drop" => &["std", "mem", "drop"],
        "Box" => &["std", "boxed", "Box"],
        "Vec" => &["std", "vec", "Vec"],
        "String" => &["std", "string", "String"],
        "Option" => &["std", "option", "Option"],
        "Result" => &["std", "result", "Result"],
        "Some" => &["std", "option", "Option", "Some"],
        "None" => &["std", "option", "Option", "None"],
        "Ok" => &["std", "result", "Result", "Ok"],
        "Err" => &["std", "result", "Result", "Err"],
        _ => return None,
    })
}
