//! User-stack symbolization: pc → (binary, ELF address) through a process's
//! maps snapshot, then DWARF (`file:line`, inlined frames) via addr2line, a
//! Go binary's own function table (`.gopclntab`, kept by `-ldflags "-s
//! -w"`), the `.symtab`/`.dynsym` function symbols, `MiniDebugInfo`
//! (`.gnu_debugdata`), and a separate debug file found by build id or
//! `.gnu_debuglink`. Names are
//! demangled (Rust v0 and legacy, C++). Binaries are cached by build id
//! (path when there is none); results per (binary, address).
//!
//! A wrong name is worse than none: a frame is named after a symbol only
//! when the symbol's extent (its address and size) holds the frame's
//! address. In a stripped binary the nearest exported symbol below an
//! address usually belongs to another function; such frames are shown as
//! `binary+offset` with the build id, which is enough to symbolize them
//! later against the unstripped build.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSegment};

use crate::frame::{Frame, Program};
use crate::gopclntab::GoFunctions;
use crate::procfs::Mapping;

struct Binary {
    main: Option<addr2line::Loader>,
    debug: Option<addr2line::Loader>,
    /// (file offset, vaddr, size) of `PT_LOAD` segments.
    segments: Vec<(u64, u64, u64)>,
    /// Function symbols of the binary and its debug file, with extents.
    functions: FunctionSymbols,
    /// A Go binary's own function table (kept when it is stripped).
    go: Option<GoFunctions>,
    /// A Go binary's main module path, from its build info.
    go_module: Option<String>,
    /// The build id in hex, for frames no name can be given.
    build_id: Option<String>,
}

/// Function symbols (`.symtab` and `.dynsym`) with a size, sorted by
/// address: (address, size, name).
#[derive(Debug, Default)]
struct FunctionSymbols(Vec<(u64, u64, String)>);

impl FunctionSymbols {
    fn add(&mut self, file: &object::File<'_>) {
        use object::{ObjectSymbol, SymbolKind};
        self.0.extend(
            file.symbols()
                .chain(file.dynamic_symbols())
                .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.size() > 0)
                .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_owned()))),
        );
        self.0.sort_unstable();
        self.0.dedup_by_key(|(address, size, _)| (*address, *size));
    }

    /// The function whose extent holds `vaddr`. Symbols may nest or alias
    /// (a local alias inside a bigger function): the nearest few below
    /// `vaddr` are checked, innermost first.
    fn at(&self, vaddr: u64) -> Option<&str> {
        let below = self.0.partition_point(|(address, _, _)| *address <= vaddr);
        self.0[..below]
            .iter()
            .rev()
            .take(8)
            .find(|(address, size, _)| vaddr - address < *size)
            .map(|(_, _, name)| name.as_str())
    }
}

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary")
            .field("debug_file", &self.debug.is_some())
            .finish_non_exhaustive()
    }
}

