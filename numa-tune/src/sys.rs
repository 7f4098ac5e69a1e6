//! The kernel calls behind pinning and memory binding.
//!
//! `sched_setaffinity`/`sched_getaffinity` through libc, and
//! `set_mempolicy`/`migrate_pages` as raw syscalls: these are exactly the
//! calls libnuma's `numa_set_membind` and `numa_migrate_pages` make, and
//! calling them directly keeps govkit, which is also a CI gate installed on
//! machines without libnuma, free of a runtime library dependency.
#![expect(
    unsafe_code,
    reason = "affinity and mempolicy are raw syscalls; each call is documented"
)]

use std::io;

use crate::cpulist::CpuSet;

/// `MPOL_BIND` from `<linux/mempolicy.h>`.
const MPOL_BIND: libc::c_int = 2;

/// Whether a call on a thread or process failed because it no longer
/// exists (`ESRCH`): it exited meanwhile, which callers report, not fail on.
#[must_use]
pub fn is_gone(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ESRCH)
}

/// The thread's (0 = calling thread) CPU affinity.
pub fn get_affinity(tid: u32) -> io::Result<CpuSet> {
    let pid =
        libc::pid_t::try_from(tid).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `cpu_set_t` is plain bits; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable cpu_set_t of the size passed.
    let rc = unsafe {
        libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &raw mut set)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = CpuSet::new();
    for cpu in 0..libc::CPU_SETSIZE as usize {
        // SAFETY: `cpu` is below CPU_SETSIZE, the size of `set`.
        if unsafe { libc::CPU_ISSET(cpu, &set) } {
            out.insert(u32::try_from(cpu).unwrap_or(u32::MAX));
        }
    }
    Ok(out)
}

/// Sets the CPU affinity of thread `tid` (0 = the calling thread).
pub fn set_affinity(tid: u32, cpus: &CpuSet) -> io::Result<()> {
    let pid =
        libc::pid_t::try_from(tid).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: zeroed cpu_set_t is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in cpus.iter() {
        let cpu = cpu as usize;
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        // SAFETY: `cpu` is below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe {
        libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &raw const set)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A node mask as the mempolicy syscalls take it: an array of `c_ulong`
/// bits and the number of bits (`maxnode`, one past the highest).
fn node_mask(nodes: &CpuSet) -> (Vec<libc::c_ulong>, libc::c_ulong) {
    let bits = libc::c_ulong::BITS as usize;
    let max = nodes.iter().max().map_or(0, |m| m as usize + 1);
    let mut mask = vec![0 as libc::c_ulong; max.div_ceil(bits).max(1)];
    for n in nodes.iter() {
        let n = n as usize;
        mask[n / bits] |= 1 << (n % bits);
    }
    // The kernel reads maxnode - 1 bits; pass one more than the mask holds.
    let maxnode = (mask.len() * bits + 1) as libc::c_ulong;
    (mask, maxnode)
}

/// Binds the calling thread's future allocations to `nodes` (`MPOL_BIND`),
/// inherited across `exec` like `numactl --membind`.
pub fn bind_memory(nodes: &CpuSet) -> io::Result<()> {
    let (mask, maxnode) = node_mask(nodes);
    // SAFETY: `mask` outlives the call and holds `maxnode - 1` bits.
    let rc = unsafe { libc::syscall(libc::SYS_set_mempolicy, MPOL_BIND, mask.as_ptr(), maxnode) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Restores the default memory policy (local allocation) of the calling
/// thread.
pub fn reset_memory_policy() -> io::Result<()> {
    // SAFETY: MPOL_DEFAULT takes no node mask (NULL, 0).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_set_mempolicy,
            0 as libc::c_int,
            std::ptr::null::<libc::c_ulong>(),
            0 as libc::c_ulong,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The node each page of `buf` is on (`move_pages(2)` in query mode: no
/// page moves); a negative entry is `-errno` for that page (e.g. -ENOENT
/// for a page not yet touched).
pub fn page_nodes(buf: &[u8]) -> io::Result<Vec<i32>> {
    // SAFETY: sysconf has no preconditions.
    let page =
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).map_err(io::Error::other)?;
    let start = buf.as_ptr() as usize;
    let first = start - start % page;
    let pages: Vec<*const libc::c_void> = (first..start + buf.len())
        .step_by(page)
        .map(|a| a as *const libc::c_void)
        .collect();
    let mut status = vec![0 as libc::c_int; pages.len()];
    // SAFETY: with a NULL node array the kernel only reports where each
    // page is; `pages` and `status` have the same length, which is passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            0 as libc::pid_t,
            pages.len() as libc::c_ulong,
            pages.as_ptr(),
            std::ptr::null::<libc::c_int>(),
            status.as_mut_ptr(),
            0 as libc::c_int,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}

/// Moves the pages of process `pid` that are on `from` to `to`
/// (`migrate_pages(2)`); returns the number of pages that could not move.
pub fn migrate_pages(pid: u32, from: &CpuSet, to: &CpuSet) -> io::Result<u64> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let both = CpuSet::from_ids(from.iter().chain(to.iter()));
    let (_, maxnode) = node_mask(&both);
    let (mut old, _) = node_mask(from);
    let (mut new, _) = node_mask(to);
    let len = old.len().max(new.len());
    old.resize(len, 0);
    new.resize(len, 0);
    // SAFETY: both masks outlive the call and hold `maxnode - 1` bits.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_migrate_pages,
            pid,
            maxnode,
            old.as_ptr(),
            new.as_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc.unsigned_abs())
}
