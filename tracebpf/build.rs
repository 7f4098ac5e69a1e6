//! Embeds the kernel-side objects committed in `objects/` (written by
//! `cargo xtask build-ebpf`, checked byte for byte against a rebuild from
//! source in CI). A stable toolchain alone therefore builds a working tracer.
//! `GOVKIT_EBPF_DIR` points at another folder of objects (a developer's
//! experiment); an object missing there embeds as empty and `govkit trace`
//! says how to build it.
use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo::rerun-if-env-changed=GOVKIT_EBPF_DIR");
    let dir =
        env::var_os("GOVKIT_EBPF_DIR").map_or_else(|| manifest.join("objects"), PathBuf::from);
    for name in [
        "govkit-trace.bpf.o",
        "govkit-sched.bpf.o",
        "govkit-sched-compat.bpf.o",
    ] {
        let object = dir.join(name);
        println!("cargo::rerun-if-changed={}", object.display());
        let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join(name);
        let bytes = fs::read(&object).unwrap_or_default();
        if let Err(e) = fs::write(&out, bytes) {
            println!("cargo::error=cannot write {}: {e}", out.display());
        }
    }
}
