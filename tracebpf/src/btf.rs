//! Just enough of the BTF format to find struct member offsets in the running
//! kernel's `/sys/kernel/btf/vmlinux`: the accept path walks
//! `task_struct` → `files_struct` → `fdtable` → `file` → `socket`, and those offsets
//! differ between kernels. They are resolved here and written into the
//! program's read-only data before load (CO-RE without compiler support).
//!
//! Format: Documentation/bpf/btf.rst. Every read is bounds-checked; a
//! malformed blob is an error, never a panic.

use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("not BTF (bad magic)")]
    Magic,
    #[error("truncated at byte {0}")]
    Truncated(usize),
    #[error("unknown BTF kind {kind} at type {id}")]
    Kind { kind: u32, id: u32 },
    #[error("no struct `{0}`")]
    NoStruct(String),
    #[error("struct `{0}` has no member `{1}`")]
    NoMember(String, String),
    #[error("member `{0}.{1}` is a bitfield")]
    Bitfield(String, String),
}

#[derive(Debug, Clone)]
struct Member {
    name: u32,
    ty: u32,
    bit_offset: u32,
    bitfield: bool,
}

#[derive(Debug, Clone)]
enum Type {
    /// struct or union with its members.
    Composite(Vec<Member>),
    /// typedef, pointer, const, volatile, restrict: the type referred to.
    Ref(u32),
    /// Function prototype with its number of parameters.
    FuncProto(usize),
    Other,
}

/// Parsed struct/union layouts of a BTF blob.
#[derive(Debug)]
pub struct Btf {
    strings: Vec<u8>,
    /// Index = type id (0 is void).
    types: Vec<(u32, Type)>,
    by_name: HashMap<String, u32>,
    typedefs: HashMap<String, u32>,
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, BtfError> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(BtfError::Truncated(at))
}

