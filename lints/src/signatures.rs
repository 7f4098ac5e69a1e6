//! What the workspace's functions return, as far as their signatures say.
//!
//! `let _ = f();` discards an error only when `f` returns a `Result`. govkit
//! has no type checker, but every `fn` in the linted files declares its
//! return type: a quick scan of the text (no parse; definitions inside
//! comments do not count) records, per function
//! or method name, whether it returns a `Result` (`Result<..>`,
//! `io::Result<..>`, `anyhow::Result<..>`, any `*Result`, or a workspace
//! `type` alias to one), a future of one (`async fn`, `impl Future<Output =
//! Result<..>>`), or something else. A name defined twice with different
//! answers is ambiguous, and ambiguity is not a `Result`.

use std::collections::{HashMap, HashSet};

/// What calls of a name return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Returns {
    /// A `Result`.
    Result,
    /// A future whose output is a `Result` (a `Result` once awaited).
    FutureResult,
    /// Anything else, or definitions that disagree.
    Other,
}

/// Function and method names of the workspace → what they return.
#[derive(Debug, Default, Clone)]
pub struct Signatures {
    names: HashMap<String, Returns>,
}

/// What one file's signatures say, before the workspace's `type` aliases
/// are known. Cached as one string ([`FileSigs::encode`]): a warm run reads
/// every file's, and one string parses several times faster than a JSON
/// array of objects.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileSigs {
    fns: Vec<(String, Raw)>,
    aliases: Vec<String>,
}

/// A return type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    /// No return type, an associated-type projection (`F::Output`), or
    /// nothing a name can be read from.
    Other,
    /// A path type's last segment (`io::Result<()>` → `Result`), and whether
    /// the function is `async`.
    Named { name: String, is_async: bool },
    /// `impl Future<Output = T>`: `T`'s last segment.
    Future { name: String },
}

impl FileSigs {
    /// The cache's form: the aliases (`,` between), `;`, then the
    /// functions (space between), each `key=` and its kind (`o` other, `n`
    /// named, `a` async named, `f` future) with the name. Keys and names
    /// are identifiers, digits, `.` and `/`, which JSON need not escape.
    fn encode(&self) -> String {
        let mut out = self.aliases.join(",");
        out.push(';');
        for (i, (key, raw)) in self.fns.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(key);
            let (kind, name) = match raw {
                Raw::Other => ("o", ""),
                Raw::Named {
                    name,
                    is_async: false,
                } => ("n", name.as_str()),
                Raw::Named {
                    name,
                    is_async: true,
                } => ("a", name.as_str()),
                Raw::Future { name } => ("f", name.as_str()),
            };
            out.push('=');
            out.push_str(kind);
            out.push_str(name);
        }
        out
    }

    /// [`FileSigs::encode`] read back; `None` if it is not that form.
    fn decode(text: &str) -> Option<FileSigs> {
        let (aliases, fns) = text.split_once(';')?;
        let aliases = aliases
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        let fns = fns
            .split(' ')
            .filter(|f| !f.is_empty())
            .map(|entry| {
                let (key, raw) = entry.split_once('=')?;
                let name = raw.get(1..)?.to_owned();
                let raw = match raw.as_bytes().first()? {
                    b'o' => Raw::Other,
                    b'n' => Raw::Named {
                        name,
                        is_async: false,
                    },
                    b'a' => Raw::Named {
                        name,
                        is_async: true,
                    },
                    b'f' => Raw::Future { name },
                    _ => return None,
                };
                Some((key.to_owned(), raw))
            })
            .collect::<Option<_>>()?;
        Some(FileSigs { fns, aliases })
    }

    /// Scans one file's text.
    pub(crate) fn scan(text: &str) -> FileSigs {
        let (comments, literals) = crate::comments::scan_with_literals(text);
        FileSigs::of_source(text, &comments, &literals)
    }

    /// Scans a file's text whose comments and literals are known: a `fn`
    /// or `type` inside one (a doc example, a test's source snippet) is not
    /// a definition.
    pub(crate) fn of_source(
        text: &str,
        comments: &[crate::comments::Comment],
        literals: &[(usize, usize)],
    ) -> FileSigs {
        let code = text.as_bytes();
        // Both lists are in order: whether `at` is inside one is a search.
        let in_comment = |at: usize| {
            let i = comments.partition_point(|c| c.end <= at);
            let j = literals.partition_point(|l| l.1 <= at);
            comments.get(i).is_some_and(|c| c.start <= at)
                || literals.get(j).is_some_and(|l| l.0 <= at)
        };
        let mut aliases = Vec::new();
        result_aliases(code, &in_comment, &mut aliases);
        FileSigs {
            fns: functions(code, &in_comment),
            aliases,
        }
    }
}

