//! Which target each file belongs to, from the crate's module tree.
//!
//! A file's path says little: `src/net/helpers.rs` is production code when
//! `src/net.rs` declares `mod helpers;`, and test code when it declares
//! `#[cfg(test)] mod helpers;` (and so is everything that file declares in
//! turn). Starting at each crate root (`src/lib.rs`, `src/main.rs`,
//! `src/bin/*`, the build script, and the targets' `path`s in Cargo.toml),
//! the out-of-line `mod x;` declarations are followed (`#[path]` included,
//! also inside inline `mod a { .. }` blocks), and a file reached only
//! through a test-only declaration becomes test code; files reached from the
//! build script are build-script code.
//!
//! The declarations come from the syntax tree the lint run parses anyway
//! (and its cache), so this costs little next to linting.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use rayon::prelude::*;

use crate::engine::FileKind;
use crate::files::SourceFile;

/// Reclassifies library files that their crate reaches only through
/// `#[cfg(test)]` declarations (test code) or only from its build script.
/// Files outside any module tree keep their path-based kind.
pub fn classify(files: &mut [SourceFile]) {
    let read: Vec<(PathBuf, Option<Vec<Decl>>)> = files
        .par_iter()
        .filter(|f| f.kind == FileKind::Library)
        .map(|f| (normalize(&f.path), read_decls(&f.path)))
        .collect();
    let kinds = reclassify(&read.into_iter().collect());
    for f in files.iter_mut() {
        if let Some(kind) = kinds.get(&normalize(&f.path)) {
            f.kind = *kind;
        }
    }
}

/// The new kind of each library file in `known` (its [`normalize`]d path →
/// the declarations read from it, `None` when it declares none) that its
/// crate's module tree decides. Files the walk reaches that are not in
/// `known` are read from disk.
pub(crate) fn reclassify(
    known: &HashMap<PathBuf, Option<Vec<Decl>>>,
) -> HashMap<PathBuf, FileKind> {
    let mut crate_of: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut crates: Vec<PathBuf> = Vec::new();
    for path in known.keys() {
        if let Some(dir) = crate_dir(path, &mut crate_of)
            && !crates.contains(&dir)
        {
            crates.push(dir);
        }
    }
    crates
        .par_iter()
        .flat_map_iter(|dir| Tree::walk(dir, known))
        .filter(|(p, _)| known.contains_key(p))
        .collect()
}

/// `path` with `.` components dropped and `..` applied to what precedes.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The nearest directory above `file` (normalised) with a `Cargo.toml`.
fn crate_dir(file: &Path, memo: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    let mut seen = Vec::new();
    let mut dir = file.parent();
    let found = loop {
        let Some(d) = dir else { break None };
        if let Some(known) = memo.get(d) {
            break known.clone();
        }
        seen.push(d.to_path_buf());
        if d.join("Cargo.toml").is_file() {
            break Some(d.to_path_buf());
        }
        dir = d.parent();
    };
    for d in seen {
        memo.insert(d, found.clone());
    }
    found
}

/// What reached each file of one crate.
struct Tree<'k> {
    /// Declarations of files already read (canonical path → `None` when the
    /// file declares no out-of-line module).
    known: &'k HashMap<PathBuf, Option<Vec<Decl>>>,
    /// Reached through a declaration that is not test-only, from a library
    /// or binary root.
    production: HashSet<PathBuf>,
    /// Reached through a test-only declaration.
    test: HashSet<PathBuf>,
    /// Reached from the build script.
    build: HashSet<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    Production,
    Test,
    Build,
}

