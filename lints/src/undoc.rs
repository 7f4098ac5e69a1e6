//! Doc comments turned into plain comments before parsing.
//!
//! proc-macro2 lexes every `///` line into a `#[doc = "…"]` attribute (an
//! escaped string literal, a group, three tokens) and syn then parses each
//! one; in well-documented crates that is a large share of all tokens, and no
//! rule looks at doc comments. Rewriting `///`, `//!`, `/**` and `/*!` to
//! `// `, `// `, `/* ` and `/* ` keeps every byte offset (so spans still
//! point into the original text) and removes that work.
//!
//! The scan skips string, raw-string and character literals. Should it
//! misjudge a literal, the only effect is a changed byte inside that literal:
//! the rewrite never turns valid Rust into invalid Rust.

use crate::comments::Comment;

/// `source` with its doc comments (from [`crate::comments::scan`]) made
/// plain; `None` when it has none.
pub(crate) fn strip_doc_comments(source: &str, comments: &[Comment]) -> Option<String> {
    let mut out: Option<Vec<u8>> = None;
    for c in comments.iter().filter(|c| c.doc) {
        out.get_or_insert_with(|| source.as_bytes().to_vec())[c.start + 2] = b' ';
    }
    // Only ASCII bytes were replaced by ASCII, so this stays UTF-8.
    out.and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::strip_doc_comments;

    #[test]
    fn doc_comments_become_plain_and_offsets_stay() {
        let src = "//! crate\n/// item\nfn f() {} //// not doc\n/** block */ /*! inner */ /**/ /*** x */\n";
        let out = strip_doc_comments(src, &crate::comments::scan(src)).unwrap_or_default();
        assert_eq!(
            out,
            "//  crate\n//  item\nfn f() {} //// not doc\n/*  block */ /*  inner */ /**/ /*** x */\n"
        );
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn literals_are_left_alone() {
        let src = "let a = \"/// x\"; let b = r#\"//! y\"#; let c = '/'; let d: &'static str = \"\\\"///\";\n";
        assert_eq!(strip_doc_comments(src, &crate::comments::scan(src)), None);
    }
}