impl serde::Serialize for FileSigs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> serde::Deserialize<'de> for FileSigs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FileSigs, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        FileSigs::decode(&text).ok_or_else(|| serde::de::Error::custom("not a signature list"))
    }
}

impl Signatures {
    /// Scans the sources of a workspace.
    #[must_use]
    pub fn scan<'a>(sources: impl IntoIterator<Item = &'a str>) -> Signatures {
        use rayon::prelude::*;
        let sources: Vec<&str> = sources.into_iter().collect();
        let files: Vec<FileSigs> = sources.par_iter().map(|s| FileSigs::scan(s)).collect();
        Signatures::merge(files, |_| true)
    }

    /// The workspace's answers from its files' signatures, for the
    /// function keys that `wanted` (a name defined with disagreeing return
    /// types is `Other`). Merged in parallel.
    pub(crate) fn merge(files: Vec<FileSigs>, wanted: impl Fn(&str) -> bool + Sync) -> Signatures {
        use rayon::prelude::*;
        let aliases: HashSet<String> = files
            .iter()
            .flat_map(|f| f.aliases.iter().cloned())
            .collect();
        let is_result = |n: &str| n.ends_with("Result") || aliases.contains(n);
        let classify = |raw: &Raw| match raw {
            Raw::Named { name, is_async } if is_result(name) => {
                if *is_async {
                    Returns::FutureResult
                } else {
                    Returns::Result
                }
            }
            Raw::Future { name } if is_result(name) => Returns::FutureResult,
            _ => Returns::Other,
        };
        let add = |m: &mut HashMap<String, Returns>, key: String, returns: Returns| {
            m.entry(key)
                .and_modify(|r| {
                    if *r != returns {
                        *r = Returns::Other;
                    }
                })
                .or_insert(returns);
        };
        let names = files
            .into_par_iter()
            .fold(HashMap::new, |mut m, f| {
                for (key, raw) in f.fns.into_iter().filter(|(k, _)| wanted(k)) {
                    let returns = classify(&raw);
                    add(&mut m, key, returns);
                }
                m
            })
            .reduce(HashMap::new, |a, b| {
                let (mut a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (key, returns) in b {
                    add(&mut a, key, returns);
                }
                a
            });
        Signatures { names }
    }

    /// What the function with index [`key`] `key` returns, if the
    /// workspace defines it.
    pub(crate) fn get(&self, key: &str) -> Option<Returns> {
        self.names.get(key).copied()
    }
}

/// A finding that holds only if a call returns a `Result`, which the
/// workspace's signatures decide once all files are read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Condition {
    /// The callee's index [`key`].
    pub key: String,
    /// The call is awaited.
    pub awaited: bool,
    /// The answer when the workspace does not define the callee (a known
    /// std/tokio API, or not).
    pub otherwise: bool,
}

