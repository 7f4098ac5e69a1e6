//! The state hook: raw tracepoints on `inet_sock_set_state` (connects,
//! CLOSE-WAIT, frees) where the lighter lifecycle cannot be used, and on
//! `tcp_destroy_sock` at start-up only.

use aya_ebpf::{macros::raw_tracepoint, programs::RawTracePointContext};
use govkit_ebpf_common::{SockInfo, counter, origin, tcp_state};

use crate::records::{
    free_record, new_info, read_endpoints, record_of, record_open, scratch_begin,
};
use crate::task::{Task, learn_regs_delta};
use crate::{IPPROTO_TCP, OFFSETS, TRACK_ESTABLISHED, count, kread, now_ns, rodata, traced};

/// Raw tracepoint `inet_sock_set_state(const struct sock *sk, int oldstate,
/// int newstate)`: the arguments come straight from the call, without the
/// record a perf tracepoint would format; the common case (a state change
/// of a tracked socket) is one hash lookup and two stores.
#[raw_tracepoint(tracepoint = "inet_sock_set_state")]
pub fn sock_state(ctx: RawTracePointContext) -> i32 {
    let sk: u64 = ctx.arg(0);
    let old = ctx.arg::<u64>(1) as u8;
    let new = ctx.arg::<u64>(2) as u8;
    // govkit: allow(let-underscore-result) -- a tracepoint has nobody to report to; failures leave the socket untracked
    let _ = try_sock_state(&ctx, sk, old, new);
    0
}

pub(crate) fn try_sock_state(
    ctx: &RawTracePointContext,
    sk: u64,
    old: u8,
    new: u8,
) -> Result<(), i32> {
    count(counter::STATE_CHANGES);
    if new == tcp_state::CLOSE {
        free_record(sk);
        return Ok(());
    }
    if old == tcp_state::CLOSE && new == tcp_state::SYN_SENT {
        return connect_open(ctx, sk);
    }
    if old == tcp_state::SYN_RECV && new == tcp_state::ESTABLISHED {
        count(counter::PASSIVE_OPENS);
    }
    if new == tcp_state::ESTABLISHED && rodata(&TRACK_ESTABLISHED) != 0 {
        if let Some(info) = own_record(sk)? {
            info.state = new;
            info.state_ns = now_ns();
        }
        return Ok(());
    }
    // Only CLOSE_WAIT is reported: entering it is the only other
    // transition that touches the map (passive opens are picked up at
    // accept(), in the owner's context). Leaving it is not recorded: the
    // entry keeps saying CLOSE_WAIT until CLOSE removes it, and user space
    // checks every reported socket's state in the kernel's own tables. Every
    // other change of a tracked socket costs no lookup at all.
    if new != tcp_state::CLOSE_WAIT {
        return Ok(());
    }
    if let Some(info) = own_record(sk)? {
        info.state = new;
        info.state_ns = now_ns();
    }
    Ok(())
}

/// The record at `sk`'s address with `sk`'s endpoints read into it, if it
/// is `sk`'s. A record from a cgroup hook or an accept carries its
/// socket's cookie, which the socket keeps; one from the state hook's
/// connect keeps the remote endpoint (connect sets it before SYN_SENT),
/// which never changes. Another cookie or remote means the record is a
/// freed socket's whose CLOSE did not free it (it raced a claim of the
/// slot), left at an address a new socket now has. That record is
/// dropped, and the socket stays unseen, rather than be reported with
/// another socket's opening stack.
#[inline(always)]
fn own_record(sk: u64) -> Result<Option<&'static mut SockInfo>, i32> {
    let Some(info) = record_of(sk) else {
        return Ok(None);
    };
    let (cookie, dport, daddr) = (info.cookie, info.dport, info.daddr);
    read_endpoints(sk, info)?;
    let stale = if cookie != 0 {
        kread::<u64>(sk + rodata(&OFFSETS).skc_cookie as u64)? != cookie
    } else {
        dport != 0 && (dport != info.dport || !same16(&daddr, &info.daddr))
    };
    if stale {
        free_record(sk);
        return Ok(None);
    }
    Ok(Some(info))
}

/// Two 16-byte addresses compared as two words (no byte loop).
#[inline(always)]
fn same16(a: &[u8; 16], b: &[u8; 16]) -> bool {
    // SAFETY: 16 readable bytes each; unaligned reads.
    unsafe {
        let (a, b) = (a.as_ptr().cast::<u64>(), b.as_ptr().cast::<u64>());
        a.read_unaligned() == b.read_unaligned()
            && a.add(1).read_unaligned() == b.add(1).read_unaligned()
    }
}

/// Raw tracepoint `tcp_destroy_sock(struct sock *sk)`, attached only while
/// the tracer starts without the state hook: a socket user space closes in
/// its own system call teaches where the user registers are on the kernel
/// stack (`learn_regs_delta`) before the cgroup hooks, which cannot call
/// `bpf_task_pt_regs`, need it. Then detached: it would run twice per
/// connection, and records are taken over when stale instead of freed
/// (`occupant_gone`).
#[raw_tracepoint(tracepoint = "tcp_destroy_sock")]
pub fn sock_destroy(_ctx: RawTracePointContext) -> i32 {
    count(counter::DESTROYS);
    learn_regs_delta(Task::current());
    0
}

/// connect(): CLOSE → SYN_SENT runs in the connecting task's context.
pub(crate) fn connect_open(ctx: &RawTracePointContext, sk: u64) -> Result<(), i32> {
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    // Before the filter: govkit's own check connection teaches it.
    learn_regs_delta(task);
    if !traced(tgid) {
        return Ok(());
    }
    let protocol: u16 = kread(sk + rodata(&OFFSETS).sk_protocol as u64)?;
    if protocol != IPPROTO_TCP {
        return Ok(());
    }
    let regs = task.user_regs();
    let generation = scratch_begin();
    let info = new_info(now_ns(), tcp_state::SYN_SENT, origin::CONNECT).ok_or(0)?;
    // The remote endpoint is set by now (the local port is not yet):
    // `own_record` checks it later.
    read_endpoints(sk, info)?;
    record_open(ctx, sk, info, pid_tgid, Some(task), regs, generation);
    Ok(())
}
