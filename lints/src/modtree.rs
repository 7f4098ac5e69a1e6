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
//! Only the tokens of files that declare an out-of-line module are looked
//! at (lexed, never parsed), so this costs little next to linting.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::engine::FileKind;
use crate::files::SourceFile;

/// Reclassifies library files that their crate reaches only through
/// `#[cfg(test)]` declarations (test code) or only from its build script.
/// Files outside any module tree keep their path-based kind.
pub fn classify(files: &mut [SourceFile]) {
    let mut crate_of: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut crates: Vec<PathBuf> = Vec::new();
    for f in files.iter().filter(|f| f.kind == FileKind::Library) {
        if let Some(dir) = crate_dir(&f.path, &mut crate_of)
            && !crates.contains(&dir)
        {
            crates.push(dir);
        }
    }
    let mut kinds: HashMap<PathBuf, FileKind> = HashMap::new();
    for dir in &crates {
        kinds.extend(Tree::walk(dir));
    }
    for f in files.iter_mut().filter(|f| f.kind == FileKind::Library) {
        let key = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
        if let Some(kind) = kinds.get(&key) {
            f.kind = *kind;
        }
    }
}

/// The nearest directory above `file` with a `Cargo.toml`.
fn crate_dir(file: &Path, memo: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(file).ok()?;
    let mut seen = Vec::new();
    let mut dir = abs.parent();
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
#[derive(Default)]
struct Tree {
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

impl Tree {
    /// The kind of every file of the crate in `dir` that its module tree
    /// decides (keys are canonical paths).
    fn walk(dir: &Path) -> HashMap<PathBuf, FileKind> {
        let mut tree = Tree::default();
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
        let Ok(file) = std::fs::canonicalize(file) else {
            return;
        };
        let set = match reach {
            Reach::Production => &mut self.production,
            Reach::Test => &mut self.test,
            Reach::Build => &mut self.build,
        };
        if !set.insert(file.clone()) {
            return;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            return;
        };
        if !declares_out_of_line_mod(&text) {
            return;
        }
        let Ok(tokens) = text.parse::<TokenStream>() else {
            return;
        };
        let Some(dir) = file.parent() else { return };
        // Where `mod x;` looks for `x.rs`: a crate root's or `mod.rs`'s own
        // directory, otherwise a directory named after the file.
        let mod_rs = is_root || file.file_name().is_some_and(|n| n == "mod.rs");
        let child_dir = if mod_rs {
            dir.to_path_buf()
        } else {
            dir.join(file.file_stem().unwrap_or_default())
        };
        let mut found = Vec::new();
        declarations(tokens, &child_dir, dir, false, &mut found);
        for (path, test_only) in found {
            let next = if test_only && reach == Reach::Production {
                Reach::Test
            } else {
                reach
            };
            self.visit(&path, false, next, depth + 1);
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

/// Cheap pre-check: does the text contain `mod <ident> ;` anywhere?
fn declares_out_of_line_mod(text: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(at) = text[from..].find("mod") {
        let start = from + at;
        from = start + 3;
        if start > 0 && ident(bytes[start - 1]) {
            continue;
        }
        let rest = &bytes[from..];
        let ws = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if ws == 0 {
            continue;
        }
        let raw = if rest[ws..].starts_with(b"r#") { 2 } else { 0 };
        let name = raw + rest[ws + raw..].iter().take_while(|b| ident(**b)).count();
        if name == 0 {
            continue;
        }
        let after = rest[ws + name..].iter().find(|b| !b.is_ascii_whitespace());
        if after == Some(&b';') {
            return true;
        }
    }
    false
}

/// Out-of-line module declarations in `tokens` (recursing into inline
/// `mod a { .. }` blocks): each declared file and whether it is reached
/// only in test builds.
fn declarations(
    tokens: TokenStream,
    child_dir: &Path,
    file_dir: &Path,
    gated: bool,
    out: &mut Vec<(PathBuf, bool)>,
) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut attrs_start = 0;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            // `#[..]` (outer attributes) accumulate until the item.
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let inner =
                    matches!(tokens.get(i + 1), Some(TokenTree::Punct(b)) if b.as_char() == '!');
                i += if inner { 3 } else { 2 };
                continue;
            }
            TokenTree::Ident(id) if id == "mod" => {
                let attrs = &tokens[attrs_start..i];
                let (Some(TokenTree::Ident(name)), Some(next)) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                else {
                    i += 1;
                    continue;
                };
                let name = name.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name);
                let test_only = gated || attrs_test_only(attrs);
                match next {
                    TokenTree::Punct(p) if p.as_char() == ';' => {
                        let flat = child_dir.join(format!("{name}.rs"));
                        let path = path_attr(attrs).map_or_else(
                            || {
                                if flat.is_file() {
                                    flat
                                } else {
                                    child_dir.join(name).join("mod.rs")
                                }
                            },
                            |p| file_dir.join(p),
                        );
                        out.push((path, test_only));
                    }
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                        let inner = child_dir.join(name);
                        declarations(g.stream(), &inner, &inner, test_only, out);
                    }
                    _ => {}
                }
                i += 3;
                attrs_start = i;
                continue;
            }
            // Visibility and other item keywords before `mod` keep the
            // attributes; anything else starts a new item.
            TokenTree::Ident(id) if id == "pub" => {}
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => {}
            TokenTree::Punct(p) if p.as_char() == ';' => attrs_start = i + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => attrs_start = i + 1,
            _ => {}
        }
        i += 1;
    }
}

/// `#[path = "…"]` among `attrs`.
fn path_attr(attrs: &[TokenTree]) -> Option<String> {
    attrs.iter().find_map(|tt| {
        let TokenTree::Group(g) = tt else { return None };
        let inner: Vec<TokenTree> = g.stream().into_iter().collect();
        match inner.as_slice() {
            [
                TokenTree::Ident(id),
                TokenTree::Punct(eq),
                TokenTree::Literal(lit),
            ] if id == "path" && eq.as_char() == '=' => {
                syn::parse_str::<syn::LitStr>(&lit.to_string())
                    .ok()
                    .map(|s| s.value())
            }
            _ => None,
        }
    })
}

/// Whether one of `attrs` (raw `#` `[..]` tokens) is a test-only `cfg`.
fn attrs_test_only(attrs: &[TokenTree]) -> bool {
    attrs.iter().any(|tt| {
        let TokenTree::Group(g) = tt else {
            return false;
        };
        let mut inner = g.stream().into_iter();
        matches!(inner.next(), Some(TokenTree::Ident(id)) if id == "cfg")
            && matches!(inner.next(), Some(TokenTree::Group(p)) if cfg_test_only(p.stream()))
    })
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

    #[test]
    fn pre_check_finds_declarations_only() {
        assert!(declares_out_of_line_mod("#[cfg(test)]\nmod helpers ;"));
        assert!(declares_out_of_line_mod("pub(crate) mod r#async;"));
        assert!(!declares_out_of_line_mod("mod tests { fn f() {} }"));
        assert!(!declares_out_of_line_mod("let model = 1; fn modx();"));
    }
}
