//! The opening user stack: unwound here with the call-frame rows user
//! space learned (`UNWIND`); a call site seen before is recognised from
//! `SITES` without unwinding; a pc without a row sends a capture (registers
//! and a copy of the stack) to user space, within a budget.

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_probe_read_user, bpf_probe_read_user_buf},
    macros::{map, tracepoint},
    maps::{HashMap, LruHashMap, PerCpuArray, RingBuf},
    programs::TracePointContext,
};
use govkit_ebpf_common::{
    Budget, CAPTURE_CHUNK, CAPTURE_STACK_BYTES, Capture, EventHeader, MAX_FRAMES, SockInfo,
    StackTrace, UnwindKey, UnwindRow, counter, event_kind, reg, stack_flags, unwind_kind,
};

use crate::task::UserRegs;
use crate::{CAPTURES_PER_SEC, count, kread, now_ns, rodata, traced};

/// Don't wake the reader (exec records wait for its next wakeup).
pub(crate) const BPF_RB_NO_WAKEUP: u64 = 1;

/// Wake the reader now (captures: rare, and wanted at once).
pub(crate) const BPF_RB_FORCE_WAKEUP: u64 = 2;

#[map]
pub(crate) static STACKS: HashMap<u64, StackTrace> = HashMap::with_max_entries(16_384, 0);

#[map]
pub(crate) static UNWIND: LruHashMap<UnwindKey, UnwindRow> =
    LruHashMap::with_max_entries(65_536, 0);

#[map]
pub(crate) static EVENTS: RingBuf = RingBuf::with_byte_size(4 << 20, 0);

#[map]
pub(crate) static CAPTURE_BUDGET: PerCpuArray<Budget> = PerCpuArray::with_max_entries(1, 0);

/// Per-CPU scratch space for the stack being unwound (too big for the BPF stack).
#[map]
pub(crate) static SCRATCH: PerCpuArray<StackTrace> = PerCpuArray::with_max_entries(1, 0);

/// Per-CPU capture sequence numbers (combined with the CPU id in user space).
#[map]
pub(crate) static CAPTURE_SEQ: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

/// A call site seen before, per process, user ip and sp at the syscall.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SiteKey {
    ip: u64,
    sp: u64,
    tgid: u32,
    _pad: u32,
}

/// Where the return addresses of a known call site's stack are (offsets
/// from sp) and what they were: if they are all unchanged the stack is the
/// same, so it is checked with one user-memory read and no unwinding.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Site {
    stack_id: u64,
    n: u32,
    span: u32,
    flags: u32,
    _pad: u32,
    offsets: [u32; MAX_FRAMES],
    ras: [u64; MAX_FRAMES],
}

/// Bytes of stack a cached site may span (the validation read).
pub(crate) const SITE_SPAN: usize = 8192;

#[map]
pub(crate) static SITES: LruHashMap<SiteKey, Site> = LruHashMap::with_max_entries(16_384, 0);

#[map]
pub(crate) static SITE_SCRATCH: PerCpuArray<Site> = PerCpuArray::with_max_entries(1, 0);

/// Captures sent for a pc user space has not installed a row for yet
/// (`UnwindKey`): at most `PENDING_MAX` per pc per `PENDING_NS`; further
/// opens whose walk stops there send none (`CAPTURES_PENDING`, a partial
/// stack). A new call site under a busy load is opened thousands of times
/// before user space has installed its rows, and each open sent a 16 KiB
/// capture of the same stack (up to the budget): that filled the ring
/// buffer when govkit started under load, counted as lost events. A few
/// sockets opened in a burst from a new site (the usual leak) each still
/// get their own capture, and a pc user space cannot unwind is retried
/// every `PENDING_NS`.
#[map]
pub(crate) static PENDING: LruHashMap<UnwindKey, Pending> = LruHashMap::with_max_entries(4096, 0);

pub(crate) const PENDING_NS: u64 = 1_000_000_000;

pub(crate) const PENDING_MAX: u64 = 16;

#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Pending {
    /// When the window's first capture was sent.
    since: u64,
    sent: u64,
}

#[map]
pub(crate) static SPAN_BUF: PerCpuArray<[u64; SITE_WORDS]> = PerCpuArray::with_max_entries(1, 0);

/// `SITE_SPAN` in words: the validation compares whole words (one load
/// each; a byte-array read is eight byte loads on this target).
pub(crate) const SITE_WORDS: usize = SITE_SPAN / 8;

#[tracepoint]
pub fn process_exec(_ctx: TracePointContext) -> u32 {
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    if !traced(tgid) {
        return 0;
    }
    match EVENTS.reserve::<EventHeader>(0) {
        Some(mut e) => {
            e.write(EventHeader {
                kind: event_kind::EXEC,
                tgid,
            });
            e.submit(BPF_RB_NO_WAKEUP);
        }
        None => count(counter::RINGBUF_DROPS),
    }
    0
}