impl<'k> Tree<'k> {
    /// The kind of every file of the crate in `dir` that its module tree
    /// decides (keys are canonical paths).
    fn walk(
        dir: &Path,
        known: &'k HashMap<PathBuf, Option<Vec<Decl>>>,
    ) -> HashMap<PathBuf, FileKind> {
        let mut tree = Tree {
            known,
            production: HashSet::new(),
            test: HashSet::new(),
            build: HashSet::new(),
        };
        let (roots, build) = roots(dir);
        for root in roots {
            tree.visit(&root, true, Reach::Production, 0);
        }
        if let Some(build) = build {
            tree.visit(&build, true, Reach::Build, 0);
        }
        let mut out = HashMap::new();
        for p in &tree.test {
            if !tree.production.contains(p) && !tree.build.contains(p) {
                out.insert(p.clone(), FileKind::Test);
            }
        }
        for p in &tree.build {
            if !tree.production.contains(p) {
                out.insert(p.clone(), FileKind::BuildScript);
            }
        }
        out
    }

    fn visit(&mut self, file: &Path, is_root: bool, reach: Reach, depth: usize) {
        // Module trees are shallow; a `#[path]` cycle must not recurse forever.
        if depth > 64 {
            return;
        }
        let file = normalize(file);
        let set = match reach {
            Reach::Production => &mut self.production,
            Reach::Test => &mut self.test,
            Reach::Build => &mut self.build,
        };
        if !set.insert(file.clone()) {
            return;
        }
        // Files of the lint run were read in parallel beforehand; others
        // (a crate root outside the given paths) are read now.
        let decls = match self.known.get(&file) {
            Some(d) => d.clone(),
            None => read_decls(&file),
        };
        let Some(decls) = decls else { return };
        let Some(dir) = file.parent() else { return };
        // Where `mod x;` looks for `x.rs`: a crate root's or `mod.rs`'s own
        // directory, otherwise a directory named after the file.
        let mod_rs = is_root || file.file_name().is_some_and(|n| n == "mod.rs");
        let child_dir = if mod_rs {
            dir.to_path_buf()
        } else {
            dir.join(file.file_stem().unwrap_or_default())
        };
        for decl in decls {
            let next = if decl.test_only && reach == Reach::Production {
                Reach::Test
            } else {
                reach
            };
            self.visit(
                &decl.file(&child_dir, dir, self.known),
                false,
                next,
                depth + 1,
            );
        }
    }
}

/// The crate's library and binary roots, and its build script.
fn roots(dir: &Path) -> (Vec<PathBuf>, Option<PathBuf>) {
    let mut roots = vec![dir.join("src/lib.rs"), dir.join("src/main.rs")];
    if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs") {
                roots.push(p);
            } else if p.join("main.rs").is_file() {
                roots.push(p.join("main.rs"));
            }
        }
    }
    let mut build = Some(dir.join("build.rs"));
    if let Some(manifest) = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    {
        let target_path = |t: &toml::Value| {
            t.get("path")
                .and_then(toml::Value::as_str)
                .map(|p| dir.join(p))
        };
        roots.extend(manifest.get("lib").and_then(target_path));
        if let Some(bins) = manifest.get("bin").and_then(toml::Value::as_array) {
            roots.extend(bins.iter().filter_map(target_path));
        }
        match manifest.get("package").and_then(|p| p.get("build")) {
            Some(toml::Value::String(p)) => build = Some(dir.join(p)),
            Some(toml::Value::Boolean(false)) => build = None,
            _ => {}
        }
    }
    roots.retain(|p| p.is_file());
    (roots, build.filter(|p| p.is_file()))
}

/// An out-of-line module declaration: `mod name;` inside the inline
/// modules `inline` (`mod a { mod b { mod name; } }`), with its `#[path]`,
/// and whether it is compiled only in test builds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Decl {
    inline: Vec<String>,
    name: String,
    path: Option<String>,
    test_only: bool,
}

impl Decl {
    /// The file it declares, for a declaring file whose `mod x;` files live
    /// in `child_dir` and which itself is in `file_dir`.
    fn file(
        &self,
        child_dir: &Path,
        file_dir: &Path,
        known: &HashMap<PathBuf, Option<Vec<Decl>>>,
    ) -> PathBuf {
        let nested = |base: &Path| {
            self.inline
                .iter()
                .fold(base.to_path_buf(), |d, m| d.join(m))
        };
        if let Some(p) = &self.path {
            // Inside inline modules, `#[path]` is relative to their directory.
            let base = if self.inline.is_empty() {
                file_dir.to_path_buf()
            } else {
                nested(child_dir)
            };
            return base.join(p);
        }
        let dir = nested(child_dir);
        let flat = dir.join(format!("{}.rs", self.name));
        if known.contains_key(&flat) || flat.is_file() {
            flat
        } else {
            dir.join(&self.name).join("mod.rs")
        }
    }
}

