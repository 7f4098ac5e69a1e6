//! Socket records: one per live socket of a traced process, in the
//! socket's slot of `SLOTS` or, when another socket holds that slot, in
//! `SOCKS`. An open claims a slot with compare-and-exchange (no lock, no
//! allocation), takes a stale one over, or falls back to the hash map.

use core::intrinsics::{AtomicOrdering, atomic_cxchg};

use aya_ebpf::{
    EbpfContext,
    helpers::{bpf_get_current_cgroup_id, bpf_probe_read_kernel_buf},
    macros::map,
    maps::{Array, HashMap, PerCpuArray},
};
use aya_log_ebpf::warn;
use govkit_ebpf_common::{
    SLOT_BITS, SLOT_CLAIMED, SockInfo, SockSlot, counter, origin, slot_index, tcp_state,
};

use crate::stack::open_stack;
use crate::task::{Task, UserRegs, Who};
use crate::{OFFSETS, PACKED_ENDPOINTS, SLOT_MASK, TRACK_ESTABLISHED, count, kread, rodata};

/// `BPF_F_NO_PREALLOC` (linux/bpf.h).
pub(crate) const BPF_F_NO_PREALLOC: u32 = 1;

pub(crate) const AF_INET: u16 = 2;

pub(crate) const AF_INET6: u16 = 10;

#[map]
pub(crate) static SLOTS: Array<SockSlot> = Array::with_max_entries(1 << SLOT_BITS, 0);

/// Records of sockets whose slot was taken: allocated when used (a
/// preallocated map this size is 40 MiB of kernel memory set up and torn
/// down with every run, for what is normally empty).
#[map]
pub(crate) static SOCKS: HashMap<u64, SockInfo> =
    HashMap::with_max_entries(262_144, BPF_F_NO_PREALLOC);

/// The record of a tracked socket: in its slot, else in `SOCKS`.
#[inline(always)]
pub(crate) fn record_of(sk: u64) -> Option<&'static mut SockInfo> {
    if let Some(slot) = own_slot(sk) {
        // SAFETY: an element of the array, valid for the program's run.
        return Some(unsafe { &mut (*slot).info });
    }
    // SAFETY: map value pointer from a successful lookup, valid for the
    // program's run.
    SOCKS.get_ptr_mut(&sk).map(|info| unsafe { &mut *info })
}

/// The `SLOTS` element for the socket at `sk` (its slot number masked
/// with the slots in use).
#[inline(always)]
pub(crate) fn slot_of(sk: u64) -> Option<*mut SockSlot> {
    SLOTS.get_ptr_mut(slot_index(sk) & rodata(&SLOT_MASK))
}

/// `sk`'s slot when it holds `sk`'s record.
#[inline(always)]
pub(crate) fn own_slot(sk: u64) -> Option<*mut SockSlot> {
    let slot = slot_of(sk)?;
    // SAFETY: an element of the array, valid for the program's run;
    // volatile: another CPU may write it.
    (unsafe { core::ptr::read_volatile(&raw const (*slot).sk) } == sk).then_some(slot)
}

/// Drops the record of a socket that is closing (the state hook's CLOSE):
/// its slot, else its `SOCKS` entry, if it has one.
#[inline(always)]
pub(crate) fn free_record(sk: u64) {
    if let Some(slot) = own_slot(sk) {
        // SAFETY: `sk`'s slot. Only this socket's own open writes an
        // address equal to `sk`, and it is ending: a plain store frees the
        // slot.
        unsafe { core::ptr::write_volatile(&raw mut (*slot).sk, 0) };
        return;
    }
    // Looked up first: a delete takes the bucket lock even when the key is
    // absent, and most sockets were never tracked (or were in a slot). An
    // entry cannot appear meanwhile: its socket's open ran before this,
    // while the socket still had an owner.
    // SAFETY: presence check only.
    if unsafe { SOCKS.get(&sk) }.is_some() {
        // Gone already is fine.
        let _ = SOCKS.remove(&sk);
    }
}

/// The opener of a socket (connect or accept, in its own context): owner
/// (read through `task` when the program has its BTF pointer), opening
/// stack from the user registers `(ip, sp, bp)`, then the entry.
#[inline(always)]
pub(crate) fn record_open<C: EbpfContext>(
    ctx: &C,
    sk: u64,
    info: &mut SockInfo,
    pid_tgid: u64,
    task: Option<Task>,
    regs: Option<UserRegs>,
    generation: u64,
) {
    owner(info, pid_tgid, task);
    open_stack(info, sk, (pid_tgid >> 32) as u32, pid_tgid as u32, regs);
    if scratch_gen() != generation {
        count(counter::PREEMPTED);
        return;
    }
    insert_sock(ctx, sk, info);
    count(counter::OPENS);
}

