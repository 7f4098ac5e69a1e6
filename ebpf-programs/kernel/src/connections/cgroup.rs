//! The cgroup hooks on the root of the cgroup v2 hierarchy:
//! `getpeername4`/`getpeername6` for accepts that ask for the peer address,
//! `connect4`/`connect6` for connects. Each is built twice (BTF task
//! pointer, helper calls only).

use aya_ebpf::{
    EbpfContext, helpers::bpf_get_current_pid_tgid, macros::cgroup_sock_addr,
    programs::SockAddrContext,
};
use govkit_ebpf_common::{counter, origin, tcp_state};

use crate::records::{accepted, new_info, record_open, scratch_begin};
use crate::task::{Task, Who, as_number, peer_regs};
use crate::{IPPROTO_TCP, SELF_TGID, coarse_now_ns, count, rodata, traced};

/// x86-64 system call numbers of accept and accept4.
pub(crate) const NR_ACCEPT: u64 = 43;

pub(crate) const NR_ACCEPT4: u64 = 288;

/// x86-64 user code segment (`__USER_CS`): the registers are a user frame.
pub(crate) const USER_CS: u64 = 0x33;

/// Cgroup `getpeername` hooks (attached to the root cgroup, so they see
/// every socket): `accept(fd, addr, len)` with an address buffer asks the
/// new socket for its peer address before returning, in the accepting
/// task's context, and the hook is handed the socket. Unlike the syscall
/// tracepoints this costs nothing anywhere else: no system call slow path
/// for every task, nothing for an accept that returns EAGAIN. An accept
/// without an address buffer (`accept(fd, NULL, NULL)`) never gets here;
/// user space finds those sockets in /proc and says so. Must return 1
/// (allow).
///
/// Every cgroup hook is built twice: reading the current task through its
/// BTF pointer (`Task`), and, for kernels whose verifier does not give
/// cgroup programs that pointer, with helper calls only (`_compat`, which
/// user space loads when the first is refused).
#[cgroup_sock_addr(getpeername4)]
pub fn accept_peer4(ctx: SockAddrContext) -> i32 {
    accept_peer::<true>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername6)]
pub fn accept_peer6(ctx: SockAddrContext) -> i32 {
    accept_peer::<true>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername4)]
pub fn accept_peer4_compat(ctx: SockAddrContext) -> i32 {
    accept_peer::<false>(&ctx);
    1
}

#[cgroup_sock_addr(getpeername6)]
pub fn accept_peer6_compat(ctx: SockAddrContext) -> i32 {
    accept_peer::<false>(&ctx);
    1
}

/// Cgroup `connect4`/`connect6` hooks (root cgroup): `connect()` on a TCP
/// socket, in the connecting task, before the kernel picks the local port.
/// With the accept hooks and `sock_diag` in user space they replace
/// `inet_sock_set_state`, which fires on every state change of every
/// socket on the host. Must return 1 (allow).
#[cgroup_sock_addr(connect4)]
pub fn connect_open4(ctx: SockAddrContext) -> i32 {
    connect_hook::<true>(&ctx);
    1
}

#[cgroup_sock_addr(connect6)]
pub fn connect_open6(ctx: SockAddrContext) -> i32 {
    connect_hook::<true>(&ctx);
    1
}

#[cgroup_sock_addr(connect4)]
pub fn connect_open4_compat(ctx: SockAddrContext) -> i32 {
    connect_hook::<false>(&ctx);
    1
}

#[cgroup_sock_addr(connect6)]
pub fn connect_open6_compat(ctx: SockAddrContext) -> i32 {
    connect_hook::<false>(&ctx);
    1
}

#[inline(always)]
pub(crate) fn connect_hook<const BTF: bool>(ctx: &SockAddrContext) {
    let Some((who, me, sk)) = cgroup_hook_entry::<BTF>(ctx) else {
        return;
    };
    // The caller's user registers: a system call from user space (not an
    // in-kernel connect from a kernel thread).
    let regs = peer_regs(who.1)
        .filter(|&(_, cs, _)| cs == USER_CS)
        .map(|(_, _, regs)| regs);
    if regs.is_some() {
        count(counter::CGROUP_CONNECTS);
    }
    if me {
        return;
    }
    let generation = scratch_begin();
    let Some(info) = new_info(coarse_now_ns(), tcp_state::SYN_SENT, origin::CONNECT) else {
        return;
    };
    info.cookie = socket_cookie(ctx);
    record_open(ctx, sk, info, who.0, who.1, regs, generation);
}

/// What the cgroup hooks, which run for every process, check first:
/// `None` for a process not traced (the first thing checked) or a socket
/// that is not TCP; else (who, whether it is govkit itself, whose
/// start-up check counts but records nothing, the socket).
#[inline(always)]
pub(crate) fn cgroup_hook_entry<const BTF: bool>(
    ctx: &SockAddrContext,
) -> Option<(Who, bool, u64)> {
    let who = if BTF {
        let task = Task::current();
        (task.pid_tgid(), Some(task))
    } else {
        (bpf_get_current_pid_tgid(), None)
    };
    let tgid = (who.0 >> 32) as u32;
    let me = tgid == rodata(&SELF_TGID);
    if !me && !traced(tgid) {
        return None;
    }
    Some((who, me, tcp_sock_of(ctx)?))
}

/// The kernel socket of a cgroup hook's context, as a number, when it is
/// TCP.
#[inline(always)]
pub(crate) fn tcp_sock_of(ctx: &SockAddrContext) -> Option<u64> {
    // SAFETY: the context and its socket are valid for the program's run.
    let bsk = unsafe { (*ctx.sock_addr).__bindgen_anon_1.sk };
    if bsk.is_null() {
        return None;
    }
    // SAFETY: a `bpf_sock` from the context: field reads are rewritten by
    // the verifier into reads of the kernel socket.
    if unsafe { (*bsk).protocol } != IPPROTO_TCP as u32 {
        return None;
    }
    as_number(0, bsk as u64)
}

/// The socket's cookie (generated on first use; what `sock_diag` reports).
#[inline(always)]
pub(crate) fn socket_cookie(ctx: &SockAddrContext) -> u64 {
    // SAFETY: the helper takes the program's own context.
    unsafe { aya_ebpf::helpers::bpf_get_socket_cookie(ctx.as_ptr()) }
}

#[inline(always)]
pub(crate) fn accept_peer<const BTF: bool>(ctx: &SockAddrContext) {
    let Some((who, me, sk)) = cgroup_hook_entry::<BTF>(ctx) else {
        return;
    };
    // getpeername() itself (or any other caller) is not an accept.
    let Some((nr, cs, regs)) = peer_regs(who.1) else {
        return;
    };
    if (nr != NR_ACCEPT && nr != NR_ACCEPT4) || cs != USER_CS {
        return;
    }
    count(counter::PEER_ACCEPTS);
    if me {
        return;
    }
    let cookie = socket_cookie(ctx);
    // SAFETY: the context's socket, checked non-NULL by `tcp_sock_of`;
    // the verifier rewrites the field read into a load of `skc_state`.
    let state = unsafe { (*(*ctx.sock_addr).__bindgen_anon_1.sk).state } as u8;
    // govkit: allow(let-underscore-result) -- a hook has nobody to report to; failures leave the socket untracked
    let _ = accepted(ctx, sk, state, who, Some(regs), cookie, coarse_now_ns());
}