/// The out-of-line module declarations of a parsed file, `None` when it
/// has none: `mod x;` at module level, also inside inline `mod a { .. }`
/// blocks, with their `#[path]` and test-only `cfg`s. Modules that a macro
/// invocation declares are not seen (nor compiled without expanding it).
pub(crate) fn decls_of(file: &syn::File) -> Option<Vec<Decl>> {
    fn collect(
        items: &[syn::Item],
        inline: &mut Vec<String>,
        test_only: bool,
        out: &mut Vec<Decl>,
    ) {
        use syn::ext::IdentExt as _;
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let test_only = test_only || m.attrs.iter().any(is_test_only_cfg);
            let name = m.ident.unraw().to_string();
            match &m.content {
                None => out.push(Decl {
                    inline: inline.clone(),
                    name,
                    path: path_attr(&m.attrs),
                    test_only,
                }),
                Some((_, items)) => {
                    inline.push(name);
                    collect(items, inline, test_only, out);
                    inline.pop();
                }
            }
        }
    }
    let mut out = Vec::new();
    collect(&file.items, &mut Vec::new(), false, &mut out);
    (!out.is_empty()).then_some(out)
}

/// [`decls_of`] for a file on disk that the lint run did not read.
fn read_decls(path: &Path) -> Option<Vec<Decl>> {
    let text = std::fs::read_to_string(path).ok()?;
    decls_of(&syn::parse_file(&text).ok()?)
}

/// `#[path = "…"]` among `attrs`.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Whether `attr` is a test-only `#[cfg(..)]` ([`cfg_test_only`]).
pub(crate) fn is_test_only_cfg(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("cfg")
        && attr
            .meta
            .require_list()
            .is_ok_and(|l| cfg_test_only(l.tokens.clone()))
}

/// Whether the `cfg` predicate `tokens` holds only in builds that are not a
/// service's: tests, benchmarks, fuzz targets, documentation (`test`,
/// `bench`, cargo-fuzz's `fuzzing`, rustdoc's `doc` and docs.rs's
/// `docsrs`), `all(test, ..)`, or `any(..)` of such predicates.
/// `any(test, feature = "x")` also holds in a normal build with the
/// feature, so it is not test-only; neither is `not(..)`.
pub(crate) fn cfg_test_only(tokens: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(id)] => matches!(
            id.to_string().as_str(),
            "test" | "bench" | "fuzzing" | "doc" | "docsrs"
        ),
        [TokenTree::Ident(id), TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let mut parts = split_commas(g.stream())
                .into_iter()
                .filter(|p| !p.is_empty())
                .peekable();
            if id == "all" {
                parts.any(|p| cfg_test_only(p.into_iter().collect()))
            } else if id == "any" {
                parts.peek().is_some() && parts.all(|p| cfg_test_only(p.into_iter().collect()))
            } else {
                false
            }
        }
        _ => false,
    }
}

fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(Vec::new()),
            _ => {
                if let Some(last) = parts.last_mut() {
                    last.push(tt);
                }
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_only(src: &str) -> bool {
        cfg_test_only(src.parse().unwrap_or_default())
    }

    #[test]
    fn cfg_predicates() {
        assert!(test_only("test"));
        assert!(test_only("all(test, feature = \"x\")"));
        assert!(test_only("all(unix, any(test, all(test, loom)))"));
        assert!(!test_only("any(test, feature = \"x\")"));
        assert!(!test_only("not(test)"));
        assert!(!test_only("feature = \"test\""));
        assert!(!test_only("any()"));
        assert!(test_only("any(test, fuzzing)"));
        assert!(test_only("bench"));
        assert!(test_only("docsrs"));
        assert!(!test_only("any(docsrs, feature = \"full\")"));
    }
}