/// Per-CPU generation of the scratch slots (`NEW_INFO`, `SCRATCH`,
/// `SITE_SCRATCH`, `SPAN_BUF`). fexit and cgroup programs run with
/// migration but not preemption disabled: a task that preempts one and
/// opens a socket on the same CPU reuses the slots. Every open takes a new
/// generation first and checks it before storing its entry, so a
/// clobbered entry is dropped (and counted) rather than stored wrong.
#[map]
pub(crate) static SCRATCH_GEN: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
pub(crate) fn scratch_begin() -> u64 {
    match SCRATCH_GEN.get_ptr_mut(0) {
        // SAFETY: this CPU's slot.
        Some(g) => unsafe {
            let next = core::ptr::read_volatile(g).wrapping_add(1);
            core::ptr::write_volatile(g, next);
            next
        },
        None => 0,
    }
}

#[inline(always)]
pub(crate) fn scratch_gen() -> u64 {
    match SCRATCH_GEN.get_ptr_mut(0) {
        // SAFETY: this CPU's slot.
        Some(g) => unsafe { core::ptr::read_volatile(g) },
        None => 0,
    }
}

#[inline(always)]
pub(crate) fn insert_sock<C: EbpfContext>(ctx: &C, sk: u64, info: &SockInfo) {
    if claim_slot(sk, info) {
        return;
    }
    count(counter::SLOT_FALLBACKS);
    if SOCKS.insert(&sk, info, 0).is_err() {
        count(counter::SOCKS_FULL);
        warn!(
            ctx,
            "SOCKS map full: socket of pid {} not tracked", info.tgid
        );
    }
}

/// Writes `info` into the socket's slot if it is free, or holds a stale
/// record: of an earlier socket at the same address, or of a socket that
/// is gone (`occupant_gone`). Claimed with compare-and-exchange
/// (`sk | SLOT_CLAIMED`: no other socket can take it, and lookups for `sk`
/// do not match a half written record), then published with the address.
#[inline(always)]
pub(crate) fn claim_slot(sk: u64, info: &SockInfo) -> bool {
    let Some(slot) = slot_of(sk) else {
        return false;
    };
    // SAFETY: an element of the array, valid for the program's run.
    let at = unsafe { &raw mut (*slot).sk };
    // SAFETY: as above; volatile: another CPU may write it.
    let current = unsafe { core::ptr::read_volatile(at) };
    if current != 0 && current != sk {
        // Another socket's record. Claimed under its own address first,
        // so that while it is checked neither a new socket at that address
        // (whose open expects the bare address) nor another takeover can
        // write the slot; released unchanged if its socket is still there.
        if !may_take_over(slot, current) || !cas(at, current, current | SLOT_CLAIMED) {
            return false;
        }
        if !occupant_gone(slot, current) {
            // SAFETY: as above; the claim is ours to release.
            unsafe { core::ptr::write_volatile(at, current) };
            return false;
        }
        // SAFETY: as above; still claimed, now for `sk`.
        unsafe { core::ptr::write_volatile(at, sk | SLOT_CLAIMED) };
        count(counter::SLOT_TAKEOVERS);
    } else if !cas(at, current, sk | SLOT_CLAIMED) {
        return false;
    }
    // Word by word (a struct copy is a byte loop on this target).
    const WORDS: usize = core::mem::size_of::<SockInfo>() / 8;
    let src = core::ptr::from_ref(info).cast::<u64>();
    // SAFETY: as above; `info` is 8-aligned and WORDS words long.
    unsafe {
        let dst = (&raw mut (*slot).info).cast::<u64>();
        for i in 0..WORDS {
            core::ptr::write_volatile(dst.add(i), core::ptr::read(src.add(i)));
        }
        core::ptr::write_volatile(at, sk);
    }
    true
}

/// Compare-and-exchange of a slot's address word.
#[inline(always)]
pub(crate) fn cas(at: *mut u64, old: u64, new: u64) -> bool {
    // SAFETY: an aligned u64 in map memory.
    unsafe {
        atomic_cxchg::<u64, { AtomicOrdering::Relaxed }, { AtomicOrdering::Relaxed }>(at, old, new)
    }
    .1
}

