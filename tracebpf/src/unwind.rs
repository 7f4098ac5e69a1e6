//! DWARF CFI unwinding of captured user stacks (the `perf --call-graph=dwarf`
//! approach): the kernel sends registers and a copy of the stack from the
//! frame where it stopped; this module walks it with the `.eh_frame` /
//! `.debug_frame` rows of each mapped binary (gimli), and turns every row it
//! used into the compact form the kernel evaluates itself afterwards
//! ([`govkit_ebpf_common::UnwindRow`]), so each call site is unwound here once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gimli::{
    BaseAddresses, CfaRule, CieOrFde, DebugFrame, EhFrame, LittleEndian, RegisterRule,
    UnwindContext, UnwindSection, X86_64,
};
use govkit_ebpf_common::{UnwindRow, reg, unwind_kind};
use object::{Object, ObjectSection, ObjectSegment};

use crate::procfs::Mapping;

/// Frame information of one ELF file.
#[derive(Debug)]
pub struct FrameInfo {
    eh_frame: Vec<u8>,
    eh_frame_addr: u64,
    debug_frame: Vec<u8>,
    text_addr: u64,
    /// (file offset, vaddr, file size) of each `PT_LOAD` segment.
    segments: Vec<(u64, u64, u64)>,
    /// Sorted (start, end, offset, in `.eh_frame`) of every FDE.
    index: Vec<(u64, u64, usize, bool)>,
}

impl FrameInfo {
    pub fn parse(data: &[u8]) -> Result<Self, object::Error> {
        let file = object::File::parse(data)?;
        let section = |name: &str| {
            file.section_by_name(name)
                .map(|s| {
                    (
                        s.uncompressed_data()
                            .map(std::borrow::Cow::into_owned)
                            .unwrap_or_default(),
                        s.address(),
                    )
                })
                .unwrap_or_default()
        };
        let (eh_frame, eh_frame_addr) = section(".eh_frame");
        let (debug_frame, _) = section(".debug_frame");
        let text_addr = file.section_by_name(".text").map_or(0, |s| s.address());
        let segments = file
            .segments()
            .map(|s| {
                let (off, size) = s.file_range();
                (off, s.address(), size)
            })
            .collect();
        let mut info = Self {
            eh_frame,
            eh_frame_addr,
            debug_frame,
            text_addr,
            segments,
            index: Vec::new(),
        };
        info.build_index();
        Ok(info)
    }

    fn bases(&self) -> BaseAddresses {
        BaseAddresses::default()
            .set_eh_frame(self.eh_frame_addr)
            .set_text(self.text_addr)
    }

    fn build_index(&mut self) {
        let bases = self.bases();
        let mut index = Vec::new();
        let eh = EhFrame::new(&self.eh_frame, LittleEndian);
        let mut entries = eh.entries(&bases);
        while let Ok(Some(entry)) = entries.next() {
            if let CieOrFde::Fde(partial) = entry
                && let Ok(fde) = partial.parse(EhFrame::cie_from_offset)
            {
                let start = fde.initial_address();
                index.push((start, start + fde.len(), fde.offset(), true));
            }
        }
        let df = DebugFrame::new(&self.debug_frame, LittleEndian);
        let mut entries = df.entries(&bases);
        while let Ok(Some(entry)) = entries.next() {
            if let CieOrFde::Fde(partial) = entry
                && let Ok(fde) = partial.parse(DebugFrame::cie_from_offset)
            {
                let start = fde.initial_address();
                index.push((start, start + fde.len(), fde.offset(), false));
            }
        }
        index.sort_unstable();
        self.index = index;
    }

    /// ELF virtual address of a file offset.
    #[must_use]
    pub fn vaddr_of_offset(&self, file_offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|(off, _, size)| file_offset >= *off && file_offset < off + size)
            .map(|(off, vaddr, _)| file_offset - off + vaddr)
    }

    /// The kernel-evaluable row for `vaddr`, or why there is none.
    #[must_use]
    pub fn row(&self, vaddr: u64) -> Row {
        let at = self.index.partition_point(|e| e.0 <= vaddr);
        let Some(&(start, end, offset, in_eh)) = at.checked_sub(1).and_then(|i| self.index.get(i))
        else {
            return Row::NoFde;
        };
        if vaddr < start || vaddr >= end {
            return Row::NoFde;
        }
        let bases = self.bases();
        let mut ctx = UnwindContext::new();
        let found = if in_eh {
            let s = EhFrame::new(&self.eh_frame, LittleEndian);
            s.fde_from_offset(
                &bases,
                gimli::EhFrameOffset(offset),
                EhFrame::cie_from_offset,
            )
            .and_then(|fde| {
                fde.unwind_info_for_address(&s, &bases, &mut ctx, vaddr)
                    .map(|r| convert(r.cfa(), &r.register(X86_64::RA), &r.register(X86_64::RBP)))
            })
        } else {
            let s = DebugFrame::new(&self.debug_frame, LittleEndian);
            s.fde_from_offset(
                &bases,
                gimli::DebugFrameOffset(offset),
                DebugFrame::cie_from_offset,
            )
            .and_then(|fde| {
                fde.unwind_info_for_address(&s, &bases, &mut ctx, vaddr)
                    .map(|r| convert(r.cfa(), &r.register(X86_64::RA), &r.register(X86_64::RBP)))
            })
        };
        found.unwrap_or(Row::NoFde)
    }
}

/// A row as the kernel can use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Frame(UnwindRow),
    /// Return address undefined: the outermost frame.
    End,
    /// CFI the kernel cannot evaluate (expressions, other registers).
    Unsupported,
    /// No FDE covers the address.
    NoFde,
}