/// Checks a cached site: every return address still where it was.
#[inline(always)]
pub(crate) fn site_matches(site: &Site, sp: u64) -> bool {
    let Some(buf) = SPAN_BUF.get_ptr_mut(0) else {
        return false;
    };
    let len = site.span as usize & (SITE_SPAN - 1);
    // SAFETY: per-CPU buffer of SITE_SPAN bytes; user memory read through
    // the helper into it.
    let read = unsafe {
        let bytes = core::slice::from_raw_parts_mut(buf.cast::<u8>(), SITE_SPAN);
        bpf_probe_read_user_buf(sp as *const u8, &mut bytes[..len])
    };
    if read.is_err() {
        return false;
    }
    // SAFETY: the same buffer, as words, after the read.
    let words = unsafe { &*buf };
    // Sites are cached only with word-aligned offsets (`open_stack`).
    for i in 0..MAX_FRAMES {
        if i as u32 >= site.n {
            break;
        }
        if words[(site.offsets[i] as usize >> 3) & (SITE_WORDS - 1)] != site.ras[i] {
            return false;
        }
    }
    true
}

/// Unwinds the current task's user stack with the learned rows and stores it
/// in `STACKS`; on an unknown pc sends a capture (budget permitting). A call
/// site seen before is recognised without unwinding (`SITES`).
#[inline(always)]
pub(crate) fn open_stack(
    info: &mut SockInfo,
    sk: u64,
    tgid: u32,
    tid: u32,
    regs: Option<UserRegs>,
) {
    let Some(UserRegs { ip, sp: sp0, bp_at }) = regs else {
        info.stack_flags = stack_flags::TRUNCATED;
        return;
    };
    let site_key = SiteKey {
        ip,
        sp: sp0,
        tgid,
        _pad: 0,
    };
    if let Some(site) = SITES.get_ptr(&site_key) {
        // SAFETY: map value pointer from a successful lookup.
        let site = unsafe { &*site };
        if site_matches(site, sp0) {
            info.stack_id = site.stack_id;
            info.stack_flags = site.flags as u8;
            count(counter::SITE_HITS);
            return;
        }
    }
    let (Some(scratch), Some(site)) = (SCRATCH.get_ptr_mut(0), SITE_SCRATCH.get_ptr_mut(0)) else {
        return;
    };
    // SAFETY: per-CPU scratch slots.
    let (trace, site) = unsafe { (&mut *scratch, &mut *site) };
    // An unreadable bp leaves 0: an unwind step through it then fails to
    // read and the stack ends there, truncated.
    let bp0: u64 = kread(bp_at).unwrap_or(0);
    let (mut sp, mut bp) = (sp0, bp0);
    trace.tgid = tgid;
    trace.len = 0;
    site.n = 0;
    site.span = 0;
    let mut pc = ip;
    let mut exact = 1u32;
    let mut flags = stack_flags::TRUNCATED;
    let mut missed = false;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ tgid as u64;
    for i in 0..MAX_FRAMES {
        trace.frames[i] = pc;
        trace.len = i as u32 + 1;
        hash = (hash ^ pc).wrapping_mul(0x0000_0100_0000_01b3);
        let key = UnwindKey { pc, tgid, exact };
        // SAFETY: rows are plain data.
        let Some(row) = (unsafe { UNWIND.get(&key) }) else {
            missed = true;
            break;
        };
        if row.kind == unwind_kind::END {
            flags = stack_flags::COMPLETE;
            break;
        }
        if row.kind != unwind_kind::FRAME {
            break;
        }
        let base = if row.cfa_reg == reg::RBP { bp } else { sp };
        let cfa = base.wrapping_add(row.cfa_offset as i64 as u64);
        // SAFETY: user memory read through the helper.
        let Ok(ra) = (unsafe { bpf_probe_read_user((cfa - 8) as *const u64) }) else {
            break;
        };
        if row.rbp_saved != 0 {
            let at = cfa.wrapping_add(row.rbp_offset as i64 as u64);
            // SAFETY: user memory read through the helper.
            match unsafe { bpf_probe_read_user(at as *const u64) } {
                Ok(v) => bp = v,
                Err(_) => break,
            }
        }
        let off = (cfa - 8).wrapping_sub(sp0);
        // Return addresses sit in 8-aligned slots (the ABI keeps sp
        // aligned): the check compares whole words.
        if off < (SITE_SPAN - 8) as u64 && off & 7 == 0 && i < MAX_FRAMES {
            site.offsets[i] = off as u32;
            site.ras[i] = ra;
            site.n = i as u32 + 1;
            site.span = off as u32 + 8;
        } else {
            site.span = u32::MAX; // too deep (or misaligned) to validate cheaply: not cached
        }
        if ra == 0 {
            flags = stack_flags::COMPLETE;
            break;
        }
        sp = cfa;
        pc = ra;
        exact = 0;
    }
    if missed {
        let key = UnwindKey { pc, tgid, exact };
        let now = now_ns();
        // The window's entry when it is still open (a stale one is
        // replaced below).
        let window = PENDING
            .get_ptr_mut(&key)
            // SAFETY: a map value pointer from a successful lookup.
            .filter(|&p| now.wrapping_sub(unsafe { (*p).since }) < PENDING_NS);
        // SAFETY: as above; counts are approximate across CPUs.
        if window.is_some_and(|p| unsafe { (*p).sent } >= PENDING_MAX) {
            count(counter::CAPTURES_PENDING);
            flags = stack_flags::THROTTLED;
        } else if take_budget(now) {
            if let Some(id) = send_capture(sk, tgid, tid, trace, pc, sp, bp, exact) {
                info.capture_id = id;
                flags = stack_flags::CAPTURED;
                match window {
                    // SAFETY: as above.
                    Some(p) => unsafe { (*p).sent += 1 },
                    None => {
                        let fresh = Pending {
                            since: now,
                            sent: 1,
                        };
                        // An LRU map: best effort, a lost entry only means more captures.
                        let _ = PENDING.insert(&key, &fresh, 0);
                    }
                }
            }
        } else {
            count(counter::CAPTURES_THROTTLED);
            flags = stack_flags::THROTTLED;
        }
    }
    hash ^= flags as u64;
    info.stack_flags = flags;
    info.stack_id = hash;
    // SAFETY: presence check only.
    if unsafe { STACKS.get(&hash) }.is_none() && STACKS.insert(&hash, &*trace, 0).is_err() {
        count(counter::STACKS_FULL);
        return;
    }
    // Fully unwound by the kernel: remember the site.
    if !missed && (site.span as usize) < SITE_SPAN {
        site.stack_id = hash;
        site.flags = flags as u32;
        // An LRU map: the cache is best effort.
        let _ = SITES.insert(&site_key, &*site, 0);
    }
}

