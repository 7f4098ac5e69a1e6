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
//!
//! Also the binary's main module path from its build info
//! (`.go.buildinfo`, `debug/buildinfo` in the Go tree), which tells the
//! user's own packages from their dependencies.

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

/// The main module's path (`github.com/acme/api`) from a Go binary's
/// `.go.buildinfo` section: a 32-byte header (`\xff Go buildinf:`, the
/// pointer size, flags), then, when flag bit 1 says the strings are
/// inline (Go 1.18 and later), the Go version and the module info, each
/// a uvarint length and bytes. The module info is framed by 16-byte
/// sentinels and has a line `mod<TAB>PATH<TAB>VERSION…`. A binary built
/// outside a module (GOPATH mode, `go build file.go`) has none.
#[must_use]
pub fn main_module(buildinfo: &[u8]) -> Option<String> {
    const MAGIC: &[u8] = b"\xff Go buildinf:";
    if !buildinfo.starts_with(MAGIC) || buildinfo.get(15)? & 2 == 0 {
        return None;
    }
    let mut at = 32;
    let mut string = || -> Option<&[u8]> {
        let (len, used) = uvarint(buildinfo.get(at..)?)?;
        let start = at + used;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        at = end;
        buildinfo.get(start..end)
    };
    let _version = string()?;
    let info = string()?;
    // The sentinels are not UTF-8; the lines between them are.
    String::from_utf8_lossy(info)
        .lines()
        .find_map(|l| l.strip_prefix("mod\t"))
        .and_then(|rest| rest.split('\t').next())
        .filter(|path| !path.is_empty())
        .map(str::to_owned)
}

/// A little-endian base-128 varint: (value, bytes used).
fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
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

    /// Corrupted tables (random bytes overwritten, a xorshift sequence so
    /// failures reproduce): never a panic, whatever the answer.
    #[test]
    fn corrupted_tables_and_build_info_never_panic() {
        let t = table(0x40_1000, &[(0, "a"), (0x10, "b"), (0x30, "c")], 0x40);
        let mut info = b"\xff Go buildinf:\x08\x02".to_vec();
        info.resize(32, 0);
        info.extend_from_slice(b"\x04go1\x10mod\tx.io/a\t(devel)\n");
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            for original in [&t, &info] {
                let mut b = original.clone();
                for _ in 0..=next() % 4 {
                    let at = usize::try_from(next()).unwrap_or(0) % b.len();
                    b[at] = u8::try_from(next() & 0xff).unwrap_or(0);
                }
                if let Some(go) = GoFunctions::parse(&b, 0x40_1000) {
                    for pc in [0, 0x40_1000, 0x40_1011, 0x40_103f, u64::MAX] {
                        std::hint::black_box(go.at(pc));
                    }
                }
                std::hint::black_box(super::main_module(&b));
            }
        }
    }

    #[test]
    fn the_main_module_comes_from_the_build_info() {
        // The module info between the Go linker's sentinels (not UTF-8).
        let sentinel = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
        let mut info = sentinel.to_vec();
        info.extend_from_slice(
            b"path\tgithub.com/acme/api/cmd/api\nmod\tgithub.com/acme/api\t(devel)\t\ndep\tgithub.com/jackc/pgx/v5\tv5.5.0\th1:x=\n",
        );
        info.extend_from_slice(b"x".repeat(200).as_slice());
        info.extend_from_slice(sentinel);
        let mut b = b"\xff Go buildinf:".to_vec();
        b.push(8);
        b.push(2);
        b.resize(32, 0);
        let version = b"go1.22.1";
        b.push(u8::try_from(version.len()).unwrap_or(0));
        b.extend_from_slice(version);
        // A length over 127 takes two varint bytes.
        let len = info.len();
        b.push(u8::try_from(len & 0x7f).unwrap_or(0) | 0x80);
        b.push(u8::try_from(len >> 7).unwrap_or(0));
        b.extend_from_slice(&info);
        assert_eq!(
            super::main_module(&b).as_deref(),
            Some("github.com/acme/api")
        );
        // Cut short, wrong magic, or no inline strings: none, no panic.
        for cut in [0, 20, 33, 40, b.len() - 1] {
            std::hint::black_box(super::main_module(&b[..cut]));
        }
        assert_eq!(super::main_module(b"\xff Go buildinf:\x08\x00"), None);
    }
}
