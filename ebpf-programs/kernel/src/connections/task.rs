//! The current task (through its BTF pointer, or helper calls in the
//! `_compat` builds) and its saved user registers.

use aya_ebpf::{
    helpers::{bpf_get_current_task, bpf_get_current_task_btf},
    macros::map,
    maps::{Array, PerCpuArray},
};

use crate::{OFFSETS, kread, rodata};

/// The current task through its BTF pointer
/// (`bpf_get_current_task_btf`): its fields are plain loads, which the
/// verifier checks against the kernel's BTF and makes fault-safe, instead
/// of a helper call each (pid and tgid, comm, cgroup id, and
/// `bpf_probe_read_kernel` for `task->stack`, `task->flags` and the user
/// registers). Helper calls are dear on hosts with return thunks and
/// speculation barriers: on this project's test host (`--bpf-stats`
/// ablations) a probe read costs 40-80 ns whatever its size, and the
/// cgroup hooks' opens went from ~570 to ~410 ns. The offsets are
/// `.rodata`, which the verifier knows as constants (the map is frozen
/// before the programs load).
#[derive(Clone, Copy)]
pub(crate) struct Task(*const u8);

impl Task {
    #[inline(always)]
    pub(crate) fn current() -> Self {
        // SAFETY: a helper without arguments.
        Self(unsafe { bpf_get_current_task_btf() }.cast())
    }

    /// The field at `off` of the struct at `base`, which may be any
    /// pointer the verifier knows the BTF type of (a NULL one reads 0).
    #[inline(always)]
    pub(crate) fn load<T>(base: *const u8, off: u32) -> T {
        // SAFETY: the verifier turns a load through a BTF pointer into
        // one that cannot fault (an exception-table entry).
        unsafe { core::ptr::read_volatile(base.wrapping_add(off as usize).cast::<T>()) }
    }

    /// `bpf_get_current_pid_tgid`'s value.
    #[inline(always)]
    pub(crate) fn pid_tgid(self) -> u64 {
        let o = rodata(&OFFSETS);
        let tgid: u32 = Self::load(self.0, o.task_tgid);
        let pid: u32 = Self::load(self.0, o.task_pid);
        (u64::from(tgid) << 32) | u64::from(pid)
    }

    /// `task->stack`: the kernel stack, whose top holds the user registers.
    #[inline(always)]
    pub(crate) fn stack(self) -> u64 {
        Self::load(self.0, rodata(&OFFSETS).task_stack)
    }

    /// `task->flags` (`PF_*`).
    #[inline(always)]
    pub(crate) fn flags(self) -> u32 {
        Self::load(self.0, rodata(&OFFSETS).task_flags)
    }

    /// `bpf_task_pt_regs`: the task's saved user registers, as a BTF
    /// pointer (tracing programs only).
    #[inline(always)]
    pub(crate) fn pt_regs(self) -> *const u8 {
        // SAFETY: `self` is the trusted pointer of `bpf_get_current_task_btf`.
        let regs =
            unsafe { aya_ebpf::helpers::generated::bpf_task_pt_regs(self.0.cast_mut().cast()) };
        regs as *const u8
    }

    /// The task's user registers, for tracing programs (cgroup programs
    /// may not call `bpf_task_pt_regs`; they use `peer_regs`): ip and sp
    /// through the BTF pointer it returns.
    #[inline(always)]
    pub(crate) fn user_regs(self) -> Option<UserRegs> {
        let regs = self.pt_regs();
        if regs.is_null() {
            return None;
        }
        Some(UserRegs {
            ip: Self::load(regs, PT_REGS_IP),
            sp: Self::load(regs, PT_REGS_SP),
            bp_at: as_number(1, regs as u64)? + PT_REGS_BP as u64,
        })
    }

    /// `task->comm` (16 bytes, NUL-padded by the kernel) in two words.
    #[inline(always)]
    pub(crate) fn comm(self, dst: &mut [u8; 16]) {
        let off = rodata(&OFFSETS).task_comm;
        let p = dst.as_mut_ptr().cast::<u64>();
        // SAFETY: 16 bytes at an 8-aligned offset of an 8-aligned struct.
        unsafe {
            core::ptr::write_volatile(p, Self::load(self.0, off));
            core::ptr::write_volatile(p.add(1), Self::load(self.0, off + 8));
        }
    }

    /// `bpf_get_current_cgroup_id`'s value: the id of the kernfs node of
    /// the task's cgroup in the v2 hierarchy,
    /// `task->cgroups->dfl_cgrp->kn->id`.
    #[inline(always)]
    pub(crate) fn cgroup_id(self) -> u64 {
        let o = rodata(&OFFSETS);
        let cset: *const u8 = Self::load(self.0, o.task_cgroups);
        let cgrp: *const u8 = Self::load(cset, o.css_set_dfl_cgrp);
        let kn: *const u8 = Self::load(cgrp, o.cgroup_kn);
        Self::load(kn, o.kernfs_node_id)
    }
}

