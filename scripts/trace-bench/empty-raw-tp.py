#!/usr/bin/env python3
"""An empty BPF program (r0 = 0; exit) on a raw tracepoint: the floor of
watching that tracepoint through the raw-tracepoint path govkit uses
(bpftrace 0.17 has no rawtracepoint probes).

    empty-raw-tp.py TRACEPOINT[,TRACEPOINT...]
        attach it (one program on each), print "Attaching", hold it until
        SIGINT (overhead.sh's empty-state-raw variant, sched-overhead.sh's
        empty-raw);
    empty-raw-tp.py TRACEPOINT --toggle CONNLOOP CYCLES PHASE_MS SETTLE_MS
        the lock-in measurement of tracebpf/examples/hook_toggle.rs with
        this program: attached and detached in ABBA phases while connloop
        runs, its rate in the "on" phases over the "off" ones.
Needs root; x86_64 (the bpf syscall number)."""
import ctypes
import os
import signal
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpfsys import BPF_RAW_TRACEPOINT_OPEN, bpf, load_constant_program  # noqa: E402

BPF_PROG_TYPE_RAW_TRACEPOINT = 17

tp = sys.argv[1] if len(sys.argv) > 1 else "inet_sock_set_state"
prog = load_constant_program(BPF_PROG_TYPE_RAW_TRACEPOINT, 0)
name = ctypes.create_string_buffer(tp.encode())


def attach(tracepoint=name):
    return bpf(BPF_RAW_TRACEPOINT_OPEN, struct.pack("<QI", ctypes.addressof(tracepoint), prog))


if len(sys.argv) < 3:
    names = [ctypes.create_string_buffer(t.encode()) for t in tp.split(",")]
    links = [attach(n) for n in names]
    print("Attaching", tp, flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in background jobs
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    sys.exit(0)

_, _, _, connloop, cycles, phase_ms, settle_ms = sys.argv
cycles, phase, settle = int(cycles), int(phase_ms) / 1000, int(settle_ms) / 1000
counter = f"/dev/shm/empty-raw-tp-{os.getpid()}"
load = subprocess.Popen([connloop, str(cycles * 4 * (phase + settle) + 4), counter],
                        stdout=subprocess.DEVNULL)


def sample():
    with open(counter, "rb") as f:
        return struct.unpack("<QQ", f.read(16))


try:
    deadline = time.monotonic() + 10
    while not (os.path.exists(counter) and os.path.getsize(counter) == 16 and sample()[0]):
        if time.monotonic() > deadline:
            sys.exit(f"{counter}: the load did not start")
        time.sleep(0.01)
    time.sleep(1)
    link, phases = None, []
    for c in range(cycles):
        for on in ((True, False, False, True) if c % 2 == 0 else (False, True, True, False)):
            if on and link is None:
                link = attach()
            if not on and link is not None:
                os.close(link)
                link = None
            time.sleep(settle)
            n0, t0 = sample()
            time.sleep(phase)
            n1, t1 = sample()
            phases.append((on, (n1 - n0) / max(t1 - t0, 1) * 1e9))
finally:
    load.kill()
    load.wait()
    os.path.exists(counter) and os.unlink(counter)
ratios = []
for i in range(0, len(phases), 4):
    cycle = phases[i:i + 4]
    ratios.append(statistics.mean(r for o, r in cycle if o) / statistics.mean(r for o, r in cycle if not o))
q = statistics.quantiles(ratios, n=4)
se = statistics.stdev(ratios) / len(ratios) ** 0.5
print(f"{len(ratios)} cycles of empty raw_tracepoint/{tp} on/off; ratio = on / off")
print(f"   throughput: ratio median {statistics.median(ratios):.4f} (p25-p75 {q[0]:.3f}-{q[2]:.3f}), "
      f"mean {statistics.mean(ratios):.4f} ± {1.96 * se:.4f} (95 %)")
