use std::ops::Range;

use serde::Serialize;

/// Where a diagnostic points: a file, a 1-based line and column, and, when
/// the gate knows it, the byte span in the file's text (used to underline the
/// offending code in human output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Path as shown to the user: relative to the working directory where
    /// possible, always with `/` separators.
    pub path: String,
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column of the start, counted in Unicode scalar values.
    pub column: usize,
    /// 1-based line of the end (inclusive).
    pub end_line: usize,
    /// 1-based column just past the end, counted in Unicode scalar values.
    pub end_column: usize,
    /// Byte range in the file's text, when known.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
}

impl Location {
    /// A location that names a file only (e.g. a vendored file whose checksum
    /// does not match): no line is meaningful.
    #[must_use]
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            span: None,
        }
    }

    /// A location at a 1-based line and column, without a span.
    #[must_use]
    pub fn line_column(path: impl Into<String>, line: usize, column: usize) -> Self {
        Location {
            path: path.into(),
            line,
            column,
            end_line: line,
            end_column: column,
            span: None,
        }
    }

    /// A location covering `span` (byte offsets) of `source`. Offsets past
    /// the end or inside a UTF-8 sequence are clamped to the nearest valid
    /// boundary rather than trusted, so a gate's off-by-one can never panic
    /// the renderer.
    #[must_use]
    pub fn from_span(path: impl Into<String>, source: &str, span: Range<usize>) -> Self {
        LineIndex::new(source).location(path, source, span)
    }

    /// True when the location names a line (not just a file).
    #[must_use]
    pub fn has_line(&self) -> bool {
        self.line > 0
    }
}

/// Start offsets of a text's lines, so many spans of one file map to lines
/// and columns without rescanning the file for each.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `source`.
    #[must_use]
    pub fn new(source: &str) -> Self {
        let mut starts = vec![0];
        // memchr finds newlines many bytes at a time: this runs on every
        // file linted.
        starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based (line, column in chars) of byte offset `at` (clamped).
    #[must_use]
    pub fn line_column(&self, source: &str, at: usize) -> (usize, usize) {
        let at = floor_char_boundary(source, at);
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts[line - 1];
        (line, source[start..at].chars().count() + 1)
    }

    /// The text of 1-based `line`, without its line ending.
    #[must_use]
    pub fn line<'s>(&self, source: &'s str, line: usize) -> Option<&'s str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).map_or(source.len(), |&e| e);
        source
            .get(start..end)
            .map(|t| t.trim_end_matches(['\n', '\r']))
    }

    /// A location covering `span` of `source` (see [`Location::from_span`]).
    #[must_use]
    pub fn location(&self, path: impl Into<String>, source: &str, span: Range<usize>) -> Location {
        let start = floor_char_boundary(source, span.start);
        let end = floor_char_boundary(source, span.end.max(span.start));
        let (line, column) = self.line_column(source, start);
        let (end_line, end_column) = self.line_column(source, end);
        Location {
            path: path.into(),
            line,
            column,
            end_line,
            end_column,
            span: Some(start..end),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte range of the 1-based `line` in `source` (without its newline), or
/// `None` when the file has fewer lines.
pub(crate) fn line_span(source: &str, line: usize) -> Option<Range<usize>> {
    let mut start = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let trimmed = text.trim_end_matches(['\n', '\r']);
            return Some(start..start + trimmed.len());
        }
        start += text.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_to_line_and_column_counts_chars() {
        let src = "ab\nçé x\n";
        let at = src.find('x').unwrap_or_default();
        let loc = Location::from_span("f.rs", src, at..at + 1);
        assert_eq!(
            (loc.line, loc.column, loc.end_line, loc.end_column),
            (2, 4, 2, 5)
        );
    }

    #[test]
    fn line_index_agrees_with_a_scan() {
        let src = "a\n\nçé x\r\nlast";
        let idx = LineIndex::new(src);
        assert_eq!(
            idx.line_column(src, src.find('x').unwrap_or_default()),
            (3, 4)
        );
        assert_eq!(idx.line_column(src, src.len()), (4, 5));
        assert_eq!(idx.line(src, 3), Some("çé x"));
        assert_eq!(idx.line(src, 5), None);
        assert_eq!(idx.line(src, 0), None);
    }

    #[test]
    fn out_of_range_span_is_clamped() {
        let src = "é";
        let loc = Location::from_span("f.rs", src, 1..99);
        assert_eq!(loc.span, Some(0..2));
    }

    #[test]
    fn line_span_finds_line_without_newline() {
        let src = "one\r\ntwo\nthree";
        assert_eq!(line_span(src, 2).map(|r| &src[r]), Some("two"));
        assert_eq!(line_span(src, 3).map(|r| &src[r]), Some("three"));
        assert_eq!(line_span(src, 4), None);
    }
}
