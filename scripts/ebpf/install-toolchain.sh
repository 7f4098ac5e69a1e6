#!/usr/bin/env bash
# Install the toolchain that builds govkit's kernel-side eBPF programs
# (ebpf-programs/): a pinned nightly with rust-src, and bpf-linker linked
# against that nightly's own libLLVM (no system LLVM, no llvm-config).
#
# Idempotent: everything lands under $GOVKIT_EBPF_TOOLS/<pin> (default
# ~/.cache/govkit/ebpf/<pin>) and is reused while the pin is unchanged;
# bpf-linker has an rpath into that folder, so it is rebuilt when the pin moves.
# Prints the tools folder on stdout (the last line).
set -euo pipefail
cd "$(dirname "$0")/../.."

NIGHTLY=$(cat ebpf-programs/kernel/nightly-pin)
BPF_LINKER_VERSION=0.13.0
BASE=${GOVKIT_EBPF_TOOLS:-$HOME/.cache/govkit/ebpf}
TOOLS="$BASE/$NIGHTLY-bpf-linker-$BPF_LINKER_VERSION"

if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
   || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^rust-src' \
   || ! rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^llvm-tools'; then
    # llvm-tools: the llvm-objcopy that strips DWARF from the objects (the
    # kernel reads BTF, not DWARF), pinned with the compiler that wrote them.
    echo "installing $NIGHTLY with rust-src and llvm-tools" >&2
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --component llvm-tools >&2
fi

if [ ! -x "$TOOLS/bin/bpf-linker" ]; then
    sysroot=$(rustup run "$NIGHTLY" rustc --print sysroot)
    libllvm=$(ls "$sysroot"/lib/libLLVM.so.*-rust-* | head -n1)
    major=$(basename "$libllvm" | sed -E 's/^libLLVM\.so\.([0-9]+).*/\1/')
    mkdir -p "$TOOLS/llvm/lib"
    ln -sf "$libllvm" "$TOOLS/llvm/lib/libLLVM.so"
    ln -sf "$libllvm" "$TOOLS/llvm/lib/$(basename "$libllvm")"
    echo "building bpf-linker $BPF_LINKER_VERSION against $(basename "$libllvm") (LLVM $major)" >&2
    LLVM_PREFIX="$TOOLS/llvm" rustup run "$NIGHTLY" cargo install "bpf-linker@$BPF_LINKER_VERSION" \
        --locked --no-default-features --features "llvm-$major" --root "$TOOLS" >&2
fi
echo "$TOOLS"
