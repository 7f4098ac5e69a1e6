//! Function names of a Go binary from its `.gopclntab`, the runtime's own
//! function table. The Go runtime needs it for stack traces and the garbage
//! collector, so `go build -ldflags "-s -w"`, which drops the symbol table
//! and DWARF, keeps it: a stripped Go server still has a name for every
//! function.
//!
//! Format (Go 1.18 and later, magic `0xfffffff0`/`0xfffffff1`; the
//! runtime's `pcHeader`, `functab` and `_func` in `runtime/symtab.go`): a
//! header with the pointer size, the function count, the text start and
//! the offsets of the name table and the function table; the function table
//! is `nfunc + 1` pairs of 32-bit (entry offset from the text start, offset
//! of the function's `_func`), the last entry's offset being the end of
//! the text; a `_func` starts with its entry offset and the offset of its
//! name in the name table (NUL-terminated). Older layouts are not read:
//! their frames stay unnamed rather than misnamed. Every read is
//! bounds-checked; a malformed table gives no names, never a panic.

/// The functions of one Go binary: (entry address, name), sorted, and
/// the end of the last function.
#[derive(Debug, Default)]
pub struct GoFunctions {
    entries: Vec<(u64, String)>,
    end: u64,
}

impl GoFunctions {
    /// Reads `.gopclntab`'s bytes. `text` is the address of `.text`, used
    /// when the header's text start is 0 (position-independent builds,
    /// where the linker leaves it to a relocation).
    #[must_use]
    pub fn parse(table: &[u8], text: u64) -> Option<Self> {
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(table.get(at..at + 4)?.try_into().ok()?))
        };
        let magic = u32_at(0)?;
        if magic != 0xffff_fff0 && magic != 0xffff_fff1 {
            return None;
        }
        let ptr = usize::from(*table.get(7)?);
        if ptr != 8 && ptr != 4 {
            return None;
        }
        let word = |i: usize| -> Option<u64> {
            let at = 8 + i * ptr;
            let bytes = table.get(at..at + ptr)?;
            Some(if ptr == 8 {
                u64::from_le_bytes(bytes.try_into().ok()?)
            } else {
                u64::from(u32::from_le_bytes(bytes.try_into().ok()?))
            })
        };
        let nfunc = usize::try_from(word(0)?).ok()?;
        let text_start = match word(2)? {
            0 => text,
            t => t,
        };
        let names = usize::try_from(word(3)?).ok()?;
        let functab = usize::try_from(word(7)?).ok()?;
        // Each function is at least a pair in the table: a count beyond the
        // table's size is a corrupt header.
        if nfunc > table.len() / 8 {
            return None;
        }
        let name_at = |off: usize| -> Option<String> {
            let bytes = table.get(off..)?;
            let len = bytes.iter().position(|&b| b == 0)?;
            std::str::from_utf8(&bytes[..len]).ok().map(str::to_owned)
        };
        let mut entries = Vec::with_capacity(nfunc);
        for i in 0..nfunc {
            let pair = functab.checked_add(i * 8)?;
            let entry = u64::from(u32_at(pair)?);
            let func = functab.checked_add(usize::try_from(u32_at(pair + 4)?).ok()?)?;
            // _func: entryOff u32, nameOff i32.
            let name_off = usize::try_from(i32::from_le_bytes(
                table.get(func + 4..func + 8)?.try_into().ok()?,
            ))
            .ok()?;
            let name = name_at(names.checked_add(name_off)?)?;
            entries.push((text_start.checked_add(entry)?, name));
        }
        let end = text_start.checked_add(u64::from(u32_at(functab.checked_add(nfunc * 8)?)?))?;
        if !entries.windows(2).all(|w| w[0].0 <= w[1].0) {
            return None;
        }
        Some(Self { entries, end })
    }

    /// The function holding `vaddr`: from its entry to the next one's.
    #[must_use]
    pub fn at(&self, vaddr: u64) -> Option<&str> {
        if vaddr >= self.end {
            return None;
        }
        let i = self.entries.partition_point(|(entry, _)| *entry <= vaddr);
        self.entries.get(i.checked_sub(1)?).map(|(_, n)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::GoFunctions;

    /// A table as the Go 1.18+ linker lays it out: header, names, then
    /// the function table and the `_func`s.
    fn table(text_start: u64, funcs: &[(u32, &str)], end: u32) -> Vec<u8> {
        let mut names = Vec::new();
        let mut name_offs = Vec::new();
        for (_, n) in funcs {
            name_offs.push(u32::try_from(names.len()).unwrap_or(0));
            names.extend_from_slice(n.as_bytes());
            names.push(0);
        }
        let header = 8 + 8 * 8;
        let names_at = header;
        let functab_at = names_at + names.len();
        let mut t = Vec::new();
        t.extend_from_slice(&0xffff_fff1_u32.to_le_bytes());
        t.extend_from_slice(&[0, 0, 1, 8]);
        let words = [
            funcs.len() as u64,
            1,
            text_start,
            names_at as u64,
            0,
            0,
            0,
            functab_at as u64,
        ];
        for w in words {
            t.extend_from_slice(&w.to_le_bytes());
        }
        t.extend_from_slice(&names);
        let funcs_at = (funcs.len() + 1) * 8;
        for (i, (entry, _)) in funcs.iter().enumerate() {
            t.extend_from_slice(&entry.to_le_bytes());
            t.extend_from_slice(&u32::try_from(funcs_at + i * 8).unwrap_or(0).to_le_bytes());
        }
        t.extend_from_slice(&end.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        for (i, (entry, _)) in funcs.iter().enumerate() {
            t.extend_from_slice(&entry.to_le_bytes());
            t.extend_from_slice(&name_offs[i].to_le_bytes());
        }
        t
    }

    #[test]
    fn names_every_address_of_a_function_and_nothing_past_the_text() {
        let t = table(
            0x40_1000,
            &[
                (0, "runtime.text"),
                (0x100, "main.leak"),
                (0x180, "main.main"),
            ],
            0x200,
        );
        let go = GoFunctions::parse(&t, 0).unwrap_or_else(|| panic!("parse"));
        assert_eq!(go.at(0x40_1100), Some("main.leak"));
        assert_eq!(go.at(0x40_117f), Some("main.leak"));
        assert_eq!(go.at(0x40_1180), Some("main.main"));
        assert_eq!(go.at(0x40_1200), None);
        assert_eq!(go.at(0x40_0fff), None);
        // A header text start of 0: the .text address is the base.
        let t = table(0, &[(0, "a"), (0x10, "b")], 0x20);
        let go = GoFunctions::parse(&t, 0x50_0000).unwrap_or_else(|| panic!("parse"));
        assert_eq!(go.at(0x50_0010), Some("b"));
    }

    #[test]
    fn truncated_or_foreign_tables_give_no_names() {
        let t = table(0x40_1000, &[(0, "a"), (0x10, "b")], 0x20);
        for len in 0..t.len() {
            // Never a panic; any answer must come from a whole table.
            if let Some(go) = GoFunctions::parse(&t[..len], 0) {
                assert!(go.at(0x40_1010).is_none_or(|n| n == "b"));
            }
        }
        let mut old = t.clone();
        old[..4].copy_from_slice(&0xffff_fffa_u32.to_le_bytes());
        assert!(GoFunctions::parse(&old, 0).is_none());
    }
}