impl Btf {
    pub fn parse(data: &[u8]) -> Result<Self, BtfError> {
        if data.get(0..2) != Some(&[0x9f, 0xeb]) {
            return Err(BtfError::Magic);
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let type_off = u32_at(data, 8)? as usize;
        let type_len = u32_at(data, 12)? as usize;
        let str_off = u32_at(data, 16)? as usize;
        let str_len = u32_at(data, 20)? as usize;
        let range = |off: usize, len: usize| {
            let start = hdr_len.checked_add(off).ok_or(BtfError::Truncated(off))?;
            let end = start.checked_add(len).ok_or(BtfError::Truncated(start))?;
            data.get(start..end).ok_or(BtfError::Truncated(end))
        };
        let types_bytes = range(type_off, type_len)?;
        let strings = range(str_off, str_len)?.to_vec();
        let mut types = vec![(0, Type::Other)];
        let mut at = 0;
        while at < types_bytes.len() {
            let id = u32::try_from(types.len()).unwrap_or(u32::MAX);
            let name = u32_at(types_bytes, at)?;
            let info = u32_at(types_bytes, at + 4)?;
            at += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let kflag = info >> 31 == 1;
            let ty = match kind {
                4 | 5 => {
                    let mut members = Vec::with_capacity(vlen);
                    for i in 0..vlen {
                        let m = at + i * 12;
                        let off = u32_at(types_bytes, m + 8)?;
                        members.push(Member {
                            name: u32_at(types_bytes, m)?,
                            ty: u32_at(types_bytes, m + 4)?,
                            bit_offset: if kflag { off & 0x00ff_ffff } else { off },
                            bitfield: kflag && off >> 24 != 0,
                        });
                    }
                    at += vlen * 12;
                    Type::Composite(members)
                }
                1 | 14 | 17 => {
                    at += 4;
                    Type::Other
                }
                3 => {
                    at += 12;
                    Type::Other
                }
                6 => {
                    at += vlen * 8;
                    Type::Other
                }
                13 => {
                    at += vlen * 8;
                    Type::FuncProto(vlen)
                }
                15 | 19 => {
                    at += vlen * 12;
                    Type::Other
                }
                2 | 8..=11 => Type::Ref(u32_at(types_bytes, at - 4)?),
                7 | 12 | 16 | 18 => Type::Other,
                _ => return Err(BtfError::Kind { kind, id }),
            };
            types.push((name, ty));
        }
        let mut btf = Self {
            strings,
            types,
            by_name: HashMap::new(),
            typedefs: HashMap::new(),
        };
        for (id, (name, ty)) in btf.types.iter().enumerate() {
            if matches!(ty, Type::Composite(_)) && *name != 0 {
                let n = btf.name(*name).to_owned();
                // The first definition wins; vmlinux has one per name.
                btf.by_name
                    .entry(n)
                    .or_insert(u32::try_from(id).unwrap_or(u32::MAX));
            }
        }
        for (id, (name, _)) in btf.types.iter().enumerate() {
            if *name != 0 && btf.kinds_typedef(id) {
                let n = btf.name(*name).to_owned();
                btf.typedefs
                    .entry(n)
                    .or_insert(u32::try_from(id).unwrap_or(u32::MAX));
            }
        }
        Ok(btf)
    }

    fn kinds_typedef(&self, id: usize) -> bool {
        // Only named Ref types are typedefs (pointers and qualifiers have no name).
        matches!(self.types.get(id), Some((n, Type::Ref(_))) if *n != 0)
    }

    /// Number of arguments a BTF-typed tracepoint passes to a program
    /// (`btf_trace_<name>` is a pointer to a prototype whose first
    /// parameter is the context), or `None` if this kernel has no such
    /// tracepoint.
    #[must_use]
    pub fn tracepoint_args(&self, name: &str) -> Option<usize> {
        let mut id = *self.typedefs.get(&format!("btf_trace_{name}"))?;
        for _ in 0..8 {
            match self.types.get(id as usize)? {
                (_, Type::Ref(to)) => id = *to,
                (_, Type::FuncProto(n)) => return n.checked_sub(1),
                _ => return None,
            }
        }
        None
    }

    fn name(&self, off: u32) -> &str {
        let rest = self.strings.get(off as usize..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// Byte offset of `member` in `struct name`, looking through anonymous
    /// struct and union members.
    pub fn member_offset(&self, name: &str, member: &str) -> Result<u32, BtfError> {
        let id = *self
            .by_name
            .get(name)
            .ok_or_else(|| BtfError::NoStruct(name.to_owned()))?;
        let (bits, bitfield) = self
            .find(id, member, 0, 0)
            .ok_or_else(|| BtfError::NoMember(name.to_owned(), member.to_owned()))?;
        if bitfield || bits % 8 != 0 {
            return Err(BtfError::Bitfield(name.to_owned(), member.to_owned()));
        }
        Ok(bits / 8)
    }

    fn find(&self, id: u32, member: &str, base: u32, depth: u32) -> Option<(u32, bool)> {
        if depth > 8 {
            return None;
        }
        let Some((_, Type::Composite(members))) = self.types.get(id as usize) else {
            return None;
        };
        for m in members {
            if m.name != 0 && self.name(m.name) == member {
                return Some((base + m.bit_offset, m.bitfield));
            }
        }
        for m in members.iter().filter(|m| m.name == 0) {
            if let Some(found) = self.find(m.ty, member, base + m.bit_offset, depth + 1) {
                return Some(found);
            }
        }
        None
    }
}

/// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed.
pub(crate) fn vmlinux_btf() -> Result<Btf, crate::TraceError> {
    use crate::{env, programs::load_error};
    let vmlinux =
        std::fs::read(env::BTF).map_err(|e| load_error(&format!("reading {}", env::BTF), e))?;
    Btf::parse(&vmlinux).map_err(|e| load_error(&format!("parsing {}", env::BTF), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a blob with `struct outer { int a; union { int b; long c; }; }`.
    fn blob() -> Vec<u8> {
        let strings = b"\0outer\0a\0b\0c\0int\0".to_vec();
        let mut types = Vec::new();
        let push = |t: &mut Vec<u8>, words: &[u32]| {
            for w in words {
                t.extend_from_slice(&w.to_le_bytes());
            }
        };
        // 1: int
        push(&mut types, &[13, 1 << 24, 4, 32]);
        // 2: union { b; c } at offset 0
        push(&mut types, &[0, (5 << 24) | 2, 8, 9, 1, 0, 11, 1, 0]);
        // 3: struct outer { a @0; anon union @64 }
        push(&mut types, &[1, (4 << 24) | 2, 16, 7, 1, 0, 0, 2, 64]);
        let mut out = Vec::new();
        out.extend_from_slice(&[0x9f, 0xeb, 1, 0]);
        let (tl, sl) = (
            u32::try_from(types.len()).unwrap(),
            u32::try_from(strings.len()).unwrap(),
        );
        for w in [24u32, 0, tl, tl, sl] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&types);
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn finds_members_through_anonymous_unions() {
        let btf = Btf::parse(&blob()).unwrap();
        assert_eq!(btf.member_offset("outer", "a").unwrap(), 0);
        assert_eq!(btf.member_offset("outer", "c").unwrap(), 8);
        assert!(matches!(
            btf.member_offset("outer", "zz"),
            Err(BtfError::NoMember(..))
        ));
        assert!(matches!(
            btf.member_offset("nope", "a"),
            Err(BtfError::NoStruct(_))
        ));
    }

    #[test]
    fn truncated_blobs_are_errors() {
        let b = blob();
        for len in 0..b.len() {
            assert!(
                Btf::parse(&b[..len]).is_err() || len >= 24,
                "prefix of {len} bytes parsed"
            );
        }
        assert!(Btf::parse(&b[..30]).is_err());
    }

    #[test]
    fn running_kernel_passes_prev_state_to_sched_switch() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            return; // no BTF here: the tracer refuses to start anyway
        };
        let btf = Btf::parse(&data).unwrap();
        // 5.18+: preempt, prev, next, prev_state.
        assert_eq!(btf.tracepoint_args("sched_switch"), Some(4));
        assert_eq!(btf.tracepoint_args("sched_migrate_task"), Some(2));
        assert_eq!(btf.tracepoint_args("no_such_tracepoint"), None);
    }

    #[test]
    fn running_kernel_has_the_accept_path_members() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            return; // no BTF on this host: covered by the environment check
        };
        let btf = Btf::parse(&data).unwrap();
        for (s, m) in [
            ("task_struct", "files"),
            ("files_struct", "fdt"),
            ("fdtable", "fd"),
            ("fdtable", "max_fds"),
            ("file", "private_data"),
            ("socket", "sk"),
        ] {
            btf.member_offset(s, m).unwrap();
        }
    }
}
