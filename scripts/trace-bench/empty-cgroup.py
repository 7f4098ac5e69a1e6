#!/usr/bin/env python3
"""Empty cgroup sock_addr programs (r0 = 1; exit: allow) attached by BPF
link to the root of the cgroup v2 hierarchy, as govkit attaches its connect
and getpeername hooks: the floor of having those hooks on the host at all
(overhead.sh's empty-cgroup variant).

    empty-cgroup.py [POINT...]
        POINT: connect4, connect6, getpeername4, getpeername6 (default:
        all four); attach, print "Attaching", hold until SIGINT.
Needs root; x86_64 (the bpf syscall number)."""
import os
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpfsys import BPF_LINK_CREATE, bpf, load_constant_program  # noqa: E402

BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18
# enum bpf_attach_type (linux/bpf.h)
POINTS = {"connect4": 10, "connect6": 11, "getpeername4": 29, "getpeername6": 30}


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    sys.exit("no cgroup2 mount")


points = sys.argv[1:] or list(POINTS)
root = os.open(cgroup2_root(), os.O_RDONLY | os.O_DIRECTORY)
links = []
for p in points:
    attach = POINTS[p]
    prog = load_constant_program(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 1, attach)
    # prog_fd, target_fd, attach_type, flags
    links.append(bpf(BPF_LINK_CREATE, struct.pack("<IIII", prog, root, attach, 0)))
print("Attaching", " ".join(points), flush=True)
signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in background jobs
try:
    signal.pause()
except KeyboardInterrupt:
    pass
