//! Arbitrary bytes through every parser of untrusted input in
//! vendor-verify: Cargo.lock, `.cargo-checksum.json`, vendored Cargo.toml,
//! listed paths, PEM keys, signature files, cargo config. None may panic.
//! Run with `cargo +nightly fuzz run parsers` from `vendor-verify/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vendor_verify::fuzz_parsers(data);
});
