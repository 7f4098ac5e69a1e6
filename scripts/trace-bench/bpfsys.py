"""The bpf(2) system call from Python (ctypes), for the empty-program
floors of the trace benchmarks (empty-raw-tp.py, empty-cgroup.py).
x86_64 (the system call number); needs root."""
import ctypes
import os
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_LOAD, BPF_RAW_TRACEPOINT_OPEN, BPF_LINK_CREATE = 5, 17, 28
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# Kept alive for the kernel to read at load time.
_LICENSE = ctypes.create_string_buffer(b"GPL")


def bpf(cmd, attr):
    """bpf(cmd, attr) -> fd; exits with the error's message on failure."""
    buf = ctypes.create_string_buffer(attr, 144)
    fd = _libc.syscall(SYS_BPF, cmd, buf, 144)
    if fd < 0:
        e = ctypes.get_errno()
        sys.exit(f"bpf({cmd}): {os.strerror(e)}")
    return fd


def load_constant_program(prog_type, r0, expected_attach_type=0):
    """Loads a 2-instruction program (r0 = r0; exit) of `prog_type`."""
    insns = struct.pack("<BBhi", 0xB7, 0, 0, r0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    ibuf = ctypes.create_string_buffer(insns, len(insns))
    # prog_type, insn_cnt, insns, license, log_level, log_size, log_buf,
    # kern_version, prog_flags, prog_name[16], prog_ifindex,
    # expected_attach_type
    return bpf(BPF_PROG_LOAD, struct.pack("<IIQQIIQII16sII", prog_type, 2,
                                          ctypes.addressof(ibuf), ctypes.addressof(_LICENSE),
                                          0, 0, 0, 0, 0, b"", 0, expected_attach_type))
