//! One lexical scan for comments, shared by everything that reads them
//! (the doc-comment pre-pass and inline suppressions), so string and
//! character literals are told apart from comments in one place.

/// A comment: its byte range (a line comment ends before its newline) and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comment {
    pub start: usize,
    pub end: usize,
    /// `/* .. */` rather than `// ..`.
    pub block: bool,
    /// `///`, `//!`, `/** .. */` or `/*! .. */`.
    pub doc: bool,
}

/// Every comment of `source`, in order, found by a scan that skips string,
/// raw-string and character literals.
pub(crate) fn scan(source: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    lex(source, |t| {
        if let Lexed::Comment(c) = t {
            out.push(c);
        }
    });
    out
}

/// [`scan`], and the byte ranges of every string, raw-string and
/// character literal, from the same scan.
pub(crate) fn scan_with_literals(source: &str) -> (Vec<Comment>, Vec<(usize, usize)>) {
    let mut comments = Vec::new();
    let mut literals = Vec::new();
    lex(source, |t| match t {
        Lexed::Comment(c) => comments.push(c),
        Lexed::Literal(start, end) => literals.push((start, end)),
    });
    (comments, literals)
}

/// What the lexical scan reports.
enum Lexed {
    Comment(Comment),
    /// A string, raw-string or character literal's byte range.
    Literal(usize, usize),
}

/// The lexical scan: every comment and literal of `source`, in order.
fn lex(source: &str, mut found: impl FnMut(Lexed)) {
    let b = source.as_bytes();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    // Only `/`, `"` and `'` can start a comment or a literal: jump between
    // them (a raw string's `r#` is found looking back from its quote).
    while let Some(at) = memchr::memchr3(b'/', b'"', b'\'', &b[i..]) {
        i += at;
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let third = b.get(i + 2).copied();
                let doc =
                    third == Some(b'!') || (third == Some(b'/') && b.get(i + 3) != Some(&b'/'));
                let start = i;
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                found(Lexed::Comment(Comment {
                    start,
                    end: i,
                    block: false,
                    doc,
                }));
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let third = b.get(i + 2).copied();
                let doc = third == Some(b'!')
                    || (third == Some(b'*') && !matches!(b.get(i + 3), Some(b'*' | b'/')));
                let start = i;
                i = skip_block_comment(b, i);
                found(Lexed::Comment(Comment {
                    start,
                    end: i.min(b.len()),
                    block: true,
                    doc,
                }));
            }
            b'"' => {
                // `r"…"`, `r#"…"#`, `br"…"`: an `r` (not ending a longer
                // name, `b` apart) and `#`s right before the quote.
                let hashes = b[..i].iter().rev().take_while(|&&c| c == b'#').count();
                let r = i - hashes;
                let raw = r > 0
                    && b[r - 1] == b'r'
                    && (r < 2
                        || !ident(b[r - 2])
                        || (b[r - 2] == b'b' && (r < 3 || !ident(b[r - 3]))));
                if raw {
                    let start = r - 1;
                    i = skip_raw_string(b, i + 1, hashes);
                    found(Lexed::Literal(start, i));
                } else {
                    let start = i;
                    i += 1;
                    loop {
                        match memchr::memchr2(b'"', b'\\', b.get(i..).unwrap_or_default()) {
                            Some(n) if b[i + n] == b'"' => {
                                i += n + 1;
                                break;
                            }
                            Some(n) => i += n + 2,
                            None => {
                                i = b.len();
                                break;
                            }
                        }
                    }
                    found(Lexed::Literal(start, i));
                }
            }
            b'\'' => {
                // A character literal ('a', '\n', '\u{..}', 'é') or a lifetime.
                let start = i;
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' && b[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                    found(Lexed::Literal(start, i));
                } else {
                    let width = source[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + width) == Some(&b'\'') {
                        i += 2 + width;
                        found(Lexed::Literal(start, i));
                    } else {
                        i += 1;
                    }
                }
            }
            _ => i += 1,
        }
        if i >= b.len() {
            break;
        }
    }
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
    use super::*;

    #[test]
    fn literals_hide_comment_markers() {
        let src = "let a = \"\\\\\"; // one\nlet b = br##\"\"# // no\"##; let c = \"\\\" // no\"; /* two */\nlet d = 'x'; let e: &'static str = \"unterminated // no";
        let found: Vec<&str> = scan(src).iter().map(|c| &src[c.start..c.end]).collect();
        assert_eq!(found, ["// one", "/* two */"]);
        let (_, literals) = scan_with_literals(src);
        let texts: Vec<&str> = literals
            .iter()
            .map(|&(a, b)| &src[a..b.min(src.len())])
            .collect();
        assert_eq!(
            texts,
            [
                "\"\\\\\"",
                "r##\"\"# // no\"##",
                "\"\\\" // no\"",
                "'x'",
                "\"unterminated // no"
            ]
        );
    }

    #[test]
    fn comments_and_their_kinds() {
        let src = "a // x\n/// d\n/* b /* nested */ */ '\"' \"// no\" r#\"// no\"#\n";
        let found: Vec<(&str, bool, bool)> = scan(src)
            .iter()
            .map(|c| (&src[c.start..c.end], c.block, c.doc))
            .collect();
        assert_eq!(
            found,
            [
                ("// x", false, false),
                ("/// d", false, true),
                ("/* b /* nested */ */", true, false)
            ]
        );
    }
}