/// Symbolizes addresses; one per tracer session.
#[derive(Debug, Default)]
pub struct Symbolizer {
    by_path: HashMap<PathBuf, Option<Arc<str>>>,
    binaries: HashMap<Arc<str>, Option<Binary>>,
    results: HashMap<(Arc<str>, u64), Vec<Frame>>,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `MiniDebugInfo`: the xz-compressed ELF file in `.gnu_debugdata` that
/// Fedora, RHEL and others leave in stripped binaries, holding the
/// function symbols `.dynsym` does not (static functions included).
/// Unpacked at most `MINI_DEBUG_INFO_MAX` bytes: a symbol table is a few
/// MiB at most, and a corrupt or hostile binary must not exhaust memory.
fn mini_debug_info(file: &object::File<'_>) -> Option<Vec<u8>> {
    let data = file.section_by_name(".gnu_debugdata")?.data().ok()?;
    let mut out = Limited(Vec::new());
    lzma_rs::xz_decompress(&mut std::io::BufReader::new(data), &mut out).ok()?;
    Some(out.0)
}

const MINI_DEBUG_INFO_MAX: usize = 64 << 20;

/// A buffer that refuses to grow past `MINI_DEBUG_INFO_MAX`.
struct Limited(Vec<u8>);

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MINI_DEBUG_INFO_MAX {
            return Err(std::io::Error::other("MiniDebugInfo larger than 64 MiB"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where a separate debug file for `path` may be.
fn debug_file(path: &Path, build_id: Option<&[u8]>, debuglink: Option<&[u8]>) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(id) = build_id.filter(|id| id.len() > 1) {
        let hex = hex(id);
        candidates.push(PathBuf::from(format!(
            "/usr/lib/debug/.build-id/{}/{}.debug",
            &hex[..2],
            &hex[2..]
        )));
    }
    if let Some(name) = debuglink.and_then(|n| std::str::from_utf8(n).ok()) {
        let dir = path.parent().unwrap_or(Path::new("/"));
        candidates.push(dir.join(name));
        candidates.push(dir.join(".debug").join(name));
        candidates.push(
            Path::new("/usr/lib/debug")
                .join(dir.strip_prefix("/").unwrap_or(dir))
                .join(name),
        );
    }
    candidates.into_iter().find(|c| c.is_file() && c != path)
}

impl Symbolizer {
    /// The binary's cache key (build id in hex, else the path).
    fn key(&mut self, path: &Path, open: &Path) -> Option<Arc<str>> {
        if let Some(k) = self.by_path.get(path) {
            return k.clone();
        }
        let key = fs::read(open).ok().and_then(|data| {
            let file = object::File::parse(&*data).ok()?;
            let id = file.build_id().ok().flatten();
            let key: Arc<str> = match id {
                Some(id) => hex(id).into(),
                None => path.to_string_lossy().into(),
            };
            if !self.binaries.contains_key(&key) {
                let debuglink = file.gnu_debuglink().ok().flatten().map(|(n, _)| n.to_vec());
                let segments = file
                    .segments()
                    .map(|s| {
                        let (off, size) = s.file_range();
                        (off, s.address(), size)
                    })
                    .collect();
                let mut functions = FunctionSymbols::default();
                functions.add(&file);
                if let Some(mini) = mini_debug_info(&file)
                    && let Ok(mini) = object::File::parse(&*mini)
                {
                    functions.add(&mini);
                }
                let text = file.section_by_name(".text").map_or(0, |t| t.address());
                let go_module = file
                    .section_by_name(".go.buildinfo")
                    .and_then(|s| s.data().ok())
                    .and_then(crate::gopclntab::main_module);
                let go = file
                    .section_by_name(".gopclntab")
                    .and_then(|t| t.data().ok())
                    .and_then(|t| GoFunctions::parse(t, text));
                let debug_path = debug_file(path, id, debuglink.as_deref());
                if let Some(data) = debug_path.as_ref().and_then(|d| fs::read(d).ok())
                    && let Ok(debug) = object::File::parse(&*data)
                {
                    functions.add(&debug);
                }
                let debug = debug_path.and_then(|d| addr2line::Loader::new(d).ok());
                let main = addr2line::Loader::new(open).ok();
                self.binaries.insert(
                    key.clone(),
                    Some(Binary {
                        main,
                        debug,
                        segments,
                        functions,
                        go,
                        go_module,
                        build_id: id.map(hex),
                    }),
                );
            }
            Some(key)
        });
        self.by_path.insert(path.to_owned(), key.clone());
        key
    }

    /// Frames for `pc` (several when inlined), innermost first. `exact` is
    /// false for return addresses (looked up at pc - 1). `pid` is used to
    /// open the binary through `/proc/PID/map_files` while it is alive.
    pub fn frames(&mut self, pid: u32, maps: &[Mapping], pc: u64, exact: bool) -> Vec<Frame> {
        let lookup = if exact { pc } else { pc.wrapping_sub(1) };
        let Some(m) = maps.iter().find(|m| lookup >= m.start && lookup < m.end) else {
            return vec![Frame::unknown(Path::new(""), pc, None)];
        };
        let via = PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end));
        let open = if via.exists() { via } else { m.path.clone() };
        let file_offset = lookup - m.start + m.offset;
        let unknown = || vec![Frame::unknown(&m.path, file_offset, None)];
        let Some(key) = self.key(&m.path, &open) else {
            return unknown();
        };
        let Some(Some(bin)) = self.binaries.get(&key) else {
            return unknown();
        };
        let Some(vaddr) = bin
            .segments
            .iter()
            .find(|(off, _, size)| file_offset >= *off && file_offset < off + size)
            .map(|(off, vaddr, _)| file_offset - off + vaddr)
        else {
            return unknown();
        };
        if let Some(hit) = self.results.get(&(key.clone(), vaddr)) {
            return hit.clone();
        }
        let program = if bin.go.is_some() {
            Program::Go {
                main_module: bin.go_module.as_deref(),
            }
        } else {
            Program::Native
        };
        let mut out = Vec::new();
        for loader in [bin.debug.as_ref(), bin.main.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Ok(mut iter) = loader.find_frames(vaddr) {
                while let Ok(Some(frame)) = iter.next() {
                    let Some(name) = frame.function.as_ref().and_then(|f| f.demangle().ok()) else {
                        continue;
                    };
                    let location = frame
                        .location
                        .as_ref()
                        .and_then(|l| Some((l.file?.to_owned(), l.line?)));
                    out.push(Frame::named(name.into_owned(), location, &m.path, program));
                }
            }
            if !out.is_empty() {
                break;
            }
        }
        if out.is_empty()
            && let Some(name) = bin.go.as_ref().and_then(|g| g.at(vaddr))
        {
            out.push(Frame::named(name.to_owned(), None, &m.path, program));
        }
        if out.is_empty() {
            out.push(match bin.functions.at(vaddr) {
                Some(s) => {
                    let name = addr2line::demangle_auto(s.into(), None).into_owned();
                    Frame::named(name, None, &m.path, program)
                }
                None => Frame::unknown(&m.path, file_offset, bin.build_id.clone()),
            });
        }
        self.results.insert((key, vaddr), out.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::FunctionSymbols;

    #[test]
    fn a_symbol_names_only_addresses_inside_it() {
        let symbols = FunctionSymbols(vec![
            (0x1000, 0x10, "tiny".to_owned()),
            (0x2000, 0x100, "outer".to_owned()),
            (0x2040, 0x8, "alias_inside".to_owned()),
        ]);
        assert_eq!(symbols.at(0x1008), Some("tiny"));
        // Past tiny's end: the nearest symbol below is not this function.
        assert_eq!(symbols.at(0x1010), None);
        assert_eq!(symbols.at(0x1800), None);
        assert_eq!(symbols.at(0x2044), Some("alias_inside"));
        // Past the alias, still inside outer.
        assert_eq!(symbols.at(0x2080), Some("outer"));
        assert_eq!(symbols.at(0x0fff), None);
        assert_eq!(symbols.at(0x2100), None);
    }
}
