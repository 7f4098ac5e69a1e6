#!/usr/bin/env python3
"""Empty cgroup sock_addr programs (r0 = 1; exit: allow) attached by BPF
link to the root of the cgroup v2 hierarchy, as govkit attaches its connect
and getpeername hooks: the floor of having those hooks on the host at all
(overhead.sh's empty-cgroup variant).

    empty-cgroup.py [POINT...]
        POINT: connect4, connect6, getpeername4, getpeername6 (default:
        all four); attach, print "Attaching", hold until SIGINT.
Needs root; x86_64 (the bpf syscall number)."""
import ctypes
import os
import signal
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_LOAD, BPF_LINK_CREATE = 5, 28
BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18
# enum bpf_attach_type (linux/bpf.h)
POINTS = {"connect4": 10, "connect6": 11, "getpeername4": 29, "getpeername6": 30}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 144)
    fd = libc.syscall(SYS_BPF, cmd, buf, 144)
    if fd < 0:
        e = ctypes.get_errno()
        sys.exit(f"bpf({cmd}): {os.strerror(e)}")
    return fd


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    sys.exit("no cgroup2 mount")


points = sys.argv[1:] or list(POINTS)
insns = struct.pack("<BBhi", 0xB7, 0, 0, 1) + struct.pack("<BBhi", 0x95, 0, 0, 0)
ibuf = ctypes.create_string_buffer(insns, len(insns))
lic = ctypes.create_string_buffer(b"GPL")
root = os.open(cgroup2_root(), os.O_RDONLY | os.O_DIRECTORY)
links = []
for p in points:
    attach = POINTS[p]
    # prog_type, insn_cnt, insns, license, log_level, log_size, log_buf,
    # kern_version, prog_flags, prog_name[16], prog_ifindex,
    # expected_attach_type
    prog = bpf(BPF_PROG_LOAD, struct.pack("<IIQQIIQII16sII", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 2,
                                          ctypes.addressof(ibuf), ctypes.addressof(lic),
                                          0, 0, 0, 0, 0, b"", 0, attach))
    # prog_fd, target_fd, attach_type, flags
    links.append(bpf(BPF_LINK_CREATE, struct.pack("<IIII", prog, root, attach, 0)))
print("Attaching", " ".join(points), flush=True)
signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in background jobs
try:
    signal.pause()
except KeyboardInterrupt:
    pass