/// Whether the record of the socket at `occupant` in `slot` may be taken
/// over at all: not while it is being written (`SLOT_CLAIMED`), and never
/// a record without a cookie (whose socket cannot be checked: the state
/// hook's connect-side records, which it frees at CLOSE). Under the state
/// hook, accepted sockets' records carry cookies too; taking one over is
/// right all the same (its socket is gone), and if that socket's CLOSE
/// runs while the slot is claimed for the check, it finds no record to
/// free: the stale record stays until its slot is taken over, and reports
/// drop it (every candidate is checked against /proc/net/tcp).
#[inline(always)]
pub(crate) fn may_take_over(slot: *mut SockSlot, occupant: u64) -> bool {
    // SAFETY: an element of the array, valid for the program's run;
    // volatile: another CPU may write it.
    occupant & SLOT_CLAIMED == 0
        && unsafe { core::ptr::read_volatile(&raw const (*slot).info.cookie) } != 0
}

/// Whether the record in `slot` (claimed by the caller), of the socket at
/// `occupant`, is stale. Without the state hook nothing frees records in
/// the kernel (a program on `tcp_destroy_sock` would run twice per
/// connection for that alone): a record stays in its slot until a socket
/// that hashes there finds its owner gone. Gone: the memory at `occupant`
/// has another cookie (it was freed and holds another socket now, or a
/// fresh one, 0), its `sk_socket` is NULL (the owner closed it: a socket
/// only leaks while its owner holds it; TCP sockets are freed RCU-safely
/// and their memory stays socket memory, so a freed one reads as closed
/// until it is reused), or it cannot be read. Two reads, only when another
/// socket's record is in the way.
#[inline(always)]
pub(crate) fn occupant_gone(slot: *mut SockSlot, occupant: u64) -> bool {
    // SAFETY: an element of the array, claimed: nobody else writes it.
    let cookie = unsafe { core::ptr::read_volatile(&raw const (*slot).info.cookie) };
    if cookie == 0 {
        return false;
    }
    let o = rodata(&OFFSETS);
    match (
        kread::<u64>(occupant + o.skc_cookie as u64),
        kread::<u64>(occupant + o.sk_socket as u64),
    ) {
        (Ok(now), Ok(socket)) => now != cookie || socket == 0,
        _ => true,
    }
}

/// Per-CPU slot where a new `SOCKS` entry is put together: filled field by
/// field with word stores. A `SockInfo` built on the BPF stack is zeroed and
/// copied byte by byte (the `memset`/`memcpy` the BPF target links are byte
/// loops), several hundred instructions on every connection.
#[map]
pub(crate) static NEW_INFO: PerCpuArray<SockInfo> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
pub(crate) fn new_info(now: u64, state: u8, origin: u8) -> Option<&'static mut SockInfo> {
    // SAFETY: this CPU's slot; programs do not preempt each other on a CPU.
    let info = unsafe { &mut *NEW_INFO.get_ptr_mut(0)? };
    // Volatile stores: LLVM would merge plain zero stores back into a
    // `memset` call.
    set(&mut info.open_ns, now);
    set(&mut info.state_ns, now);
    set(&mut info.stack_id, 0);
    set(&mut info.capture_id, 0);
    set(&mut info.cgroup_id, 0);
    set(&mut info.cookie, 0);
    set(&mut info.tgid, 0);
    set(&mut info.tid, 0);
    set(&mut info.state, state);
    set(&mut info.family, 0);
    set(&mut info.origin, origin);
    set(&mut info.stack_flags, 0);
    set(&mut info.sport, 0);
    set(&mut info.dport, 0);
    zero16(&mut info.comm);
    zero16(&mut info.saddr);
    zero16(&mut info.daddr);
    Some(info)
}

#[inline(always)]
pub(crate) fn set<T>(field: &mut T, v: T) {
    // SAFETY: a valid, aligned, exclusive reference.
    unsafe { core::ptr::write_volatile(field, v) };
}

/// Two word stores (`SockInfo`'s byte arrays are 8-byte aligned).
#[inline(always)]
pub(crate) fn zero16(a: &mut [u8; 16]) {
    let p = a.as_mut_ptr().cast::<u64>();
    // SAFETY: 16 bytes at an 8-aligned offset of an 8-aligned struct.
    unsafe {
        core::ptr::write_volatile(p, 0);
        core::ptr::write_volatile(p.add(1), 0);
    }
}

