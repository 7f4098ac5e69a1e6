//! Call-site learning: the kernel side sends the registers and a copy of
//! the user stack when its walk reaches a pc it has no call-frame row for;
//! here that copy is unwound with the binary's CFI (gimli), the rows used
//! are installed for the kernel side, and stacks are symbolized.

use std::time::Instant;

use govkit_ebpf_common::{
    CAPTURE_STACK_BYTES, MAX_FRAMES, SockInfo, UnwindKey, event_kind, stack_flags,
};

use super::Tracer;
use crate::frame::Frame;
use crate::procfs::{self, Mapping};
use crate::unwind::walk;

/// A socket's symbolized opening stack, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Stack {
    pub(super) frames: Vec<Frame>,
    /// Whether `frames` reaches the outermost frame.
    pub(super) complete: bool,
    /// Why the stack is partial or missing.
    pub(super) note: Option<&'static str>,
}

pub(super) struct CaptureResult {
    frames: Vec<u64>,
    complete: bool,
    pub(super) seen: Instant,
}

/// Maps snapshot of a process, kept after it exits.
pub(super) struct Proc {
    maps: Vec<Mapping>,
}

impl Tracer {
    pub(super) fn handle(&mut self, rec: &[u8]) {
        let u32_at = |o: usize| {
            rec.get(o..o + 4)
                .map_or(0, |b| u32::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let u64_at = |o: usize| {
            rec.get(o..o + 8)
                .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap_or_default()))
        };
        let kind = u32_at(0);
        let tgid = u32_at(4);
        if kind == event_kind::EXEC {
            self.forget_process(tgid);
            return;
        }
        if kind != event_kind::CAPTURE || rec.len() < 64 + 8 * MAX_FRAMES {
            return;
        }
        let nframes = (u32_at(12) as usize).min(MAX_FRAMES);
        let capture_id = u64_at(16);
        let (pc, sp, bp, exact) = (u64_at(32), u64_at(40), u64_at(48), u32_at(56) != 0);
        let stack_len = (u32_at(60) as usize).min(CAPTURE_STACK_BYTES);
        let frames: Vec<u64> = (0..nframes).map(|i| u64_at(64 + 8 * i)).collect();
        let stack_start = 64 + 8 * MAX_FRAMES;
        let stack = rec
            .get(stack_start..stack_start + stack_len)
            .unwrap_or_default();
        let maps = self.maps(tgid, pc);
        let cache = &mut self.frame_cache;
        let regs = crate::unwind::Regs { pc, sp, bp, exact };
        let w = walk(regs, stack, MAX_FRAMES - nframes, &maps, |m| {
            let via = format!("/proc/{tgid}/map_files/{:x}-{:x}", m.start, m.end);
            cache.get(&m.path, || {
                std::fs::read(&via).or_else(|_| std::fs::read(&m.path)).ok()
            })
        });
        for s in &w.steps {
            let key = UnwindKey {
                pc: s.pc,
                tgid,
                exact: u32::from(s.exact),
            };
            // An LRU map: inserting only fails if the map is gone, and then
            // the kernel just keeps sending captures.
            if let Err(e) = self.unwind.insert(key, s.row, 0) {
                tracing::debug!("installing an unwind row: {e}");
            }
        }
        self.learned += 1;
        let mut all = frames;
        all.extend(w.steps.iter().map(|s| s.pc));
        self.captures.insert(
            capture_id,
            CaptureResult {
                frames: all,
                complete: w.complete,
                seen: Instant::now(),
            },
        );
    }

    /// The maps of `tgid`, re-read when `pc` is outside the snapshot.
    fn maps(&mut self, tgid: u32, pc: u64) -> Vec<Mapping> {
        let stale = self
            .procs
            .get(&tgid)
            .is_none_or(|p| !p.maps.iter().any(|m| pc >= m.start && pc < m.end));
        if stale && let Ok(maps) = procfs::read_maps(tgid) {
            self.procs.insert(tgid, Proc { maps });
        }
        self.procs
            .get(&tgid)
            .map(|p| p.maps.clone())
            .unwrap_or_default()
    }

    pub(super) fn forget_process(&mut self, tgid: u32) {
        // Rows are only learned from captures, and every capture records its
        // process here: an exec of any other process (most of them, when
        // every process is traced) needs no walk over the row table.
        if self.procs.remove(&tgid).is_none() {
            return;
        }
        let keys: Vec<UnwindKey> = self
            .unwind
            .keys()
            .filter_map(Result::ok)
            .filter(|k| k.tgid == tgid)
            .collect();
        for k in keys {
            // Gone already (LRU eviction) is fine.
            self.unwind.remove(&k).unwrap_or_default();
        }
    }

    /// The symbolized opening stack of a socket.
    pub(super) fn stack_of(&mut self, info: &SockInfo) -> Stack {
        let tgid = info.tgid;
        let (pcs, mut complete, mut note) = if info.stack_flags == stack_flags::CAPTURED {
            match self.captures.get(&info.capture_id) {
                Some(c) => (c.frames.clone(), c.complete, None),
                None => (Vec::new(), false, Some("its stack capture was lost")),
            }
        } else {
            match self.stacks.get(&info.stack_id, 0) {
                Ok(t) => (
                    t.frames[..(t.len as usize).min(MAX_FRAMES)].to_vec(),
                    info.stack_flags == stack_flags::COMPLETE,
                    match info.stack_flags {
                        stack_flags::THROTTLED => Some(
                            "opened before its call site was learned (while it was being learned, or once the capture budget was spent)",
                        ),
                        stack_flags::TRUNCATED => {
                            Some("unwinding stopped at a frame with no call-frame information")
                        }
                        _ => None,
                    },
                ),
                Err(_) => (Vec::new(), false, Some("its stack was not recorded")),
            }
        };
        let maps = self.procs.get(&tgid).map(|p| p.maps.clone()).or_else(|| {
            let m = procfs::read_maps(tgid).ok()?;
            self.procs.insert(tgid, Proc { maps: m.clone() });
            Some(m)
        });
        let maps = maps.unwrap_or_default();
        let mut frames = Vec::new();
        for (i, pc) in pcs.iter().enumerate() {
            frames.extend(self.symbolizer.frames(tgid, &maps, *pc, i == 0));
        }
        // A Go stack ends in the goroutine's or thread's start function,
        // whose caller the frame-pointer walk cannot tell from garbage:
        // reaching it is reaching the outermost frame.
        if !complete && note.is_none() && frames.last().is_some_and(Frame::is_go_start) {
            complete = true;
        }
        if !complete && note.is_none() && !pcs.is_empty() {
            note = Some("the walk reached its frame limit or an unreadable frame");
        }
        Stack {
            frames,
            complete: complete && note.is_none(),
            note,
        }
    }
}
