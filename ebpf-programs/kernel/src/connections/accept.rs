//! Accept hooks that run in a tracing context: `fexit` on
//! `inet_csk_accept` (hosts with BPF trampolines) and the
//! `syscalls:sys_exit_accept{,4}` tracepoints (the fallback that sees every
//! accept, at the cost of the syscall slow path for every task).

use aya_ebpf::{
    EbpfContext,
    helpers::{bpf_get_current_task, bpf_probe_read_kernel},
    macros::{fexit, tracepoint},
    programs::{FExitContext, TracePointContext},
};
use govkit_ebpf_common::{SYS_EXIT_RET_OFFSET, counter};

use crate::records::accepted;
use crate::task::{Task, as_number};
use crate::{OFFSETS, count, kread, now_ns, rodata, traced};

#[tracepoint]
pub fn accept_exit(ctx: TracePointContext) -> u32 {
    // govkit: allow(let-underscore-result) -- a tracepoint has nobody to report to; failures are counted
    let _ = try_accept_exit(&ctx);
    0
}

pub(crate) fn try_accept_exit(ctx: &TracePointContext) -> Result<(), i32> {
    // A direct context load (no helper call): the busy-polling servers this
    // runs under return EAGAIN millions of times a second. The offset is
    // the kernel's fixed `struct syscall_trace_exit` layout, checked
    // against the format file by user space before load.
    // SAFETY: tracepoint contexts are readable at constant offsets within
    // the record.
    let fd: i64 = unsafe {
        *(ctx.as_ptr() as *const u8)
            .add(SYS_EXIT_RET_OFFSET)
            .cast::<i64>()
    };
    if fd < 0 {
        return Ok(());
    }
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    if !traced(tgid) {
        return Ok(());
    }
    let Some(sk) = socket_of_fd(fd as u64) else {
        count(counter::ACCEPT_LOOKUP_FAILED);
        return Ok(());
    };
    let state: u8 = kread(sk + rodata(&OFFSETS).skc_state as u64)?;
    let regs = task.user_regs();
    accepted(ctx, sk, state, (pid_tgid, Some(task)), regs, 0, now_ns())
}

/// `fexit` of `inet_csk_accept` (kernels with BPF trampolines): the
/// accepted `struct sock` straight from the kernel, in the accepting task;
/// an accept that returns EAGAIN costs a NULL check. Used instead of the
/// two syscall tracepoints when it loads: while one of those is attached,
/// every system call of every task takes the kernel's slow path.
///
/// The socket is the return value, read from the context slot after the
/// arguments: typed by BTF there (unlike `bpf_get_func_ret`'s copy), it can
/// be handed to `bpf_get_socket_cookie`, which the lifecycle without the
/// state hook keys records by. The slot depends on the kernel's signature:
/// `(sk, arg)` from Linux 6.10, `(sk, flags, err, kern)` before; user space
/// loads whichever of the two programs the verifier accepts.
#[fexit(function = "inet_csk_accept")]
pub fn accept_fexit2(ctx: FExitContext) -> i32 {
    accept_fexit(&ctx, ctx.arg(2))
}

#[fexit(function = "inet_csk_accept")]
pub fn accept_fexit4(ctx: FExitContext) -> i32 {
    accept_fexit(&ctx, ctx.arg(4))
}

#[inline(always)]
pub(crate) fn accept_fexit(ctx: &FExitContext, sk: *mut aya_ebpf::cty::c_void) -> i32 {
    if sk.is_null() {
        return 0;
    }
    let task = Task::current();
    let pid_tgid = task.pid_tgid();
    if !traced((pid_tgid >> 32) as u32) {
        return 0;
    }
    // In-kernel servers (NFS, SMB) accept from kernel threads: no owner
    // with a user stack.
    const PF_KTHREAD: u32 = 0x0020_0000;
    if task.flags() & PF_KTHREAD != 0 {
        return 0;
    }
    // SAFETY: `sk` is the BTF-typed socket the verifier checks the
    // helper's argument against.
    let cookie = unsafe { aya_ebpf::helpers::bpf_get_socket_cookie(sk) };
    // Through the BTF pointer too.
    let state: u8 = Task::load(sk.cast_const().cast(), rodata(&OFFSETS).skc_state);
    let Some(sk) = as_number(0, sk as u64) else {
        return 0;
    };
    let regs = task.user_regs();
    // govkit: allow(let-underscore-result) -- a hook has nobody to report to; failures leave the socket untracked
    let _ = accepted(
        ctx,
        sk,
        state,
        (pid_tgid, Some(task)),
        regs,
        cookie,
        now_ns(),
    );
    0
}

/// current->files->fdt->fd[fd]->private_data (struct socket)->sk
#[inline(always)]
pub(crate) fn socket_of_fd(fd: u64) -> Option<u64> {
    let o = rodata(&OFFSETS);
    if o.task_files == 0 {
        return None;
    }
    // SAFETY: every pointer is read with bpf_probe_read_kernel, which fails
    // cleanly on a bad address.
    unsafe {
        let task = bpf_get_current_task();
        let files: u64 = bpf_probe_read_kernel((task + o.task_files as u64) as *const u64).ok()?;
        let fdt: u64 = bpf_probe_read_kernel((files + o.files_fdt as u64) as *const u64).ok()?;
        let max: u32 =
            bpf_probe_read_kernel((fdt + o.fdtable_max_fds as u64) as *const u32).ok()?;
        if fd >= max as u64 {
            return None;
        }
        let fds: u64 = bpf_probe_read_kernel((fdt + o.fdtable_fd as u64) as *const u64).ok()?;
        let file: u64 = bpf_probe_read_kernel((fds + fd * 8) as *const u64).ok()?;
        let socket: u64 =
            bpf_probe_read_kernel((file + o.file_private_data as u64) as *const u64).ok()?;
        let sk: u64 = bpf_probe_read_kernel((socket + o.socket_sk as u64) as *const u64).ok()?;
        (sk != 0).then_some(sk)
    }
}
