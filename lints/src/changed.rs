//! Which lines a change touched, from a unified diff with no context lines
//! (`git diff -U0 REV`): what `govkit lint --new-from-rev REV` keeps
//! findings on.

use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Lines of each file (as the diff names it, `b/` stripped) that are new or
/// changed in the diff's new side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedLines {
    files: HashMap<String, Vec<RangeInclusive<usize>>>,
}

impl ChangedLines {
    /// Reads a unified diff's file headers (`+++ b/PATH`) and hunk headers
    /// (`@@ -a,b +c,d @@`: lines c to c+d-1 of the new file). Deleted
    /// files (`+++ /dev/null`) and pure deletions (d = 0) change no line.
    #[must_use]
    pub fn from_unified_diff(diff: &str) -> Self {
        let mut files: HashMap<String, Vec<RangeInclusive<usize>>> = HashMap::new();
        let mut current: Option<String> = None;
        for line in diff.lines() {
            if let Some(path) = line.strip_prefix("+++ ") {
                current = path.strip_prefix("b/").map(str::to_owned);
            } else if let (Some(hunk), Some(file)) = (line.strip_prefix("@@ "), &current) {
                let new = hunk
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix('+'))
                    .unwrap_or("0");
                let (start, count): (usize, usize) = match new.split_once(',') {
                    Some((s, c)) => (s.parse().unwrap_or(0), c.parse().unwrap_or(0)),
                    None => (new.parse().unwrap_or(0), 1),
                };
                if count > 0 {
                    files
                        .entry(file.clone())
                        .or_default()
                        .push(start..=start + count - 1);
                }
            }
        }
        Self { files }
    }

    /// Whether `line` of `file` (a path relative to the diff's root) is new
    /// or changed; `line` 0 (a finding about the whole file) counts when
    /// any line of the file changed.
    #[must_use]
    pub fn contains(&self, file: &str, line: usize) -> bool {
        self.files
            .get(file)
            .is_some_and(|ranges| line == 0 || ranges.iter().any(|r| r.contains(&line)))
    }

    /// The files with a changed line.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_the_new_sides_lines() {
        let diff = "\
diff --git a/src/a.rs b/src/a.rs
--- a/src/a.rs
+++ b/src/a.rs
@@ -3 +3 @@ fn a() {
-old
+new
@@ -10,0 +11,2 @@
+x
+y
@@ -20,3 +22,0 @@
diff --git a/gone.rs b/gone.rs
--- a/gone.rs
+++ /dev/null
@@ -1,2 +0,0 @@
";
        let c = ChangedLines::from_unified_diff(diff);
        assert!(c.contains("src/a.rs", 3));
        assert!(c.contains("src/a.rs", 11) && c.contains("src/a.rs", 12));
        assert!(!c.contains("src/a.rs", 13) && !c.contains("src/a.rs", 22));
        assert!(c.contains("src/a.rs", 0));
        assert!(!c.contains("gone.rs", 1));
        assert_eq!(c.files().collect::<Vec<_>>(), ["src/a.rs"]);
    }
}