impl Condition {
    pub(crate) fn holds(&self, sig: &Signatures) -> bool {
        match sig.get(&self.key) {
            Some(Returns::Result) => !self.awaited,
            Some(Returns::FutureResult) => self.awaited,
            Some(Returns::Other) => false,
            None => self.otherwise,
        }
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Positions of the keyword `kw` in `code` (not part of a longer name).
fn keyword<'a>(code: &'a [u8], kw: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memchr::memmem::find_iter(code, kw).filter(move |&i| {
        (i == 0 || !is_ident(code[i - 1])) && code.get(i + kw.len()).is_some_and(|&c| !is_ident(c))
    })
}

fn ident_at(code: &[u8], mut i: usize) -> Option<(&str, usize)> {
    while i < code.len() && code[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < code.len() && is_ident(code[i]) {
        i += 1;
    }
    if i == start {
        return None;
    }
    let s = std::str::from_utf8(&code[start..i]).ok()?;
    Some((s, i))
}

/// `type Name<..> = <something>Result<..>;` → `Name`. Associated types of
/// traits' usual names (`type Output = Result<..>;` in an `impl Future`)
/// are not aliases anyone calls by name.
fn result_aliases(code: &[u8], in_comment: &dyn Fn(usize) -> bool, out: &mut Vec<String>) {
    if memchr::memmem::find(code, b"Result").is_none() {
        return;
    }
    for at in keyword(code, b"type").filter(|&at| !in_comment(at)) {
        let Some((name, after)) = ident_at(code, at + 4) else {
            continue;
        };
        let Some(end) = code[after..]
            .iter()
            .position(|&c| c == b';')
            .map(|p| after + p)
        else {
            continue;
        };
        let Some(eq) = code[after..end]
            .iter()
            .position(|&c| c == b'=')
            .map(|p| after + p)
        else {
            continue;
        };
        let target = String::from_utf8_lossy(&code[eq + 1..end]);
        let associated = matches!(
            name,
            "Output" | "Item" | "Error" | "Target" | "Future" | "Response" | "Ok" | "Err"
        );
        if !associated
            && outer_type(&target).is_some_and(|t| t.ends_with("Result"))
            && !out.iter().any(|a| a == name)
        {
            out.push(name.to_owned());
        }
    }
}

/// `F::Output`, `Self::Item`, `<T as Tr>::Out`: an associated type, whose
/// name says nothing (an `impl` elsewhere may say `type Output = Result<..>`).
fn is_projection(ty: &str) -> bool {
    let ty = ty.trim_start();
    ty.starts_with('<')
        || ty.split_once("::").is_some_and(|(first, _)| {
            let first = first.trim();
            first == "Self"
                || (first.len() == 1 && first.starts_with(|c: char| c.is_ascii_uppercase()))
        })
}

/// The last path segment of a type's outermost path (`io::Result<()>` →
/// `Result`, `&'a mut Foo` → `Foo`).
fn outer_type(ty: &str) -> Option<&str> {
    let ty = ty.trim_start();
    let ty = ty.trim_start_matches(['&', ' ']);
    let ty = if ty.starts_with('\'') {
        ty.find(char::is_whitespace)
            .map_or("", |i| &ty[i..])
            .trim_start()
    } else {
        ty
    };
    let ty = ty.strip_prefix("mut ").unwrap_or(ty).trim_start();
    let path_end = ty
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(ty.len());
    let path = &ty[..path_end];
    path.rsplit("::").next().filter(|s| !s.is_empty())
}

/// Every `fn name(..) -> Ret` of the code (comments and literals blanked),
/// classified.
fn functions(code: &[u8], in_comment: &dyn Fn(usize) -> bool) -> Vec<(String, Raw)> {
    let mut out = Vec::new();
    for at in keyword(code, b"fn").filter(|&at| !in_comment(at)) {
        let Some((name, after)) = ident_at(code, at + 2) else {
            continue;
        };
        // The signature ends at the body or `;`, outside brackets.
        let mut depth = 0i32;
        let mut i = after;
        let mut arrow = None;
        let mut params: Option<(usize, usize)> = None;
        while i < code.len() {
            match code[i] {
                b'(' if depth == 0 && params.is_none() => {
                    params = Some((i + 1, matching_paren(code, i)));
                    depth += 1;
                }
                b'(' | b'[' | b'<' => depth += 1,
                b'>' if i > 0 && code[i - 1] == b'-' => {
                    arrow = arrow.or((depth == 0).then_some(i + 1));
                }
                b')' | b']' | b'>' => depth -= 1,
                b'{' | b';' if depth <= 0 => break,
                _ => {}
            }
            i += 1;
        }
        let is_async = code[..at].trim_ascii_end().ends_with(b"async");
        let ret = arrow
            .and_then(|a| std::str::from_utf8(&code[a..i]).ok())
            .map(|text| {
                // `where` clauses follow the return type.
                text.find(" where").map_or(text, |w| &text[..w])
            });
        let raw = match ret {
            None => Raw::Other,
            Some(r) if is_projection(r) => Raw::Other,
            Some(r) if r.contains("Future<Output") => r
                .split("Output")
                .nth(1)
                .map(|o| o.trim_start_matches([' ', '=']))
                .filter(|o| !is_projection(o))
                .and_then(outer_type)
                .map_or(Raw::Other, |name| Raw::Future {
                    name: name.to_owned(),
                }),
            Some(r) => outer_type(r).map_or(Raw::Other, |name| Raw::Named {
                name: name.to_owned(),
                is_async,
            }),
        };
        let (count, method) = params.map_or((0, false), |(from, to)| count_params(&code[from..to]));
        out.push((key(name, count, method), raw));
    }
    out
}

/// The index key of a function: name, number of parameters (not counting
/// `self`), and whether it is a method (`self` first). `x.wait()` and
/// `wait(d)` are different functions.
pub(crate) fn key(name: &str, params: usize, method: bool) -> String {
    // Built by hand: one per function of the workspace, `format!` costs.
    let mut key = String::with_capacity(name.len() + 2);
    key.push_str(name);
    key.push(if method { '.' } else { '/' });
    match u8::try_from(params) {
        Ok(digit) if digit < 10 => key.push(char::from(b'0' + digit)),
        _ => key.push_str(&params.to_string()),
    }
    key
}

/// Where the bracket opened at `open` closes (or the end).
fn matching_paren(code: &[u8], open: usize) -> usize {
    let mut depth = 0i32;
    for (i, &c) in code.iter().enumerate().skip(open) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// Parameters in a parameter list's text, `self` not counted, and whether
/// `self` is the first.
fn count_params(list: &[u8]) -> (usize, bool) {
    let mut count = 0;
    let mut first: Option<&[u8]> = None;
    let mut depth = 0i32;
    let mut start = 0;
    let blank = |p: &[u8]| p.iter().all(u8::is_ascii_whitespace);
    for (i, &c) in list.iter().enumerate() {
        match c {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b'>' if i > 0 && list[i - 1] == b'-' => {}
            b')' | b']' | b'}' | b'>' => depth -= 1,
            b',' if depth == 0 => {
                let p = &list[start..i];
                count += usize::from(!blank(p));
                first.get_or_insert(p);
                start = i + 1;
            }
            _ => {}
        }
    }
    let p = &list[start..];
    count += usize::from(!blank(p));
    let first = first.unwrap_or(p);
    // `self`, `mut self`, `&self`, `&'a mut self`, `self: Box<Self>`.
    let words = first
        .split(|c| c.is_ascii_whitespace() || *c == b'&' || *c == b':')
        .filter(|w| !w.is_empty() && !w.starts_with(b"'") && *w != b"mut");
    let method = words.take(1).any(|w| w == b"self");
    (count - usize::from(method), method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_form_reads_back_as_scanned() {
        let src = "type Res<T> = Result<T, E>;\n\
                   pub fn a() -> io::Result<()> { Ok(()) }\n\
                   async fn b(x: u8) -> Res<u8> { Ok(x) }\n\
                   fn c(&self) -> impl Future<Output = anyhow::Result<()>> { todo!() }\n\
                   fn r#d() {}\n";
        let sigs = FileSigs::scan(src);
        assert_eq!(sigs.fns.len(), 4, "{sigs:?}");
        let back = FileSigs::decode(&sigs.encode()).unwrap_or_default();
        assert_eq!(back.fns, sigs.fns);
        assert_eq!(back.aliases, sigs.aliases);
        assert!(FileSigs::decode("no separator").is_none());
        assert!(FileSigs::decode(";f/0=x").is_none());
    }

    #[test]
    fn classifies_return_types() {
        let src = r##"
            type Res<T> = std::result::Result<T, Error>;
            // fn commented() -> Result<(), ()>
            pub fn open(p: &Path) -> io::Result<File> { todo!() }
            fn parse<'a, T: Into<u8>>(s: &'a str) -> Result<Vec<T>, E> where T: Copy { todo!() }
            async fn send(&self) -> anyhow::Result<()> { todo!() }
            fn take(&mut self) -> Option<u8> { None }
            fn aliased() -> Res<u8>;
            fn fut() -> impl Future<Output = Result<(), E>> + Send { async { Ok(()) } }
            fn unit(x: [u8; 4]) { let s = "fn fake() -> Result<(), ()>"; }
            fn lock(&self) -> LockResult<Guard<'_>> { todo!() }
            fn boxed() -> Box<dyn Fn() -> Result<(), ()>> { todo!() }
            const Q: char = '\''; const R: &str = r#"say "fn raw() -> Result<(), ()>" "#;
            fn after_literals() -> Result<(), E> { todo!() }
            impl Future for F { type Output = Result<(), E>; }
            fn run<G: Future>(g: G) -> G::Output { todo!() }
        "##;
        let sig = Signatures::scan([src]);
        let get = |name, params, method| sig.get(&key(name, params, method));
        assert_eq!(get("open", 1, false), Some(Returns::Result));
        assert_eq!(get("parse", 1, false), Some(Returns::Result));
        assert_eq!(get("send", 0, true), Some(Returns::FutureResult));
        assert_eq!(get("take", 0, true), Some(Returns::Other));
        assert_eq!(get("aliased", 0, false), Some(Returns::Result));
        assert_eq!(get("fut", 0, false), Some(Returns::FutureResult));
        assert_eq!(get("unit", 1, false), Some(Returns::Other));
        assert_eq!(get("lock", 0, true), Some(Returns::Result));
        assert_eq!(get("boxed", 0, false), Some(Returns::Other));
        assert_eq!(get("commented", 0, false), None);
        assert_eq!(get("fake", 0, false), None);
        assert_eq!(get("open", 1, true), None);
        assert_eq!(get("raw", 0, false), None);
        assert_eq!(get("after_literals", 0, false), Some(Returns::Result));
        assert_eq!(get("run", 1, false), Some(Returns::Other));
    }

    #[test]
    fn disagreeing_definitions_are_not_a_result() {
        let sig = Signatures::scan([
            "fn get() -> Result<u8, E> { todo!() }",
            "fn get() -> u8 { 0 }",
            "fn wait(&self) -> io::Result<()> { todo!() }",
            "fn wait(&mut self, d: Duration) {}",
        ]);
        assert_eq!(sig.get(&key("get", 0, false)), Some(Returns::Other));
        assert_eq!(sig.get(&key("wait", 0, true)), Some(Returns::Result));
        assert_eq!(sig.get(&key("wait", 1, true)), Some(Returns::Other));
    }
}
