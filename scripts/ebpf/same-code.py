#!/usr/bin/env python3
"""Compares the programs of two builds of an eBPF object, function by
function: the instructions of every program and subprogram (the target
offset of a pc-relative call, which moves whenever a subprogram before it
grows, is masked). Debug info and symbol names (which carry module paths)
are ignored, so a restructuring of ebpf-programs/kernel that moves code
between modules shows as "identical" wherever it changed no instruction.

    scripts/ebpf/same-code.py OLD.bpf.o NEW.bpf.o

Prints each function with its instruction counts; exit 0 when every
function is identical, 1 otherwise. Needs pyelftools (pip)."""
import difflib
import sys

from elftools.elf.elffile import ELFFile

BPF_CALL = 0x85


def functions(path):
    with open(path, "rb") as f:
        elf = ELFFile(f)
        out, local = {}, 0
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC":
                continue
            data = elf.get_section(sym["st_shndx"]).data()
            body = data[sym["st_value"] : sym["st_value"] + sym["st_size"]]
            insns = []
            for i in range(0, len(body), 8):
                insn = bytearray(body[i : i + 8])
                if insn[0] == BPF_CALL and insn[1] >> 4 == 1:
                    insn[4:8] = bytes(4)
                insns.append(bytes(insn))
            if sym["st_info"]["bind"] == "STB_LOCAL":
                # subprograms, in link order: their names carry module paths
                name, local = f"subprogram #{local}", local + 1
            else:
                name = sym.name
            out[name] = insns
        return out


old, new = functions(sys.argv[1]), functions(sys.argv[2])
same = True
for name in sorted(set(old) | set(new)):
    a, b = old.get(name), new.get(name)
    if a == b:
        print(f"identical  {name} ({len(a)} insns)")
        continue
    same = False
    if a is None or b is None:
        print(f"only in {'new' if a is None else 'old'}: {name}")
        continue
    changed = sum(
        max(i2 - i1, j2 - j1)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if tag != "equal"
    )
    print(f"differs    {name} ({len(a)} -> {len(b)} insns, {changed} changed)")
sys.exit(0 if same else 1)