#[inline(always)]
pub(crate) fn take_budget(now: u64) -> bool {
    let Some(b) = CAPTURE_BUDGET.get_ptr_mut(0) else {
        return false;
    };
    // SAFETY: per-CPU slot.
    let b = unsafe { &mut *b };
    if now.wrapping_sub(b.window_ns) > 1_000_000_000 {
        b.window_ns = now;
        b.used = 0;
    }
    if b.used >= rodata(&CAPTURES_PER_SEC) {
        return false;
    }
    b.used += 1;
    true
}

#[inline(always)]
#[allow(clippy::too_many_arguments, reason = "one call site, all plain values")]
pub(crate) fn send_capture(
    sk: u64,
    tgid: u32,
    tid: u32,
    trace: &StackTrace,
    pc: u64,
    sp: u64,
    bp: u64,
    exact: u32,
) -> Option<u64> {
    let Some(mut entry) = EVENTS.reserve::<Capture>(0) else {
        count(counter::RINGBUF_DROPS);
        return None;
    };
    let seq = match CAPTURE_SEQ.get_ptr_mut(0) {
        // SAFETY: per-CPU slot.
        Some(s) => unsafe {
            *s += 1;
            *s
        },
        None => 0,
    };
    // SAFETY: a helper without arguments.
    let cpu = unsafe { aya_ebpf::helpers::bpf_get_smp_processor_id() } as u64;
    let id = (cpu << 48) | (seq & 0xffff_ffff_ffff);
    let c = entry.as_mut_ptr();
    // SAFETY: the reserved record is sizeof(Capture) bytes; every field is
    // written before submit.
    unsafe {
        (*c).header = EventHeader {
            kind: event_kind::CAPTURE,
            tgid,
        };
        (*c).tid = tid;
        (*c).nframes = trace.len.saturating_sub(1);
        (*c).capture_id = id;
        (*c).sock = sk;
        (*c).pc = pc;
        (*c).sp = sp;
        (*c).bp = bp;
        (*c).exact = exact;
        (*c).frames = trace.frames;
        let mut len = 0u32;
        let stack: &mut [u8; CAPTURE_STACK_BYTES] = &mut (*c).stack;
        for i in 0..(CAPTURE_STACK_BYTES / CAPTURE_CHUNK) {
            let dst = &mut stack[i * CAPTURE_CHUNK..(i + 1) * CAPTURE_CHUNK];
            if bpf_probe_read_user_buf((sp + (i * CAPTURE_CHUNK) as u64) as *const u8, dst).is_err()
            {
                break;
            }
            len += CAPTURE_CHUNK as u32;
        }
        (*c).stack_len = len;
    }
    // Wake the reader: it sleeps until a capture arrives (or its next
    // report), and new call sites should be learned at once.
    entry.submit(BPF_RB_FORCE_WAKEUP);
    count(counter::CAPTURES);
    Some(id)
}
