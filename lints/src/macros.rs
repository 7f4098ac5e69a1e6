//! The code inside `macro_rules!` definitions.
//!
//! A rule's transcriber (`=> { .. }`) is Rust with holes: `$x` fragments and
//! `$( .. ),*` repetitions. Read with each `$x` as the plain name `x` and
//! each repetition once, most bodies parse, and the rules see the
//! `unsafe` block, `dbg!` or `process::exit($code)` they contain, as clippy
//! does when it checks the expansion. A body that still does not parse
//! (one that builds items from pieces, say) is skipped.

use proc_macro2::{Group, TokenStream, TokenTree};

/// The transcribers of a `macro_rules!` invocation's tokens
/// (`(matcher) => { transcriber };` repeated), fragments substituted.
pub(crate) fn transcribers(tokens: TokenStream) -> Vec<TokenStream> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    for w in tokens.windows(4) {
        if let [
            TokenTree::Group(_),
            TokenTree::Punct(eq),
            TokenTree::Punct(gt),
            TokenTree::Group(body),
        ] = w
            && eq.as_char() == '='
            && gt.as_char() == '>'
        {
            out.push(substitute(body.stream()));
        }
    }
    out
}

/// `$x` → `x`, `$crate` → `crate`, `$( .. ) sep? op` → the contents once.
fn substitute(tokens: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(d), Some(TokenTree::Ident(name))) if d.as_char() == '$' => {
                out.push(TokenTree::Ident(name.clone()));
                i += 2;
            }
            (TokenTree::Punct(d), Some(TokenTree::Group(g))) if d.as_char() == '$' => {
                out.extend(substitute(g.stream()));
                i += 2;
                // The repetition operator, after an optional separator.
                let op = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?'));
                if op(tokens.get(i)) {
                    i += 1;
                } else if op(tokens.get(i + 1)) {
                    i += 2;
                }
            }
            (TokenTree::Group(g), _) => {
                let mut inner = Group::new(g.delimiter(), substitute(g.stream()));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
                i += 1;
            }
            (tt, _) => {
                out.push(tt.clone());
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(src: &str) -> Vec<String> {
        transcribers(src.parse().unwrap_or_default())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn fragments_become_names_and_repetitions_one_pass() {
        assert_eq!(
            bodies(
                "($x:expr) => { std::process::exit($x) }; ($($a:expr),*) => {{ $(dbg!($a);)* $crate::f() }}"
            ),
            [
                "std :: process :: exit (x)",
                "{ dbg ! (a) ; crate :: f () }"
            ]
        );
        assert_eq!(bodies("() => { f($($a),+) }"), ["f (a)"]);
    }
}