#[inline(always)]
pub(crate) fn owner(info: &mut SockInfo, pid_tgid: u64, task: Option<Task>) {
    info.tgid = (pid_tgid >> 32) as u32;
    info.tid = pid_tgid as u32;
    if let Some(task) = task {
        task.comm(&mut info.comm);
        info.cgroup_id = task.cgroup_id();
        return;
    }
    // SAFETY: the helper writes at most 16 bytes (NUL-terminated) into the
    // entry's own buffer; on failure it zeroes it.
    unsafe {
        aya_ebpf::helpers::generated::bpf_get_current_comm(
            info.comm.as_mut_ptr().cast(),
            info.comm.len() as u32,
        );
    }
    // SAFETY: a helper without arguments.
    info.cgroup_id = unsafe { bpf_get_current_cgroup_id() };
}

#[inline(always)]
pub(crate) fn read_endpoints(sk: u64, info: &mut SockInfo) -> Result<(), i32> {
    let o = rodata(&OFFSETS);
    if rodata(&PACKED_ENDPOINTS) != 0 {
        // daddr, rcv_saddr, hash, dport (network order), num, family.
        let w: [u32; 5] = kread(sk + o.skc_daddr as u64)?;
        let family = w[4] as u16;
        info.family = family as u8;
        info.sport = (w[3] >> 16) as u16;
        info.dport = u16::from_be(w[3] as u16);
        // SAFETY: the address arrays are 16 bytes at 8-aligned offsets.
        unsafe {
            let (s, d) = (info.saddr.as_mut_ptr(), info.daddr.as_mut_ptr());
            match family {
                AF_INET => {
                    core::ptr::write(s.cast::<u32>(), w[1]);
                    core::ptr::write(d.cast::<u32>(), w[0]);
                }
                AF_INET6 => {
                    // v6 daddr, then v6 rcv_saddr.
                    let a: [u64; 4] = kread(sk + o.skc_v6_daddr as u64)?;
                    core::ptr::write(d.cast::<u64>(), a[0]);
                    core::ptr::write(d.cast::<u64>().add(1), a[1]);
                    core::ptr::write(s.cast::<u64>(), a[2]);
                    core::ptr::write(s.cast::<u64>().add(1), a[3]);
                }
                _ => {}
            }
        }
        return Ok(());
    }
    let family: u16 = kread(sk + o.skc_family as u64)?;
    info.family = family as u8;
    info.sport = kread(sk + o.skc_num as u64)?;
    info.dport = u16::from_be(kread(sk + o.skc_dport as u64)?);
    // Straight into the entry (no copy through the stack).
    let (s, d, len) = match family {
        AF_INET => (o.skc_rcv_saddr, o.skc_daddr, 4),
        AF_INET6 => (o.skc_v6_rcv_saddr, o.skc_v6_daddr, 16),
        _ => return Ok(()),
    };
    // SAFETY: bpf_probe_read_kernel fails cleanly on a bad address.
    unsafe {
        bpf_probe_read_kernel_buf((sk + s as u64) as *const u8, &mut info.saddr[..len])?;
        bpf_probe_read_kernel_buf((sk + d as u64) as *const u8, &mut info.daddr[..len])?;
    }
    Ok(())
}

/// An accepted socket in `state` (taken when accept() returns: the peer
/// may have closed already), in its owner's context at `now`: record it.
#[inline(always)]
#[allow(clippy::too_many_arguments, reason = "three callers, all plain values")]
pub(crate) fn accepted<C: EbpfContext>(
    ctx: &C,
    sk: u64,
    state: u8,
    who: Who,
    regs: Option<UserRegs>,
    cookie: u64,
    now: u64,
) -> Result<(), i32> {
    if state == tcp_state::CLOSE {
        // Reset before accept() returned: gone, it cannot leak, and its
        // CLOSE has passed, so nothing would free its record.
        return Ok(());
    }
    let generation = scratch_begin();
    let info = new_info(now, state, origin::ACCEPT).ok_or(0)?;
    info.cookie = cookie;
    if state == tcp_state::CLOSE_WAIT
        || (state == tcp_state::ESTABLISHED && rodata(&TRACK_ESTABLISHED) != 0)
    {
        read_endpoints(sk, info)?;
    }
    record_open(ctx, sk, info, who.0, who.1, regs, generation);
    Ok(())
}