fn convert<T: gimli::ReaderOffset>(
    cfa: &CfaRule<T>,
    ra: &RegisterRule<T>,
    rbp: &RegisterRule<T>,
) -> Row {
    match *ra {
        RegisterRule::Undefined => return Row::End,
        RegisterRule::Offset(-8) => {}
        _ => return Row::Unsupported,
    }
    let (cfa_reg, cfa_offset) = match cfa {
        CfaRule::RegisterAndOffset { register, offset } if *register == X86_64::RSP => {
            (reg::RSP, *offset)
        }
        CfaRule::RegisterAndOffset { register, offset } if *register == X86_64::RBP => {
            (reg::RBP, *offset)
        }
        _ => return Row::Unsupported,
    };
    let (rbp_saved, rbp_offset) = match *rbp {
        RegisterRule::Undefined | RegisterRule::SameValue => (0, 0),
        RegisterRule::Offset(o) => (1, o),
        _ => return Row::Unsupported,
    };
    let (Ok(cfa_offset), Ok(rbp_offset)) = (i32::try_from(cfa_offset), i32::try_from(rbp_offset))
    else {
        return Row::Unsupported;
    };
    Row::Frame(UnwindRow {
        kind: unwind_kind::FRAME,
        cfa_reg,
        rbp_saved,
        _pad: 0,
        cfa_offset,
        rbp_offset,
        _pad2: 0,
    })
}

/// The frame-pointer rule, for code without CFI (CFA = rbp + 16, caller's rbp at CFA - 16).
pub const FRAME_POINTER_ROW: UnwindRow = UnwindRow {
    kind: unwind_kind::FRAME,
    cfa_reg: reg::RBP,
    rbp_saved: 1,
    _pad: 0,
    cfa_offset: 16,
    rbp_offset: -16,
    _pad2: 0,
};

#[must_use]
pub fn kernel_row(row: Row) -> UnwindRow {
    let kind = match row {
        Row::Frame(r) => return r,
        Row::End => unwind_kind::END,
        Row::Unsupported | Row::NoFde => unwind_kind::UNSUPPORTED,
    };
    UnwindRow {
        kind,
        cfa_reg: 0,
        rbp_saved: 0,
        _pad: 0,
        cfa_offset: 0,
        rbp_offset: 0,
        _pad2: 0,
    }
}

/// Frame information per binary, shared by every process that maps it.
#[derive(Debug, Default)]
pub struct FrameCache {
    files: HashMap<PathBuf, Option<Arc<FrameInfo>>>,
}

impl FrameCache {
    /// `open` reads the file (through `/proc/PID/map_files` when the process is alive).
    pub fn get(
        &mut self,
        path: &Path,
        open: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Arc<FrameInfo>> {
        self.files
            .entry(path.to_owned())
            .or_insert_with(|| open().and_then(|d| FrameInfo::parse(&d).ok()).map(Arc::new))
            .clone()
    }
}

/// One step of a walk: the pc, the row used for it (to install in the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub pc: u64,
    pub exact: bool,
    pub row: UnwindRow,
}

/// Result of unwinding a capture.
#[derive(Debug, Default)]
pub struct Walk {
    pub steps: Vec<Step>,
    /// The walk reached the outermost frame.
    pub complete: bool,
}

/// Registers where a walk starts.
#[derive(Debug, Clone, Copy)]
pub struct Regs {
    pub pc: u64,
    pub sp: u64,
    pub bp: u64,
    /// `pc` is the interrupted instruction (frame 0), not a return address.
    pub exact: bool,
}

/// Walks from `regs` over `stack` (memory starting at `regs.sp`), at most
/// `max` frames. `frame_info` gives the CFI of a mapping's file.
pub fn walk(
    regs: Regs,
    stack: &[u8],
    max: usize,
    maps: &[Mapping],
    mut frame_info: impl FnMut(&Mapping) -> Option<Arc<FrameInfo>>,
) -> Walk {
    let Regs {
        mut pc,
        mut sp,
        mut bp,
        mut exact,
    } = regs;
    let base = sp;
    let read = |addr: u64| -> Option<u64> {
        let off = usize::try_from(addr.checked_sub(base)?).ok()?;
        let bytes = stack.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    };
    let mut out = Walk::default();
    while out.steps.len() < max {
        let lookup = if exact { pc } else { pc.wrapping_sub(1) };
        let row = maps
            .iter()
            .find(|m| lookup >= m.start && lookup < m.end)
            .and_then(|m| {
                let info = frame_info(m)?;
                let vaddr = info.vaddr_of_offset(lookup - m.start + m.offset)?;
                Some(info.row(vaddr))
            })
            .unwrap_or(Row::NoFde);
        let row = match row {
            // No CFI: a frame-pointer frame if rbp points into the stack.
            Row::NoFde if bp > sp && read(bp.wrapping_add(8)).is_some() => {
                Row::Frame(FRAME_POINTER_ROW)
            }
            r => r,
        };
        let urow = kernel_row(row);
        out.steps.push(Step {
            pc,
            exact,
            row: urow,
        });
        let Row::Frame(r) = row else {
            out.complete = row == Row::End;
            return out;
        };
        let cfa = if r.cfa_reg == reg::RBP { bp } else { sp }
            .wrapping_add_signed(i64::from(r.cfa_offset));
        let Some(ra) = read(cfa.wrapping_sub(8)) else {
            return out;
        };
        if r.rbp_saved != 0 {
            match read(cfa.wrapping_add_signed(i64::from(r.rbp_offset))) {
                Some(v) => bp = v,
                None => return out,
            }
        }
        if ra == 0 {
            out.complete = true;
            return out;
        }
        sp = cfa;
        pc = ra;
        exact = false;
    }
    out
}
