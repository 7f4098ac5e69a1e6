//! The kernel's list format for CPU and node sets: `0-3,8,10-11`.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// A set of CPU (or node) numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CpuSet(BTreeSet<u32>);

/// The largest CPU or node number accepted; the kernel's own limit
/// (`NR_CPUS`) is 8192, and a bigger number is a corrupt file, not a host.
pub const MAX_ID: u32 = 1 << 16;

impl CpuSet {
    /// The empty set.
    #[must_use]
    pub fn new() -> CpuSet {
        CpuSet::default()
    }

    /// Parses the kernel's list format (`bitmap_parselist`): comma-separated
    /// numbers and ranges `a-b`, optionally with a stride `a-b:used/group`
    /// (`0-15:2/4` = 0,1,4,5,8,9,12,13). Whitespace and a trailing newline
    /// are allowed; an empty text is the empty set.
    pub fn parse(text: &str) -> Result<CpuSet, String> {
        let mut set = BTreeSet::new();
        let text = text.trim();
        if text.is_empty() {
            return Ok(CpuSet(set));
        }
        for item in text.split(',') {
            let item = item.trim();
            let (range, stride) = match item.split_once(':') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            let (lo, hi) = if let Some((a, b)) = range.split_once('-') {
                (number(a, item)?, number(b, item)?)
            } else {
                let n = number(range, item)?;
                (n, n)
            };
            if lo > hi {
                return Err(format!("`{item}`: range goes backwards"));
            }
            let (used, group) = match stride {
                None => (1, 1),
                Some(s) => {
                    let (u, g) = s
                        .split_once('/')
                        .ok_or_else(|| format!("`{item}`: a stride is written `used/group`"))?;
                    let (u, g) = (number(u, item)?, number(g, item)?);
                    if u == 0 || g == 0 || u > g {
                        return Err(format!("`{item}`: invalid stride {u}/{g}"));
                    }
                    (u, g)
                }
            };
            let mut start = lo;
            while start <= hi {
                for n in start..start.saturating_add(used).min(hi + 1) {
                    set.insert(n);
                }
                match start.checked_add(group) {
                    Some(next) => start = next,
                    None => break,
                }
            }
        }
        Ok(CpuSet(set))
    }

    /// Parses the kernel's mask format (`Cpus_allowed: ff,ffffffff`): comma
    /// separated 32-bit hex words, most significant first.
    pub fn parse_mask(text: &str) -> Result<CpuSet, String> {
        let mut set = BTreeSet::new();
        let words: Vec<&str> = text.trim().split(',').collect();
        for (i, word) in words.iter().rev().enumerate() {
            let bits = u32::from_str_radix(word.trim(), 16)
                .map_err(|e| format!("`{}`: not a hex mask ({e})", word.escape_debug()))?;
            for b in 0..32 {
                if bits & (1 << b) != 0 {
                    let id = u32::try_from(i)
                        .ok()
                        .and_then(|i| i.checked_mul(32))
                        .and_then(|base| base.checked_add(b))
                        .filter(|&id| id <= MAX_ID)
                        .ok_or_else(|| "mask too long".to_owned())?;
                    set.insert(id);
                }
            }
        }
        Ok(CpuSet(set))
    }

    /// A set from numbers.
    #[must_use]
    pub fn from_ids(ids: impl IntoIterator<Item = u32>) -> CpuSet {
        CpuSet(ids.into_iter().collect())
    }

    /// Whether `id` is in the set.
    #[must_use]
    pub fn contains(&self, id: u32) -> bool {
        self.0.contains(&id)
    }

    /// Adds `id`.
    pub fn insert(&mut self, id: u32) {
        self.0.insert(id);
    }

    /// Number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().copied()
    }

    /// Members of both.
    #[must_use]
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.intersection(&other.0).copied().collect())
    }

    /// Whether every member is also in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }
}

fn number(s: &str, item: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|e| format!("`{}`: not a CPU list ({e})", item.escape_debug()))?;
    if n > MAX_ID {
        return Err(format!(
            "`{item}`: {n} is beyond any real CPU or node number"
        ));
    }
    Ok(n)
}

/// The kernel's list format: `0-3,8`.
impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut iter = self.0.iter().copied().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while let Some(next) = end.checked_add(1)
                && iter.peek() == Some(&next)
            {
                end = next;
                iter.next();
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ids = |s: &str| CpuSet::parse(s).map(|c| c.iter().collect::<Vec<_>>());
        assert_eq!(ids("0-3,8\n"), Ok(vec![0, 1, 2, 3, 8]));
        assert_eq!(ids(""), Ok(vec![]));
        assert_eq!(ids("\n"), Ok(vec![]));
        assert_eq!(ids(" 5 "), Ok(vec![5]));
        assert_eq!(ids("0-15:2/4"), Ok(vec![0, 1, 4, 5, 8, 9, 12, 13]));
        assert!(ids("3-1").is_err());
        assert!(ids("a").is_err());
        assert!(ids("0-99999999").is_err());
        assert!(ids("0-3:0/4").is_err());
        assert!(ids("1,,2").is_err());
        assert_eq!(
            CpuSet::parse("0-3,8,10-11").map(|c| c.to_string()),
            Ok("0-3,8,10-11".to_owned())
        );
        assert_eq!(
            CpuSet::from_ids([u32::MAX - 1, u32::MAX]).to_string(),
            "4294967294-4294967295"
        );
        assert_eq!(
            CpuSet::parse_mask("00000001,00000003").map(|c| c.to_string()),
            Ok("0-1,32".to_owned())
        );
    }
}
