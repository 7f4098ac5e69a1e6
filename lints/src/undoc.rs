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

/// `source` with doc comments made plain; `None` when it has none.
pub(crate) fn strip_doc_comments(source: &str) -> Option<String> {
    let b = source.as_bytes();
    let mut edits: Vec<usize> = Vec::new();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let third = b.get(i + 2).copied();
                let doc =
                    third == Some(b'!') || (third == Some(b'/') && b.get(i + 3) != Some(&b'/'));
                if doc {
                    edits.push(i + 2);
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let third = b.get(i + 2).copied();
                let doc = third == Some(b'!')
                    || (third == Some(b'*') && !matches!(b.get(i + 3), Some(b'*' | b'/')));
                if doc {
                    edits.push(i + 2);
                }
                i = skip_block_comment(b, i);
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'r' if (i == 0
                || !ident(b[i - 1])
                || (b[i - 1] == b'b' && (i < 2 || !ident(b[i - 2]))))
                && matches!(b.get(i + 1), Some(b'#' | b'"')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                i = if b.get(i + 1 + hashes) == Some(&b'"') {
                    skip_raw_string(b, i + 2 + hashes, hashes)
                } else {
                    i + 1
                };
            }
            b'\'' => {
                // A character literal ('a', '\n', '\u{..}', 'é') or a lifetime.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    let width = source[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + width) == Some(&b'\'') {
                        i += 2 + width;
                    } else {
                        i += 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = source.as_bytes().to_vec();
    for at in edits {
        out[at] = b' ';
    }
    // Only ASCII bytes were replaced by ASCII, so this stays UTF-8.
    String::from_utf8(out).ok()
}

/// Index just past the block comment starting at `i` (they nest).
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Index just past a raw string whose body starts at `i`, closed by `"`
/// and `hashes` `#`s.
fn skip_raw_string(b: &[u8], mut i: usize, hashes: usize) -> usize {
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::strip_doc_comments;

    #[test]
    fn doc_comments_become_plain_and_offsets_stay() {
        let src = "//! crate\n/// item\nfn f() {} //// not doc\n/** block */ /*! inner */ /**/ /*** x */\n";
        let out = strip_doc_comments(src).unwrap_or_default();
        assert_eq!(
            out,
            "//  crate\n//  item\nfn f() {} //// not doc\n/*  block */ /*  inner */ /**/ /*** x */\n"
        );
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn literals_are_left_alone() {
        let src = "let a = \"/// x\"; let b = r#\"//! y\"#; let c = '/'; let d: &'static str = \"\\\"///\";\n";
        assert_eq!(strip_doc_comments(src), None);
    }
}