/// The task opening a socket: `pid_tgid`, and its BTF pointer in the
/// programs built with one.
pub(crate) type Who = (u64, Option<Task>);

/// A task's user registers at its system call, as far as an open needs
/// them: ip and sp, and where bp is kept (it is read only when the stack
/// has to be unwound, not for a call site seen before).
#[derive(Clone, Copy)]
pub(crate) struct UserRegs {
    pub(crate) ip: u64,
    pub(crate) sp: u64,
    pub(crate) bp_at: u64,
}

/// The tail of x86-64 `struct pt_regs` from `orig_ax` (word 15): orig_ax,
/// ip, cs, flags, sp. bp is word 4.
pub(crate) const PT_REGS_TAIL: u64 = 15 * 8;

pub(crate) const PT_REGS_BP: u32 = 4 * 8;

pub(crate) const PT_REGS_IP: u32 = 16 * 8;

pub(crate) const PT_REGS_SP: u32 = 19 * 8;

/// Reads the registers an open needs from the `struct pt_regs` at `regs`:
/// `(orig_ax (the system call), cs, the registers)`.
#[inline(always)]
pub(crate) fn read_user_regs(regs: u64) -> Option<(u64, u64, UserRegs)> {
    let [nr, ip, cs, _flags, sp]: [u64; 5] = kread(regs + PT_REGS_TAIL).ok()?;
    Some((
        nr,
        cs,
        UserRegs {
            ip,
            sp,
            bp_at: regs + PT_REGS_BP as u64,
        },
    ))
}

/// Where the user registers are, relative to `task_struct.stack`
/// (`THREAD_SIZE` minus padding minus `sizeof(struct pt_regs)`: constant
/// for a kernel build, but not visible in BTF). Learned in `connect_open`
/// and `sock_destroy`, where `bpf_task_pt_regs` is available, for the
/// cgroup hooks, where it is not. User space closes a socket (under
/// `sock_destroy`) or makes one loopback connection (under the state hook)
/// at start so that it is known before the first connect or accept.
#[map]
pub(crate) static REGS_DELTA: Array<u64> = Array::with_max_entries(1, 0);

/// Records where the user registers are relative to the task's kernel
/// stack, for the cgroup hook (`REGS_DELTA`), once: an array lookup after
/// that.
#[inline(always)]
pub(crate) fn learn_regs_delta(task: Task) {
    let Some(delta) = REGS_DELTA.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the array's only slot; the value is the same whichever task
    // or CPU writes it.
    if unsafe { *delta } != 0 {
        return;
    }
    let stack = task.stack();
    if let Some(at) = as_number(1, task.pt_regs() as u64)
        && stack != 0
        && at > stack
    {
        // SAFETY: as above.
        unsafe { *delta = at - stack };
    }
}

/// The current task's user registers (`read_user_regs`), found through
/// `task_struct.stack` (read through `task` when the program has its BTF
/// pointer) and the learned `REGS_DELTA`.
#[inline(always)]
pub(crate) fn peer_regs(task: Option<Task>) -> Option<(u64, u64, UserRegs)> {
    let delta = *REGS_DELTA.get(0)?;
    if delta == 0 {
        return None;
    }
    let stack = match task {
        Some(task) => task.stack(),
        None => {
            // SAFETY: a helper without arguments.
            let task = unsafe { bpf_get_current_task() };
            kread(task + rodata(&OFFSETS).task_stack as u64).ok()?
        }
    };
    read_user_regs(stack + delta)
}

/// Per-CPU slots that turn a pointer into a plain number (the verifier
/// forbids arithmetic on socket pointers; the socket's address is the
/// `SOCKS` key and the base of the endpoint reads). Slot 0: the cgroup
/// hooks and the fexit accept, slot 1: `user_regs` and `learn_regs_delta`.
#[map]
pub(crate) static NUMBER_SLOT: PerCpuArray<u64> = PerCpuArray::with_max_entries(2, 0);

#[inline(always)]
pub(crate) fn as_number(slot: u32, v: u64) -> Option<u64> {
    let p = NUMBER_SLOT.get_ptr_mut(slot)?;
    // SAFETY: this CPU's slot; volatile so that the value read back is a
    // plain number, not the register that held the pointer.
    unsafe {
        core::ptr::write_volatile(p, v);
        Some(core::ptr::read_volatile(p))
    }
}
