//! Arbitrary text through every parser of kernel text in numa-tune (CPU
//! lists and masks, numa_maps, task stat, node meminfo and distance). None
//! may panic. Run with `cargo +nightly fuzz run parsers` from `numa-tune/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        numa_tune::fuzz_parsers(text);
    }
});
